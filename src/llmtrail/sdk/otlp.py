"""Spans as OTLP protobuf, with the attributes the server's mapping reads
(`api/otlp/mapping`, docs/opentelemetry.md) so each span becomes the log it describes.

Imported by the sender's thread when it first exports: importing the SDK does not pay for
protobuf.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Status
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanMessage

from llmtrail import __version__
from llmtrail.sdk.encoding import describe

if TYPE_CHECKING:
    from llmtrail.sdk.tracing import Span

# A span's kind as the log type the server reads from `keywordsai.entity.log_type`.
LOG_TYPES = {"llm": "generation"}
# The input and output keys the server reads for every log type; Traceloop's
# (`traceloop.entity.input`) are not read for model calls.
INPUT, OUTPUT = "langfuse.observation.input", "langfuse.observation.output"
MAX_ATTRIBUTE_CHARS = 1 << 20  # JSON text of an attribute that is not a scalar


def attributes(span: Span) -> dict[str, Any]:
    """The span's fields as mapped attributes; those it was given itself win."""
    found: dict[str, Any] = {
        "keywordsai.entity.log_type": LOG_TYPES.get(span.kind, span.kind),
        "traceloop.entity.name": span.name,
        "traceloop.workflow.name": span.workflow,
        INPUT: span.inputs,
        OUTPUT: span.output,
        "keywordsai.metadata": describe(span.metadata, MAX_ATTRIBUTE_CHARS)
        if span.metadata
        else None,
    }
    return {**found, **span.attributes}


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(
        string_value=value if isinstance(value, str) else describe(value, MAX_ATTRIBUTE_CHARS)
    )


def _key_values(values: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in values.items() if v is not None]


def _message(span: Span) -> SpanMessage:
    end = span.end_ns or span.start_ns
    events, status = [], Status()
    if span.error is not None:  # an ERROR status fails the log; the event keeps the stack
        status = Status(code=Status.STATUS_CODE_ERROR, message=span.error.message)
        exception = {
            "exception.type": span.error.type,
            "exception.message": span.error.message,
            "exception.stacktrace": span.error.stacktrace,
        }
        events.append(
            SpanMessage.Event(
                time_unix_nano=end, name="exception", attributes=_key_values(exception)
            )
        )
    return SpanMessage(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_id or b"",
        name=span.name,
        kind=SpanMessage.SPAN_KIND_INTERNAL,
        start_time_unix_nano=span.start_ns,
        end_time_unix_nano=end,
        attributes=_key_values(attributes(span)),
        events=events,
        status=status,
    )


def encode(spans: Sequence[Span], resource: Mapping[str, Any]) -> bytes:
    """One `ExportTraceServiceRequest` of `spans`, all under `resource`."""
    scope = InstrumentationScope(name="llmtrail.sdk", version=__version__)
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=_key_values(resource)),
                scope_spans=[ScopeSpans(scope=scope, spans=[_message(s) for s in spans])],
            )
        ]
    )
    return request.SerializeToString()


def rejected(answer: bytes) -> tuple[int, str]:
    """How many spans the server refused (its `partial_success`), and why."""
    partial = ExportTraceServiceResponse.FromString(answer).partial_success
    return partial.rejected_spans, partial.error_message
