"""The OTLP/HTTP surface: `POST /v1/traces` (also where the Keywords AI and Respan tracing SDKs
export), `/v1/logs` for GenAI events, `/v1/metrics` accepted and discarded, and the Humanloop
SDK's `/v5/import/otel/v1/traces`, which answers the ids of the logs, not OTLP.

Bodies are protobuf or OTLP/JSON, read here under the OTLP limit; every answer, errors
included, is in the request's encoding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request, Response
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmtrail.api.auth import SECURITY_SCHEMES, principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.otlp import export, grpc_server, humanloop, wire
from llmtrail.api.otlp.errors import OtlpErrors
from llmtrail.api.otlp.responses import ExportResponse, HumanloopRecords, documented, request_body
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.core.keys import Principal

surface = Surface(
    "OpenTelemetry",
    errors=OtlpErrors(),
    auth=principal,
    security=SECURITY_SCHEMES,
    validation_status=400,
    reads_bodies=True,
    service=grpc_server.serving,
)
router = surface.router
TRACE_PATHS = ("/v1/traces", "/api/v1/traces", "/api/v1/traces/ingest")
# What an export is answered with: a protobuf message, or (Humanloop's import) plain JSON.
Handle = Callable[[Backend, Principal, Any], Awaitable[Message | dict[str, Any]]]


async def _export(
    request: Request,
    backend: Backend,
    who: Principal,
    message: type[Message],
    handle: Handle,
    untyped: str | None = None,
) -> Response:
    """Read, decode and handle an export; its answer (or refusal) in the request's encoding
    (`untyped`: the encoding of a body sent without a Content-Type, if the route knows it)."""
    errors = OtlpErrors().for_request(request)
    limit = backend.settings.otlp_max_body_bytes
    try:
        encoding = wire.encoding_of(request.headers.get("content-type") or untyped)
        body = await wire.read(request.stream(), request.headers.get("content-encoding"), limit)
        answer = await handle(backend, who, wire.parse(message, body, encoding))
    except wire.Refused as exc:
        return errors.refused(exc.status, exc.message, violations=exc.violations)
    if isinstance(answer, Message):
        return Response(wire.encode(answer, encoding), media_type=encoding)
    return JSONBody(answer)


async def _traces(backend: Backend, who: Principal, request: Any) -> Message:
    return export.trace_response(await export.store_spans(backend, who, request))


async def _logs(backend: Backend, who: Principal, request: Any) -> Message:
    return await export.store_events(backend, who, request)


async def _metrics(_backend: Backend, _who: Principal, request: Any) -> Message:
    return export.discard_metrics(request)


def _route(path: str, summary: str, message: type[Message], handle: Handle) -> None:
    async def endpoint(
        request: Request,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        return await _export(request, backend, who, message, handle)

    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        summary=summary,
        responses=documented(
            ExportResponse,
            "Stored (committed); `partialSuccess` names what was rejected, and warnings",
        ),
        openapi_extra=request_body(message.__name__),
        operation_id=f"otlp_{path.strip('/').replace('/', '_')}",
    )


for _path in TRACE_PATHS:
    _route(_path, "Export spans (OTLP/HTTP)", ExportTraceServiceRequest, _traces)
_route("/v1/logs", "Export GenAI events (OTLP/HTTP logs)", ExportLogsServiceRequest, _logs)
_route(
    "/v1/metrics", "Export metrics: accepted and discarded", ExportMetricsServiceRequest, _metrics
)


@router.post(
    "/v5/import/otel/v1/traces",
    summary="Import spans from the Humanloop SDK's decorators",
    description="OTLP `TracesData` as JSON; answers the ids of the logs the spans became.",
    responses=documented(HumanloopRecords, "Stored; the log of each span, in order"),
    openapi_extra=request_body("TracesData"),
)
async def humanloop_import(
    request: Request,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    # The SDK sends its JSON without a Content-Type.
    return await _export(request, backend, who, ExportTraceServiceRequest, _humanloop, wire.JSON)


async def _humanloop(backend: Backend, who: Principal, request: Any) -> dict[str, Any]:
    return {"records": await humanloop.import_spans(backend, who, request)}
