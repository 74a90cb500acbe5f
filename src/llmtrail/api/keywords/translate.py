"""Keywords AI wire shapes <-> the domain's `LogData`.

Aliases are normalised on the way in (`generation_time`, `ttft`, `usage{...}`,
`customer_params`, `prompt_messages`/`input`, `completion_message`/`output`); on the way
out a stored row becomes the log object the Keywords AI SDKs parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from llmtrail.api.keywords.schemas import CreateLog
from llmtrail.api.wire import json_text
from llmtrail.core.ids import iso, to_utc_naive
from llmtrail.core.logs import LOG_FIELDS, LogData

# RS LOG_TYPE_MAP: older or other names for the stored log types.
LOG_TYPE_ALIASES = {"trace": "workflow", "step": "task", "function": "tool", "llm": "generation"}
LOG_TYPE_ALIASES["model"] = "generation"
CHAT_TYPES = {"chat", "completion", "response", "text", "generation"}
# Gateway controls the SDK may send along; they steer a proxy, they are not telemetry.
CONTROLS = {
    "keywordsai_api_controls",
    "respan_api_controls",
    "disable_log",
    "disable_fallback",
    "fallback_models",
    "field_name",
    "delimiter",
    "request_breakdown",
    "environment",
}
# Body fields consumed into columns (directly or through an alias), hence not kept in `extra`.
_CONSUMED = set(CreateLog.model_fields) | set(LOG_FIELDS) | CONTROLS


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def to_log_data(body: CreateLog) -> LogData:
    """Map one validated create body onto the domain log."""
    data = body.model_dump(exclude_unset=True)
    usage = data.get("usage") or {}
    customer = data.get("customer_params") or {}
    prompt = data.get("prompt")
    log_type = data.get("log_type") or "chat"
    log_type = LOG_TYPE_ALIASES.get(log_type, log_type)

    prompt_messages = data.get("prompt_messages")
    if data.get("messages"):
        prompt_messages = (prompt_messages or []) + data["messages"]
    inp, out = data.get("input"), data.get("output")
    completion = data.get("completion_message")
    if log_type in CHAT_TYPES:
        if prompt_messages is None and _is_messages(inp):
            prompt_messages = inp
        if completion is None and isinstance(out, dict) and "role" in out:
            completion = out
    if inp is None:
        inp = prompt_messages
    if out is None:
        out = completion

    prompt_tokens, cache_read, cache_write = _input_tokens(data, usage)
    log = LogData(
        unique_id=data.get("unique_id") or "",
        log_type=log_type,
        log_method=data.get("log_method") or "logging_api",
        log_status=data.get("log_status"),
        timestamp=to_utc_naive(data.get("timestamp")),
        start_time=to_utc_naive(data.get("start_time")),
        model=data.get("model"),
        provider_id=data.get("provider_id"),
        status=data.get("status"),
        status_code=data.get("status_code"),
        error_message=data.get("error_message"),
        prompt_tokens=prompt_tokens,
        completion_tokens=_first(
            data.get("completion_tokens"),
            usage.get("completion_tokens"),
            usage.get("output_tokens"),
        ),
        total_request_tokens=_first(data.get("total_request_tokens"), usage.get("total_tokens")),
        prompt_cache_hit_tokens=cache_read,
        prompt_cache_creation_tokens=cache_write,
        reasoning_tokens=_first(
            data.get("reasoning_tokens"),
            (usage.get("completion_tokens_details") or {}).get("reasoning_tokens"),
        ),
        cost=data.get("cost"),
        latency=_first(data.get("latency"), data.get("generation_time")),
        time_to_first_token=_first(data.get("time_to_first_token"), data.get("ttft")),
        tokens_per_second=data.get("tokens_per_second"),
        routing_time=data.get("routing_time"),
        customer_identifier=_text(
            _first(data.get("customer_identifier"), customer.get("customer_identifier"))
        ),
        customer_email=_first(data.get("customer_email"), customer.get("email")),
        customer_name=_first(data.get("customer_name"), customer.get("name")),
        thread_identifier=_text(data.get("thread_identifier")),
        session_identifier=_text(
            _first(
                data.get("session_identifier"),
                data.get("thread_identifier"),
                data.get("trace_group_identifier"),
            )
        ),
        custom_identifier=_text(data.get("custom_identifier")),
        group_identifier=_text(data.get("group_identifier")),
        evaluation_identifier=_text(data.get("evaluation_identifier")),
        prompt_id=_text(
            _first(
                data.get("prompt_id"), prompt.get("prompt_id") if isinstance(prompt, dict) else None
            )
        ),
        prompt_name=data.get("prompt_name"),
        trace_unique_id=data.get("trace_unique_id"),
        span_unique_id=data.get("span_unique_id"),
        span_parent_id=data.get("span_parent_id"),
        span_name=_first(data.get("span_name"), data.get("trace_name")),
        span_workflow_name=data.get("span_workflow_name"),
        stream=bool(data.get("stream")),
        positive_feedback=data.get("positive_feedback"),
        note=data.get("note"),
        input=inp,
        output=out,
        prompt_messages=prompt_messages,
        completion_message=completion,
        metadata=data.get("metadata"),
    )
    extra = {k: v for k, v in data.items() if k not in _CONSUMED}
    if isinstance(prompt, str) or (isinstance(prompt, dict) and len(prompt) > 1):
        extra["prompt"] = prompt
    for key in ("completion_messages", "category", "trace_name"):
        if data.get(key) is not None:
            extra[key] = data[key]
    log.extra = extra or None
    return log


def _input_tokens(data: dict[str, Any], usage: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Prompt tokens (cached included) and the cache read/write counts, from any usage shape.

    OpenAI counts cached tokens inside `prompt_tokens`; Anthropic's `input_tokens` leaves
    them out, so its cache counts are added back.
    """
    details = usage.get("prompt_tokens_details") or {}
    read = _first(
        data.get("prompt_cache_hit_tokens"),
        details.get("cached_tokens"),
        usage.get("cache_read_input_tokens"),
    )
    write = _first(
        data.get("prompt_cache_creation_tokens"),
        usage.get("cache_creation_prompt_tokens"),
        usage.get("cache_creation_input_tokens"),
    )
    prompt = _first(data.get("prompt_tokens"), usage.get("prompt_tokens"))
    if prompt is None and usage.get("input_tokens") is not None:
        prompt = usage["input_tokens"]
        if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
            prompt += (usage.get("cache_read_input_tokens") or 0) + (
                usage.get("cache_creation_input_tokens") or 0
            )
    return prompt, read, write


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value)


def log_object(
    row: Row | Mapping[str, Any], scores: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A stored log in the Keywords AI shape (the Get-a-span object of contract §1.4), with
    its `scores` by evaluator id (`evaluation_shapes.log_scores`)."""
    r = row._mapping if isinstance(row, Row) else row
    out: dict[str, Any] = dict(r["extra"] or {})
    for name in LOG_FIELDS:
        if name != "extra":
            out[name] = r[name]
    metadata = r["metadata"] or {}
    out.update(
        id=r["unique_id"],
        # `input`/`output` travel as strings on read, as the SDK's log type declares them.
        input=json_text(r["input"]),
        output=json_text(r["output"]),
        timestamp=iso(r["timestamp"]),
        start_time=iso(r["start_time"]),
        end_time=iso(r["end_time"]),
        created_at=iso(r["created_at"]),
        metadata={k: v for k, v in metadata.items() if not str(k).startswith("_")},
        environment=r["environment"],
        organization_key_id=_text(r["api_key_id"]),
        failed=r["status"] == "failed",
        scores=scores or {},
    )
    if isinstance(out.get("warnings"), (dict, list)):
        out["warnings"] = json_text(out["warnings"])
    return out


def created_object(row: dict[str, Any]) -> dict[str, Any]:
    """The create answer: the stored log's identifying fields, plus the SDK's message."""
    return {
        "id": row["unique_id"],
        "unique_id": row["unique_id"],
        "organization_id": row["org_id"],
        "customer_identifier": row["customer_identifier"],
        "status": row["status"],
        "cost": row["cost"],
        "timestamp": iso(row["timestamp"]),
        "environment": row["environment"],
        "latency": row["latency"],
        "time_to_first_token": row["time_to_first_token"],
        "prompt_cache_creation_tokens": row["prompt_cache_creation_tokens"],
        "prompt_cache_hit_tokens": row["prompt_cache_hit_tokens"],
        "message": "log successful",
    }
