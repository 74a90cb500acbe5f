"""The rules of a log's lifecycle, apart from the store: what an update may change, and when.

`_rule_errors(current, changes, status, names)` judges an update of the stored row `current`;
`names` maps columns to the caller's field names, which the errors are reported under.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmtrail.core.lifecycle import _rule_errors, completion_errors
from llmtrail.errors import FieldError

NAMES = {
    "input": "inputs",
    "output": "output",
    "error_message": "error",
    "completion_message": "output_message",
    "log_status": "log_status",
}


def stored(log_status: str | None, log_type: str = "workflow", **columns: Any) -> dict[str, Any]:
    """A stored row as the rules see it: no inputs or outputs unless given."""
    row = dict.fromkeys(("input", "output", "error_message", "completion_message", "metadata"))
    return {**row, "log_type": log_type, "log_status": log_status, **columns}


def rule_errors(
    current: dict[str, Any], status: str | None = None, **changes: Any
) -> list[FieldError]:
    return _rule_errors(current, changes, status, NAMES)


def test_a_complete_log_cannot_become_incomplete_again() -> None:
    [error] = rule_errors(stored("complete", input={"q": 1}, output="a"), "incomplete")
    assert (error.loc, error.type) == (("log_status",), "log_complete")


@pytest.mark.parametrize(
    ("column", "field"),
    [("output", "output"), ("error_message", "error"), ("input", "inputs"), ("latency", "latency")],
)
def test_a_complete_logs_telemetry_is_frozen(column: str, field: str) -> None:
    [error] = rule_errors(stored("complete", input={"q": 1}, output="a"), **{column: "new"})
    assert (error.loc, error.type) == ((field,), "log_complete")


def test_every_frozen_field_of_a_complete_log_is_reported_together() -> None:
    errors = rule_errors(stored("complete"), output="new", error_message="boom")
    assert [e.loc for e in errors] == [("output",), ("error",)]


def test_a_complete_logs_metadata_stays_editable() -> None:
    assert rule_errors(stored("complete"), metadata={"reviewed": True}) == []


def test_completing_a_complete_log_again_is_allowed() -> None:
    assert rule_errors(stored("complete", input={"q": 1}, output="a"), "complete") == []


def test_an_incomplete_logs_telemetry_may_still_change() -> None:
    assert rule_errors(stored("incomplete"), output="partial", latency=1.5) == []


def test_a_log_created_without_a_status_cannot_become_incomplete() -> None:
    [error] = rule_errors(stored(None, log_type="chat"), "incomplete")
    assert (error.loc, error.type) == (("log_status",), "log_complete")


def test_a_log_created_without_a_status_may_be_marked_complete() -> None:
    assert rule_errors(stored(None, log_type="chat"), "complete") == []


@pytest.mark.parametrize("status", ["done", "COMPLETE", ""])
def test_an_unknown_status_is_rejected(status: str) -> None:
    [error] = rule_errors(stored("incomplete"), status)
    assert (error.loc, error.type) == (("log_status",), "enum")


@pytest.mark.parametrize("log_type", ["workflow", "agent"])
def test_a_flow_or_agent_log_completes_only_with_inputs_and_an_output(log_type: str) -> None:
    errors = rule_errors(stored("incomplete", log_type=log_type), "complete")
    assert [(e.loc, e.type) for e in errors] == [(("inputs",), "missing"), (("output",), "missing")]


def test_inputs_and_output_may_arrive_with_the_completing_update() -> None:
    assert rule_errors(stored("incomplete"), "complete", input={"q": 1}, output="a") == []


def test_inputs_stored_earlier_count_towards_completion() -> None:
    assert rule_errors(stored("incomplete", input={"q": 1}), "complete", output="a") == []


@pytest.mark.parametrize("log_type", ["chat", "tool", "score"])
def test_other_log_types_complete_without_inputs_or_output(log_type: str) -> None:
    assert rule_errors(stored("incomplete", log_type=log_type), "complete") == []


@pytest.mark.parametrize("column", ["output", "completion_message", "error_message"])
def test_an_output_an_output_message_or_an_error_each_count_as_the_outcome(column: str) -> None:
    assert completion_errors({"input": {"q": 1}, column: "x"}, NAMES) == []


def test_completion_errors_name_each_missing_field_in_the_callers_terms() -> None:
    errors = completion_errors({}, NAMES)
    assert [e.loc for e in errors] == [("inputs",), ("output",)]
    assert "output, output_message, error" in errors[1].msg
