"""OTLP/gRPC: the `TraceService/Export` service, on the server's event loop and writer.

Each server process (`serve --workers`) binds the port with SO_REUSEPORT, so they share it.
The key comes in the call's metadata (`authorization: Bearer KEY` or `x-api-key: KEY`).
Answers follow the OTLP spec for gRPC: UNAUTHENTICATED for a bad key, INVALID_ARGUMENT for
a refused export, RESOURCE_EXHAUSTED with a RetryInfo when the writer is overloaded (the
exporter retries after it), UNAVAILABLE (with a RetryInfo) while the writer restarts or the
database is not answering, and `partial_success`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2
from grpc import aio
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from llmtrail.api.auth import verify
from llmtrail.api.backend import Backend
from llmtrail.api.errors import overloaded, unreachable
from llmtrail.api.otlp import export, wire
from llmtrail.api.otlp.errors import KEYS
from llmtrail.core import roles
from llmtrail.errors import DomainError, Forbidden, Unauthorized, Unavailable
from llmtrail.store.admission import Overloaded
from llmtrail.store.database import lost_database
from llmtrail.store.writer_process import WriterGone

log = logging.getLogger(__name__)
GRACE_SECONDS = 5


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def Export(
        self, request: ExportTraceServiceRequest, context: aio.ServicerContext
    ) -> ExportTraceServiceResponse:
        metadata = {
            k.lower(): v for k, v in context.invocation_metadata() or () if isinstance(v, str)
        }
        try:
            who = await verify(self.backend, metadata)
            roles.may_write(who)
            stored = await export.store_spans(self.backend, who, request)
        except Unauthorized as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"{exc.message} {KEYS}.")
        except Forbidden as exc:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, exc.message)
        except Overloaded as exc:
            await _abort_retry(
                context, grpc.StatusCode.RESOURCE_EXHAUSTED, overloaded(exc), exc.retry_after
            )
        except WriterGone as exc:
            await _abort_retry(context, grpc.StatusCode.UNAVAILABLE, unreachable(exc), 1)
        except Unavailable as exc:  # the database is not answering the writer
            seconds = max(1, math.ceil(exc.retry_after or 1))
            await _abort_retry(context, grpc.StatusCode.UNAVAILABLE, exc.message, seconds)
        except DomainError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        except Exception as exc:
            if not lost_database(exc):  # a read (the key's) that PostgreSQL did not answer
                raise
            await _abort_retry(context, grpc.StatusCode.UNAVAILABLE, unreachable(exc), 1)
        return export.trace_response(stored)


async def _abort_retry(
    context: aio.ServicerContext, code: grpc.StatusCode, message: str, seconds: int
) -> None:
    """Abort with a `google.rpc.RetryInfo` in the status details: the OTLP exporter waits
    that long before it retries."""
    status = wire.status(code.value[0], message)
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=Duration(seconds=seconds)))
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    await context.abort(code, message)


async def start(backend: Backend) -> aio.Server | None:
    """The receiver, serving on `LLMTRAIL_OTLP_GRPC_PORT`; None when it is off or the port
    is taken (said on stderr: the HTTP API serves on)."""
    settings = backend.settings
    if not settings.otlp_grpc_port:
        return None
    limit = settings.otlp_max_body_bytes
    server = aio.server(
        options=[
            ("grpc.so_reuseport", 1),
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ]
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(backend), server)
    address = f"{settings.otlp_grpc_host}:{settings.otlp_grpc_port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        log.error(
            "OTLP/gRPC is off: %s is taken (set LLMTRAIL_OTLP_GRPC_PORT to another port, or 0); "
            "the HTTP API and OTLP/HTTP serve on",
            address,
        )
        return None
    await server.start()
    return server


@asynccontextmanager
async def serving(backend: Backend) -> AsyncIterator[None]:
    """The receiver for as long as the server runs (the surface's `service`)."""
    server = await start(backend)
    try:
        yield
    finally:
        if server is not None:
            await server.stop(GRACE_SECONDS)
