"""What an export does, over HTTP or gRPC alike: its spans mapped and stored through the group
writer (acknowledged means committed; a re-delivered span is not stored twice), answered
with `partial_success` naming what was rejected or changed."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from llmtrail.api.backend import Backend, masking
from llmtrail.api.otlp.mapping import events
from llmtrail.api.otlp.mapping.batch import spans_of
from llmtrail.core.ingest import FillEmpty, write_logs
from llmtrail.core.keys import Principal
from llmtrail.store.writer import apply

METRICS_DISCARDED = "llmtrail stores traces and GenAI events; these metrics were discarded"


@dataclass(frozen=True)
class Stored:
    ids: list[str]  # the logs of the spans accepted, in order
    rejected: int
    message: str


async def store_spans(
    backend: Backend, who: Principal, request: ExportTraceServiceRequest
) -> Stored:
    batch = spans_of(request)
    if batch.logs:
        policy = await masking(backend, who)
        await write_logs(backend.writer, who, batch.logs, spans=True, policy=policy)
    return Stored([log.unique_id for log in batch.logs], len(batch.rejected), batch.message())


def trace_response(stored: Stored) -> ExportTraceServiceResponse:
    answer = ExportTraceServiceResponse()
    if stored.rejected or stored.message:
        answer.partial_success.rejected_spans = stored.rejected
        answer.partial_success.error_message = stored.message
    return answer


async def store_events(
    backend: Backend, who: Principal, request: ExportLogsServiceRequest
) -> ExportLogsServiceResponse:
    """GenAI event records fill the messages of the spans they name (§2.6), masked as new
    logs are."""
    found = events.of(request)
    applied = 0
    if found.by_span:
        fill = FillEmpty(who.org_id, found.by_span).masked(await masking(backend, who))
        applied = await apply(backend.writer, fill)
    answer = ExportLogsServiceResponse()
    message = found.message(applied)
    if found.rejected or message:
        answer.partial_success.rejected_log_records = found.rejected
        answer.partial_success.error_message = message
    return answer


def discard_metrics(_request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
    answer = ExportMetricsServiceResponse()
    answer.partial_success.error_message = METRICS_DISCARDED
    return answer
