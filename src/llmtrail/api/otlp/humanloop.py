"""`/v5/import/otel/v1/traces`: where the `humanloop` SDK's decorators send each span.

The SDK writes a Humanloop log's fields into span attributes, flattened (`humanloop.log.*`,
`humanloop.file.*`, every value as `str(value)`), and expects the ids of the logs back:
- a `@flow` span completes the Flow log the decorator created through the REST API
  (`humanloop.log.id`) with its output or error;
- a `@tool` span, and an OpenLLMetry LLM span inside `@prompt`, become Tool and Prompt logs of
  their File, nested under the Flow log (`humanloop.log.trace_parent_id`), as if sent to
  `tools/log` and `prompts/log` (the same translation and rules);
- any other span is stored as on `/v1/traces`.
A span's log id derives from its span ids, so a span sent twice is stored once.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmtrail.api.backend import Backend
from llmtrail.api.humanloop import schemas
from llmtrail.api.humanloop.logs import log_to_file, update_file_log
from llmtrail.api.otlp import export
from llmtrail.api.otlp.mapping.attributes import decode_all
from llmtrail.api.otlp.mapping.spans import Origin, log_id, span_ids, to_log
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal

FILE_TYPE, LOG, FILE = "humanloop.file.type", "humanloop.log", "humanloop.file"
PROMPT_PARAMETERS = ("temperature", "max_tokens", "top_p", "presence_penalty", "frequency_penalty")


def nested(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The object the SDK flattened under `prefix` (objects of numbered keys are lists)."""
    root: dict[str, Any] = {}
    start = prefix + "."
    for key, value in values.items():
        if not key.startswith(start):
            continue
        node = root
        *parents, last = key[len(start) :].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


async def import_spans(
    backend: Backend, who: Principal, request: ExportTraceServiceRequest
) -> list[str]:
    ids: list[str] = []
    others = ExportTraceServiceRequest()
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                values = decode_all(span.attributes)
                kind = values.get(FILE_TYPE)
                if kind == FileType.FLOW.value:
                    ids.append(await _complete_flow(backend, who, values))
                elif kind in (FileType.TOOL.value, FileType.PROMPT.value):
                    ids.append(await _file_log(backend, who, span, values, FileType(kind)))
                else:
                    group = others.resource_spans.add(resource=resource_spans.resource)
                    group.scope_spans.add(scope=scope_spans.scope).spans.append(span)
    if others.resource_spans:
        ids += (await export.store_spans(backend, who, others)).ids
    return ids


async def _complete_flow(backend: Backend, who: Principal, values: dict[str, Any]) -> str:
    fields = nested(values, LOG)
    flow_id = str(fields.pop("id"))
    update = schemas.FlowLogUpdate.model_validate(fields)
    await update_file_log(backend, who, flow_id, update, FileType.FLOW, source="humanloop:otel")
    return flow_id


async def _file_log(
    backend: Backend, who: Principal, span: Span, values: dict[str, Any], kind: FileType
) -> str:
    trace_id, span_id, _ = span_ids(span)
    fields = nested(values, LOG)
    kernel = {k: v for k, v in nested(values, FILE).items() if k not in ("type", "path")}
    log, _ = to_log(span, Origin())
    body: dict[str, Any] = {
        **fields,
        "path": values.get("humanloop.file.path"),
        "log_id": "log_" + log_id(trace_id, span_id),
        "start_time": log.start_time,
        "end_time": log.end_time,
    }
    if kind is FileType.TOOL:
        parsed: schemas.LogBody = schemas.ToolLogBody.model_validate({**body, "tool": kernel})
    else:
        extra = log.extra or {}
        prompt = {"model": log.model, "provider": log.provider_id, **kernel}
        prompt.update({k: extra[k] for k in PROMPT_PARAMETERS if k in extra})
        completion = log.completion_message or {}
        content = completion.get("content")
        body.update(
            prompt={k: v for k, v in prompt.items() if v is not None},
            messages=log.prompt_messages,
            output_message=log.completion_message,
            output=content if isinstance(content, str) else None,
            prompt_tokens=log.prompt_tokens,
            output_tokens=log.completion_tokens,
            provider_latency=log.latency,
            error=log.error_message,
        )
        parsed = schemas.PromptLogBody.model_validate(body)
    row = await log_to_file(backend, who, kind, parsed, spans=True)
    return row["unique_id"]
