"""OTLP/JSON bodies the tests send: the contract's worked example (§5.6) and helpers."""

from __future__ import annotations

import json
import os
from typing import Any

TRACE = "5B8EFFF798038103D269B633813FC60C"


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def worked_example(trace: str = TRACE) -> dict[str, Any]:
    """The chat span of contract §5.6, in its resource."""
    messages = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
    output = [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_call",
        }
    ]
    span = {
        "traceId": trace,
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "EEE19B7EC3C1B173",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661250000000",
        "attributes": [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.provider.name", "openai"),
            attr("gen_ai.request.model", "gpt-4o"),
            attr("gen_ai.response.model", "gpt-4o-2024-08-06"),
            attr("gen_ai.request.temperature", 0.2),
            attr("gen_ai.usage.input_tokens", 120),
            attr("gen_ai.usage.output_tokens", 15),
            attr("gen_ai.usage.cache_read.input_tokens", 100),
            attr("gen_ai.response.time_to_first_chunk", 0.42),
            attr("gen_ai.conversation.id", "conv_1"),
            attr(
                "gen_ai.system_instructions",
                json.dumps([{"type": "text", "content": "Be brief."}]),
            ),
            attr("gen_ai.input.messages", json.dumps(messages)),
            attr("gen_ai.output.messages", json.dumps(output)),
        ],
        "status": {},
    }
    return export([span])


RESOURCE = {"service.name": "support-bot", "deployment.environment.name": "production"}


def export(spans: list[dict[str, Any]], resource: dict[str, str] | None = None) -> dict:
    attributes = [attr(k, v) for k, v in (resource or RESOURCE).items()]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes},
                "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}],
            }
        ]
    }


def span(
    name: str, trace: str, span_id: str | None = None, parent: str | None = None, **attrs: Any
) -> dict:
    """A plain span of `trace` (hex ids; a random span id unless given)."""
    out: dict[str, Any] = {
        "traceId": trace,
        "spanId": span_id or os.urandom(8).hex(),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000500000000",
        "attributes": [attr(k.replace("__", "."), v) for k, v in attrs.items()],
    }
    if parent:
        out["parentSpanId"] = parent
    return out


# What the worked example must become (§5.6), field by field, as a stored log reads back.
EXPECTED = {
    "trace_unique_id": "5b8efff798038103d269b633813fc60c",
    "span_unique_id": "eee19b7ec3c1b174",
    "span_parent_id": "eee19b7ec3c1b173",
    "span_name": "chat gpt-4o",
    "log_type": "chat",
    "model": "gpt-4o-2024-08-06",
    "provider_id": "openai",
    "prompt_messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ],
    "completion_message": {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    "prompt_tokens": 120,
    "completion_tokens": 15,
    "total_request_tokens": 135,
    "prompt_cache_hit_tokens": 100,
    "temperature": 0.2,
    "latency": 1.25,
    "time_to_first_token": 0.42,
    "status": "success",
    "status_code": 200,
    "thread_identifier": "conv_1",
}
EXPECTED["tool_calls"] = EXPECTED["completion_message"]["tool_calls"]  # type: ignore[index]
