"""An export's spans as logs: every span that can be a log, and a line for each one that
cannot (or that was mapped with a warning), for the answer's `partial_success`."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmtrail.api.otlp.mapping.attributes import decode_all
from llmtrail.api.otlp.mapping.spans import Origin, SpanRejected, to_log
from llmtrail.core.logs import LogData

MAX_LINES = 100  # lines named in a message; the rest are counted


@dataclass
class Batch:
    logs: list[LogData] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "path: reason"
    warnings: list[str] = field(default_factory=list)

    def message(self) -> str:
        """What `partial_success.error_message` says: each rejected span, then warnings."""
        lines = [f"rejected {line}" for line in self.rejected] + self.warnings
        shown = "; ".join(lines[:MAX_LINES])
        more = len(lines) - MAX_LINES
        return shown + (f"; and {more} more" if more > 0 else "")


def spans_of(request: ExportTraceServiceRequest) -> Batch:
    batch = Batch()
    for r, resource_spans in enumerate(request.resource_spans):
        resource = decode_all(resource_spans.resource.attributes)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            scope = scope_spans.scope
            origin = Origin(resource, _scope(scope.name, scope.version, scope.attributes))
            for i, span in enumerate(scope_spans.spans):
                path = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                try:
                    log, warnings = to_log(span, origin)
                except SpanRejected as exc:
                    batch.rejected.append(f"{path}: {exc}")
                    continue
                batch.logs.append(log)
                batch.warnings += [f"{path}: {w}" for w in warnings]
    return batch


def _scope(name: str, version: str, attributes: object) -> dict[str, object]:
    found = {"name": name, "version": version, "attributes": decode_all(attributes)}  # type: ignore[arg-type]
    return {k: v for k, v in found.items() if v}
