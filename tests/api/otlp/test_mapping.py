"""The span -> log mapping, in process: the contract's worked example and each convention."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmtrail.api.otlp import wire
from llmtrail.api.otlp.mapping.batch import spans_of
from llmtrail.api.otlp.mapping.spans import log_id
from llmtrail.core.logs import LogData, finalize
from tests.api.otlp.examples import EXPECTED, TRACE, export, span, worked_example


def mapped(body: dict[str, Any]) -> list[LogData]:
    request = wire.parse(ExportTraceServiceRequest, orjson.dumps(body), wire.JSON)
    batch = spans_of(request)
    assert not batch.rejected, batch.rejected
    return batch.logs


def test_the_worked_example_maps_field_by_field() -> None:
    [log] = mapped(worked_example())
    finalize(log)
    fields = {**{k: getattr(log, k) for k in LogData.__slots__}, **(log.extra or {})}
    for name, value in EXPECTED.items():
        assert fields[name] == value, name
    assert log.start_time == datetime(2018, 12, 13, 14, 51, 0)
    assert log.timestamp == datetime(2018, 12, 13, 14, 51, 1, 250000)
    assert log.cost and log.cost > 0
    assert log.unique_id == log_id(TRACE.lower(), "eee19b7ec3c1b174")
    metadata = log.metadata or {}
    assert metadata["request_model"] == "gpt-4o"
    assert metadata["finish_reasons"] == ["tool_calls"]
    assert metadata["otel"]["kind"] == "CLIENT"
    assert metadata["otel"]["resource"] == {
        "service.name": "support-bot",
        "deployment.environment.name": "production",
    }
    assert "attributes" not in metadata["otel"], "every attribute was mapped"


def test_unmapped_attributes_are_kept_and_unknown_usage_goes_to_metadata() -> None:
    body = export(
        [
            span(
                "chat",
                TRACE,
                gen_ai__operation__name="chat",
                gen_ai__request__model="gpt-4o",
                gen_ai__usage__input_tokens="7",
                gen_ai__usage__foo=3,
                my__custom="kept",
            )
        ]
    )
    [log] = mapped(body)
    assert log.prompt_tokens == 7, "a string intValue is a number"
    assert log.metadata["usage"] == {"foo": 3}
    assert log.metadata["otel"]["attributes"] == {"my.custom": "kept"}
    assert log.metadata["otel"]["mapped_from"]["prompt_tokens"] == "gen_ai.usage.input_tokens"


def test_openinference_llm_span() -> None:
    body = export(
        [
            span(
                "ChatCompletion",
                TRACE,
                openinference__span__kind="LLM",
                llm__model_name="gpt-4o-mini",
                llm__provider="openai",
                llm__invocation_parameters=json.dumps({"temperature": 0.5, "max_tokens": 9}),
                **{
                    "llm.input_messages.0.message.role": "system",
                    "llm.input_messages.0.message.content": "sys",
                    "llm.input_messages.1.message.role": "user",
                    "llm.input_messages.1.message.content": "hi",
                    "llm.output_messages.0.message.role": "assistant",
                    "llm.output_messages.0.message.content": "hello",
                    "llm.token_count.prompt": 10,
                    "llm.token_count.completion": 2,
                    "input.value": json.dumps({"messages": []}),
                    "session.id": "s1",
                    "user.id": "u1",
                },
            )
        ]
    )
    [log] = mapped(body)
    assert (log.log_type, log.model, log.provider_id) == ("chat", "gpt-4o-mini", "openai")
    assert log.prompt_messages == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]
    assert log.completion_message == {"role": "assistant", "content": "hello"}
    assert (log.prompt_tokens, log.completion_tokens) == (10, 2)
    assert log.extra["temperature"] == 0.5 and log.extra["max_tokens"] == 9
    assert log.extra["full_request"] == {"messages": []}
    assert (log.thread_identifier, log.customer_identifier) == ("s1", "u1")


def test_ten_messages_sort_by_number() -> None:
    flat = {}
    for i in range(12):
        flat[f"gen_ai.prompt.{i}.role"] = "user"
        flat[f"gen_ai.prompt.{i}.content"] = f"m{i}"
    body = export([span("openai.chat", TRACE, llm__request__type="chat", **flat)])
    [log] = mapped(body)
    assert [m["content"] for m in log.prompt_messages] == [f"m{i}" for i in range(12)]


@pytest.mark.parametrize(
    ("attrs", "log_type"),
    [
        (
            {"traceloop__span__kind": "workflow", "gen_ai__operation__name": "execute_task"},
            "workflow",
        ),
        ({"openinference__span__kind": "CHAIN"}, "workflow"),
        ({"openinference__span__kind": "RETRIEVER"}, "task"),
        ({"gen_ai__operation__name": "invoke_agent"}, "agent"),
        ({"gen_ai__operation__name": "execute_tool", "gen_ai__tool__name": "f"}, "tool"),
        ({"gen_ai__operation__name": "embeddings"}, "embedding"),
        ({"llm__request__type": "rerank"}, "task"),
        ({"respan__entity__log_type": "trace"}, "workflow"),
        ({"langfuse__observation__type": "chain"}, "workflow"),
        ({}, "custom"),
    ],
)
def test_span_kind_decides_log_type(attrs: dict[str, Any], log_type: str) -> None:
    [log] = mapped(export([span("s", TRACE, **attrs)]))
    assert log.log_type == log_type


def test_traceloop_workflow_io_and_context() -> None:
    body = export(
        [
            span(
                "joke.workflow",
                TRACE,
                traceloop__span__kind="workflow",
                traceloop__entity__name="joke",
                traceloop__entity__input=json.dumps({"args": [1], "kwargs": {}}),
                traceloop__entity__output='{"cut',
                traceloop__workflow__name="jokes",
                gen_ai__provider__name="langchain",
                **{"traceloop.association.properties.customer_id": "c9"},
                **{"traceloop.association.properties.team": "red"},
            )
        ]
    )
    [log] = mapped(body)
    assert log.input == {"args": [1], "kwargs": {}}
    assert log.output == '{"cut', "a cut JSON string is kept raw"
    assert log.span_workflow_name == "jokes"
    assert log.customer_identifier == "c9"
    assert log.provider_id is None, "a framework is not a provider"
    assert log.metadata["team"] == "red"


def test_errors_and_exceptions() -> None:
    failed = span("tool", TRACE, gen_ai__tool__name="f")
    failed["status"] = {"code": 2}
    failed["events"] = [
        {
            "name": "exception",
            "timeUnixNano": "1700000000100000000",
            "attributes": [
                {"key": "exception.type", "value": {"stringValue": "ValueError"}},
                {"key": "exception.message", "value": {"stringValue": "boom"}},
                {"key": "exception.stacktrace", "value": {"stringValue": "Traceback..."}},
            ],
        }
    ]
    handled = span("tool", TRACE, gen_ai__tool__name="f")
    handled["events"] = failed["events"]
    bad, ok = mapped(export([failed, handled]))
    assert (bad.status, bad.status_code, bad.error_message) == ("failed", 500, "ValueError: boom")
    assert bad.metadata["otel"]["exception"]["stacktrace"] == "Traceback..."
    assert (ok.status, ok.error_message) == ("success", None), "a handled exception is no error"


def test_bad_ids_reject_only_their_span() -> None:
    good = span("ok", TRACE)
    zero = span("zero", "0" * 32)
    short = span("short", "abcd")
    request = wire.parse(
        ExportTraceServiceRequest, orjson.dumps(export([good, zero, short])), wire.JSON
    )
    batch = spans_of(request)
    assert [log.span_name for log in batch.logs] == ["ok"]
    assert len(batch.rejected) == 2
    assert batch.rejected[0].startswith("resourceSpans[0].scopeSpans[0].spans[1]: traceId")
