"""Keywords AI bodies -> `LogData`, and stored rows -> the objects the SDKs parse (§1.1, §1.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from llmtrail.api.keywords.schemas import CreateLog
from llmtrail.api.keywords.translate import created_object, log_object, to_log_data
from llmtrail.core import lifecycle
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData, finalize, to_row

NOW = datetime(2024, 5, 1, 12, 0, 0)
PRINCIPAL = Principal(org_id=7, key_id=42, key_name="ci", environment="prod")
USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}


def log_of(**body: Any) -> LogData:
    """The domain log for a create body, validated as the route validates it, once it starts
    its life (`lifecycle.start`) as the write path starts it."""
    log = to_log_data(CreateLog.model_validate(body))
    lifecycle.start(log)
    return log


def row_of(**body: Any) -> dict[str, Any]:
    """The stored row for a create body, as the write path builds it."""
    return to_row(finalize(log_of(**body), now=NOW), PRINCIPAL, NOW)


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({"generation_time": 1.5}, "latency", 1.5),
        ({"latency": 2.0, "generation_time": 1.5}, "latency", 2.0),
        ({"ttft": 0.25}, "time_to_first_token", 0.25),
        ({"thread_identifier": "t1"}, "session_identifier", "t1"),
        ({"trace_group_identifier": "g1"}, "session_identifier", "g1"),
        ({"trace_name": "pipeline"}, "span_name", "pipeline"),
        ({"prompt": {"prompt_id": "p1"}}, "prompt_id", "p1"),
        ({"custom_identifier": 12}, "custom_identifier", "12"),
        ({"timestamp": "2024-05-01T14:00:00+02:00"}, "timestamp", NOW),
        ({"start_time": "2024-05-01T12:00:00Z"}, "start_time", NOW),
    ],
)
def test_aliases_and_identifiers_map_to_their_column(body: dict, field: str, expected: Any) -> None:
    assert getattr(log_of(**body), field) == expected


def test_an_openai_usage_object_fills_tokens_and_cache_hits() -> None:
    log = log_of(
        usage={
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 30},
            "completion_tokens_details": {"reasoning_tokens": 5},
        }
    )
    assert (
        log.prompt_tokens,
        log.completion_tokens,
        log.total_request_tokens,
        log.prompt_cache_hit_tokens,
        log.reasoning_tokens,
    ) == (100, 20, 120, 30, 5)


def test_an_anthropic_usage_object_counts_cached_tokens_into_the_prompt() -> None:
    log = log_of(
        usage={
            "input_tokens": 100,
            "output_tokens": 20,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 10,
        }
    )
    assert (
        log.prompt_tokens,
        log.completion_tokens,
        log.prompt_cache_hit_tokens,
        log.prompt_cache_creation_tokens,
    ) == (140, 20, 30, 10)


def test_an_anthropic_usage_object_without_cache_counts_is_taken_as_is() -> None:
    log = log_of(usage={"input_tokens": 100, "output_tokens": 20})
    assert (log.prompt_tokens, log.completion_tokens, log.prompt_cache_hit_tokens) == (
        100,
        20,
        None,
    )


def test_the_cache_creation_prompt_tokens_spelling_counts_as_cache_writes() -> None:
    log = log_of(usage={"prompt_tokens": 100, "cache_creation_prompt_tokens": 40})
    assert log.prompt_cache_creation_tokens == 40


def test_top_level_token_counts_win_over_the_usage_object() -> None:
    log = log_of(prompt_tokens=7, completion_tokens=3, usage={"prompt_tokens": 100})
    assert (log.prompt_tokens, log.completion_tokens) == (7, 3)


def test_customer_params_fill_the_customer_fields() -> None:
    log = log_of(customer_params={"customer_identifier": 42, "name": "Ann", "email": "a@x.io"})
    assert (log.customer_identifier, log.customer_name, log.customer_email) == (
        "42",
        "Ann",
        "a@x.io",
    )


def test_top_level_customer_fields_win_over_customer_params() -> None:
    log = log_of(customer_identifier="top", customer_params={"customer_identifier": "nested"})
    assert log.customer_identifier == "top"


def test_chat_input_messages_are_the_prompt_messages() -> None:
    log = log_of(input=[USER])
    assert (log.prompt_messages, log.input) == ([USER], [USER])


def test_prompt_messages_are_the_input_when_no_input_is_given() -> None:
    assert log_of(prompt_messages=[USER]).input == [USER]


def test_messages_are_appended_to_the_prompt_messages() -> None:
    system = {"role": "system", "content": "be brief"}
    assert log_of(prompt_messages=[system], messages=[USER]).prompt_messages == [system, USER]


def test_a_chat_output_message_is_the_completion_message() -> None:
    log = log_of(output=ASSISTANT)
    assert (log.completion_message, log.output) == (ASSISTANT, ASSISTANT)


def test_the_completion_message_is_the_output_when_no_output_is_given() -> None:
    assert log_of(completion_message=ASSISTANT).output == ASSISTANT


def test_a_workflows_input_and_output_are_not_taken_for_messages() -> None:
    log = log_of(log_type="workflow", input=[USER], output=ASSISTANT)
    assert (log.prompt_messages, log.completion_message) == (None, None)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (None, "chat"),
        ("trace", "workflow"),
        ("step", "task"),
        ("function", "tool"),
        ("llm", "generation"),
        ("model", "generation"),
        ("embedding", "embedding"),
    ],
)
def test_log_type_aliases_are_stored_under_their_current_name(
    sent: str | None, stored: str
) -> None:
    assert log_of(log_type=sent).log_type == stored


@pytest.mark.parametrize("namespace", ["keywordsai_params", "respan_params"])
def test_namespaced_params_merge_into_the_body(namespace: str) -> None:
    log = log_of(**{namespace: {"customer_identifier": "u1", "metadata": {"team": "core"}}})
    assert (log.customer_identifier, log.metadata) == ("u1", {"team": "core"})


@pytest.mark.parametrize(
    ("params", "field", "expected"),
    [
        ({"timestamp": "2024-05-01T12:00:00Z"}, "timestamp", NOW),
        ({"latency": "1.5"}, "latency", 1.5),
    ],
)
def test_namespaced_params_are_coerced_like_top_level_fields(
    params: dict, field: str, expected: Any
) -> None:
    assert getattr(log_of(keywordsai_params=params), field) == expected


def test_unknown_fields_are_kept_in_extra() -> None:
    log = log_of(model="gpt-4o", temperature=0.2, tools=[{"type": "function"}])
    assert log.extra == {"temperature": 0.2, "tools": [{"type": "function"}]}


@pytest.mark.parametrize(
    "body",
    [
        {"category": "faq"},
        {"trace_name": "pipeline"},
        {"completion_messages": [ASSISTANT]},
        {"prompt": "raw prompt text"},
        {"prompt": {"prompt_id": "p1", "variables": {"x": 1}}},
    ],
)
def test_fields_without_a_column_of_their_own_are_kept_in_extra(body: dict) -> None:
    [(name, value)] = body.items()
    assert log_of(**body).extra == {name: value}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-4o", "generation_time": 1.0, "usage": {"prompt_tokens": 1}},
        {"environment": "staging", "disable_log": False, "keywordsai_api_controls": {"block": 1}},
        {"prompt": {"prompt_id": "p1"}},
    ],
)
def test_mapped_fields_and_gateway_controls_are_not_kept_in_extra(body: dict) -> None:
    assert log_of(**body).extra is None


@pytest.mark.parametrize(("sent", "stored"), [("error", "failed"), ("success", "success")])
def test_status_error_is_stored_as_failed(sent: str, stored: str) -> None:
    assert row_of(status=sent)["status"] == stored


@pytest.mark.parametrize("log_type", ["workflow", "agent"])
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, "incomplete"),
        ({"input": {"q": 1}}, "incomplete"),
        ({"input": {"q": 1}, "output": "4"}, "complete"),
        ({"input": {"q": 1}, "error_message": "boom"}, "complete"),
    ],
)
def test_a_workflow_or_agent_log_follows_the_completion_rule_of_humanloop_flows(
    log_type: str, body: dict, status: str
) -> None:
    assert log_of(log_type=log_type, **body).log_status == status


def test_a_log_without_trace_or_parent_roots_its_own_trace() -> None:
    log = log_of(model="gpt-4o")
    assert log.trace_unique_id == log.span_unique_id == log.unique_id


def test_a_span_keeps_the_trace_and_parent_it_names() -> None:
    log = log_of(trace_unique_id="t1", span_unique_id="s2", span_parent_id="s1")
    assert (log.trace_unique_id, log.span_unique_id, log.span_parent_id) == ("t1", "s2", "s1")


def test_logs_sent_through_the_api_are_marked_so() -> None:
    assert log_of().log_method == "logging_api"


def test_the_log_object_is_identified_by_its_unique_id() -> None:
    row = row_of(model="gpt-4o")
    assert log_object(row)["id"] == row["unique_id"]


def test_the_log_object_gives_times_in_utc_with_a_z() -> None:
    out = log_object(row_of(timestamp="2024-05-01T12:00:00Z", latency=1.0))
    assert (out["timestamp"], out["start_time"], out["end_time"], out["created_at"]) == (
        "2024-05-01T12:00:00.000000Z",
        "2024-05-01T11:59:59.000000Z",
        "2024-05-01T12:00:00.000000Z",
        "2024-05-01T12:00:00.000000Z",
    )


@pytest.mark.parametrize(
    ("sent", "read"),
    [({"q": 1}, '{"q":1}'), ([USER], '[{"role":"user","content":"hi"}]'), ("plain", "plain")],
)
def test_the_log_object_gives_input_and_output_as_text(sent: Any, read: str) -> None:
    out = log_object(row_of(log_type="workflow", input=sent, output=sent))
    assert (out["input"], out["output"]) == (read, read)


def test_the_log_object_hides_reserved_metadata_keys() -> None:
    out = log_object(row_of(metadata={"team": "core", "_internal": 1}))
    assert out["metadata"] == {"team": "core"}


def test_the_log_object_returns_unknown_fields_at_the_top_level() -> None:
    assert log_object(row_of(temperature=0.2))["temperature"] == 0.2


def test_the_log_object_gives_warnings_as_text() -> None:
    assert log_object(row_of(warnings={"w": 1}))["warnings"] == '{"w":1}'


@pytest.mark.parametrize(("body", "failed"), [({}, False), ({"error_message": "boom"}, True)])
def test_the_log_object_says_whether_the_call_failed(body: dict, failed: bool) -> None:
    assert log_object(row_of(**body))["failed"] is failed


def test_the_log_object_names_the_key_and_environment_it_was_logged_with() -> None:
    out = log_object(row_of())
    assert (out["organization_key_id"], out["environment"]) == ("42", "prod")


def test_the_create_answer_identifies_the_stored_log() -> None:
    row = {**row_of(customer_identifier="u1", cost=0.5), "unique_id": "abc"}
    out = created_object(row)
    assert {k: out[k] for k in ("id", "unique_id", "organization_id", "customer_identifier")} == {
        "id": "abc",
        "unique_id": "abc",
        "organization_id": 7,
        "customer_identifier": "u1",
    }
    assert (out["cost"], out["timestamp"], out["message"]) == (
        0.5,
        "2024-05-01T12:00:00.000000Z",
        "log successful",
    )
