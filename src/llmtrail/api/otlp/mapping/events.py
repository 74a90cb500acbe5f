"""GenAI event log records (`/v1/logs`, contract §2.6) as the messages of the spans they
name: deprecated message events, `gen_ai.choice`, the v1.37+ operation details, and
exception records. Ordered by time, then by arrival."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from llmtrail.api.otlp.mapping import messages as m
from llmtrail.api.otlp.mapping.attributes import decode, decode_all
from llmtrail.api.otlp.mapping.spans import log_id

DETAILS = "gen_ai.client.inference.operation.details"
EXCEPTION = "gen_ai.client.operation.exception"


@dataclass
class Found:
    by_span: dict[str, dict[str, Any]] = field(default_factory=dict)  # log id -> its columns
    rejected: list[str] = field(default_factory=list)
    ignored: int = 0  # records that are no GenAI event

    def message(self, applied: int) -> str:
        lines = [f"rejected {line}" for line in self.rejected[:100]]
        if self.ignored:
            lines.append(f"{self.ignored} log records are no GenAI events and were not stored")
        if missing := len(self.by_span) - applied:
            lines.append(f"{missing} spans named by events had no log with empty messages")
        return "; ".join(lines)


def of(request: ExportLogsServiceRequest) -> Found:
    found = Found()
    said: dict[str, list[tuple[int, int, str, Any]]] = {}
    arrival = 0
    for r, resource_logs in enumerate(request.resource_logs):
        for s, scope_logs in enumerate(resource_logs.scope_logs):
            for i, record in enumerate(scope_logs.log_records):
                attrs = decode_all(record.attributes)
                name = record.event_name or str(attrs.get("event.name") or "")
                if not name.startswith("gen_ai."):
                    found.ignored += 1
                    continue
                if len(record.trace_id) != 16 or len(record.span_id) != 8:
                    path = f"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]"
                    found.rejected.append(f"{path}: a GenAI event must name its span")
                    continue
                key = log_id(record.trace_id.hex(), record.span_id.hex())
                body = decode(record.body) if record.HasField("body") else attrs
                arrival += 1
                said.setdefault(key, []).append((record.time_unix_nano, arrival, name, body))
    for key, items in said.items():
        found.by_span[key] = _columns([(name, body) for *_, name, body in sorted(items)])
    return found


def _columns(items: list[tuple[str, Any]]) -> dict[str, Any]:
    warnings: list[str] = []
    prompt: list[m.Message] = []
    completion: list[m.Message] = []
    columns: dict[str, Any] = {}
    for name, body in items:
        if name == DETAILS and isinstance(body, dict):
            prompt += m.genai_messages(body.get("gen_ai.input.messages"), warnings) or []
            completion += m.genai_messages(body.get("gen_ai.output.messages"), warnings) or []
        elif name == EXCEPTION and isinstance(body, dict):
            parts = (body.get("exception.type"), body.get("exception.message"))
            columns["error_message"] = ": ".join(str(p) for p in parts if p) or name
        elif (message := m.event_message(name, body, warnings)) is not None:
            (prompt if message[0] == "prompt" else completion).append(message[1])
    if prompt:
        columns["prompt_messages"] = columns["input"] = prompt
    if completion:
        columns["completion_message"] = columns["output"] = completion[0]
    return columns
