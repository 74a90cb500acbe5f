"""Humanloop v5 bodies -> logs, and stored rows -> the LogResponse the SDK parses (§1, §4, §5)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from llmtrail.api.humanloop import schemas
from llmtrail.api.humanloop.translate import (
    FIELDS,
    Files,
    evaluator_parent_id,
    log_response,
    split_fields,
    template_inputs,
    to_log_data,
)
from llmtrail.core import lifecycle
from llmtrail.core.files import FileType
from llmtrail.core.judgments import Judgments
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.errors import Invalid

NOW = datetime(2024, 5, 1, 12, 0, 0)
PRINCIPAL = Principal(org_id=7, key_id=42, key_name="ci", environment="prod")
BODIES: dict[FileType, type[schemas.LogBody]] = {
    FileType.PROMPT: schemas.PromptLogBody,
    FileType.AGENT: schemas.AgentLogBody,
    FileType.FLOW: schemas.FlowLogBody,
    FileType.TOOL: schemas.ToolLogBody,
    FileType.EVALUATOR: schemas.EvaluatorLogBody,
}
IO_TYPES = [FileType.FLOW, FileType.AGENT]
ANSWER = {"role": "assistant", "content": "4"}


def version(file_type: FileType, **kernel: Any) -> SimpleNamespace:
    """A stored File version, with the attributes the translator reads."""
    return SimpleNamespace(
        type=file_type.value,
        file_id=f"{file_type.value}_file",
        version_id=f"{file_type.value}_version",
        path=f"demo/{file_type.value}",
        name=file_type.value,
        kernel=kernel,
        version_name=None,
        version_description=None,
        version_logs_count=1,
        created_at=NOW,
        updated_at=NOW,
        last_used_at=NOW,
    )


def body(file_type: FileType, **fields: Any) -> schemas.LogBody:
    if file_type is FileType.EVALUATOR:
        fields.setdefault("parent_id", "log_parent")
    return BODIES[file_type].model_validate(fields)


def log_of(file_type: FileType, **fields: Any) -> LogData:
    """The log a `*.log` body becomes once it starts its life (`lifecycle.start`), as the write
    path starts it: linked when the body names a parent."""
    sent = body(file_type, **fields)
    log = to_log_data(file_type, sent, version(file_type))  # type: ignore[arg-type]
    lifecycle.start(log, FIELDS, linked=evaluator_parent_id(sent) is not None)
    return log


def stored_row(file_type: FileType, **fields: Any) -> dict[str, Any]:
    """The row stored for a log with these body fields, as the write path builds it."""
    return to_row(finalize(log_of(file_type, **fields), now=NOW), PRINCIPAL, NOW)


def response_for(file_type: FileType, row: dict[str, Any]) -> dict[str, Any]:
    """The LogResponse for a stored row (given an id, as when stored), its File version known
    and no judgments of it."""
    files = Files({f"{file_type.value}_version": version(file_type)}, {})  # type: ignore[dict-item]
    stored = SimpleNamespace(_mapping={"id": 1, **row})
    return log_response(stored, files, Judgments({}, {}))  # type: ignore[arg-type]


def response_of(file_type: FileType, **fields: Any) -> dict[str, Any]:
    return response_for(file_type, stored_row(file_type, **fields))


def instant(text: str) -> datetime:
    """An ISO 8601 time as an aware datetime, whichever way its zone is spelled."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def columns_of(update: BaseModel) -> dict[str, Any]:
    return split_fields(update)[0]


def extra_of(update: BaseModel) -> dict[str, Any]:
    return split_fields(update)[1]


@pytest.mark.parametrize("file_type", IO_TYPES)
@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"inputs": {"q": 1}, "output": "4"}, "complete"),
        ({"inputs": {"q": 1}, "error": "boom"}, "complete"),
        ({"inputs": {"q": 1}, "output_message": ANSWER}, "complete"),
        ({"inputs": {"q": 1}}, "incomplete"),
        ({"output": "4"}, "incomplete"),
        ({}, "incomplete"),
    ],
)
def test_a_flow_or_agent_log_without_a_status_is_complete_only_with_inputs_and_an_outcome(
    file_type: FileType, fields: dict, status: str
) -> None:
    assert log_of(file_type, **fields).log_status == status


@pytest.mark.parametrize("file_type", IO_TYPES)
def test_an_explicit_incomplete_status_is_kept(file_type: FileType) -> None:
    log = log_of(file_type, inputs={"q": 1}, output="4", log_status="incomplete")
    assert log.log_status == "incomplete"


@pytest.mark.parametrize("file_type", IO_TYPES)
@pytest.mark.parametrize(
    ("fields", "missing"),
    [({"output": "4"}, [("inputs",)]), ({"inputs": {"q": 1}}, [("output",)])],
)
def test_a_flow_or_agent_log_created_complete_needs_inputs_and_an_outcome(
    file_type: FileType, fields: dict, missing: list
) -> None:
    with pytest.raises(Invalid) as caught:
        log_of(file_type, log_status="complete", **fields)
    assert [e.loc for e in caught.value.errors] == missing


def test_the_old_trace_status_field_counts_as_log_status() -> None:
    log = log_of(FileType.FLOW, trace_status="incomplete", inputs={"q": 1}, output="4")
    assert log.log_status == "incomplete"


@pytest.mark.parametrize("file_type", [FileType.PROMPT, FileType.TOOL, FileType.EVALUATOR])
def test_other_logs_without_a_status_have_none(file_type: FileType) -> None:
    assert log_of(file_type).log_status is None


def test_a_prompt_log_may_be_created_complete_without_inputs() -> None:
    assert log_of(FileType.PROMPT, log_status="complete").log_status == "complete"


@pytest.mark.parametrize(
    ("file_type", "log_type"),
    [
        (FileType.PROMPT, "chat"),
        (FileType.TOOL, "tool"),
        (FileType.FLOW, "workflow"),
        (FileType.AGENT, "agent"),
        (FileType.EVALUATOR, "score"),
    ],
)
def test_each_file_type_logs_its_log_type(file_type: FileType, log_type: str) -> None:
    assert log_of(file_type).log_type == log_type


def test_a_given_log_id_is_the_logs_id_and_span_id() -> None:
    log = log_of(FileType.TOOL, log_id="log_mine")
    assert (log.unique_id, log.span_unique_id) == ("log_mine", "log_mine")


def test_a_log_without_an_id_gets_a_humanloop_style_id() -> None:
    assert log_of(FileType.TOOL).unique_id.startswith("log_")


def test_a_log_is_written_against_its_file_version() -> None:
    log = log_of(FileType.TOOL)
    assert (log.file_id, log.version_id, log.span_name, log.log_method) == (
        "tool_file",
        "tool_version",
        "tool",
        "humanloop_api",
    )


def test_a_prompt_log_takes_model_provider_and_name_from_its_prompt() -> None:
    prompt = version(FileType.PROMPT, model="gpt-4o", provider="openai")
    log = to_log_data(FileType.PROMPT, body(FileType.PROMPT), prompt)  # type: ignore[arg-type]
    assert (log.model, log.provider_id, log.prompt_name) == ("gpt-4o", "openai", "demo/prompt")


def test_a_log_without_a_parent_roots_its_own_trace() -> None:
    log = log_of(FileType.FLOW, log_id="log_root")
    assert log.trace_unique_id == "log_root"


@pytest.mark.parametrize(
    ("file_type", "parent"),
    [(FileType.PROMPT, {"trace_parent_id": "log_flow"}), (FileType.EVALUATOR, {})],
)
def test_a_log_with_a_parent_is_left_for_its_trace_to_claim(
    file_type: FileType, parent: dict
) -> None:
    assert log_of(file_type, **parent).trace_unique_id is None


@pytest.mark.parametrize(
    ("field", "value", "attribute", "stored"),
    [
        ("inputs", {"q": 1}, "input", {"q": 1}),
        ("error", "boom", "error_message", "boom"),
        ("messages", [ANSWER], "prompt_messages", [ANSWER]),
        ("output_message", ANSWER, "completion_message", ANSWER),
        ("output_tokens", 12, "completion_tokens", 12),
        ("prompt_cost", 0.25, "prompt_cost", 0.25),
        ("output_cost", 0.5, "completion_cost", 0.5),
        ("provider_latency", 1.5, "latency", 1.5),
        ("user", "ann", "customer_identifier", "ann"),
        ("start_time", "2024-05-01T14:00:00+02:00", "start_time", NOW),
    ],
)
def test_humanloop_fields_map_to_their_column(
    field: str, value: Any, attribute: str, stored: Any
) -> None:
    assert getattr(log_of(FileType.PROMPT, **{field: value}), attribute) == stored


def test_fields_without_a_column_are_kept_in_extra() -> None:
    log = log_of(FileType.PROMPT, source="sdk", save=False, run_id="run_1", temperature=0.2)
    assert log.extra == {"source": "sdk", "save": False, "run_id": "run_1", "temperature": 0.2}


def test_the_file_address_and_kernel_are_not_kept_in_extra() -> None:
    log = log_of(FileType.PROMPT, path="demo/prompt", id="pr_1", prompt={"model": "gpt-4o"})
    assert log.extra is None


def test_an_update_splits_into_columns_by_humanloop_name() -> None:
    update = schemas.FlowLogUpdate(inputs={"q": 1}, output="4", error="e", log_status="complete")
    assert columns_of(update) == {
        "input": {"q": 1},
        "output": "4",
        "error_message": "e",
        "log_status": "complete",
    }


def test_an_update_with_trace_status_sets_log_status() -> None:
    assert columns_of(schemas.FlowLogUpdate(trace_status="complete")) == {"log_status": "complete"}


def test_log_status_wins_over_trace_status() -> None:
    update = schemas.FlowLogUpdate(log_status="incomplete", trace_status="complete")
    assert columns_of(update)["log_status"] == "incomplete"


def test_a_field_the_update_does_not_declare_is_kept_as_sent() -> None:
    update = schemas.FlowLogUpdate.model_validate({"end_time": "2024-05-01T14:00:00+02:00"})
    assert (columns_of(update), extra_of(update)) == ({}, {"end_time": "2024-05-01T14:00:00+02:00"})


def test_update_times_are_stored_in_naive_utc() -> None:
    update = schemas.ToolLogUpdate.model_validate({"start_time": "2024-05-01T14:00:00+02:00"})
    assert columns_of(update) == {"start_time": NOW}


def test_an_updates_created_at_is_kept_in_extra_as_iso_text() -> None:
    update = schemas.ToolLogUpdate.model_validate({"created_at": "2024-05-01T12:00:00Z"})
    assert instant(extra_of(update)["created_at"]) == instant("2024-05-01T12:00:00Z")


@pytest.mark.parametrize("file_type", list(FileType))
def test_a_log_response_nests_its_file_under_its_type(file_type: FileType) -> None:
    # The SDK tells a Flow log from a Prompt log only by which nested File is present.
    out = response_of(file_type)
    assert out[file_type.value]["id"] == f"{file_type.value}_file"
    assert {t.value for t in FileType if t.value in out} == {file_type.value}


def test_a_log_response_is_identified_by_the_logs_id() -> None:
    out = response_of(FileType.TOOL, log_id="log_mine")
    assert (out["id"], out["log_id"]) == ("log_mine", "log_mine")


def test_a_log_response_echoes_the_status_under_both_names() -> None:
    out = response_of(FileType.FLOW, inputs={"q": 1})
    assert (out["log_status"], out["trace_status"]) == ("incomplete", "incomplete")


def test_a_log_response_speaks_humanloop_field_names() -> None:
    out = response_of(
        FileType.PROMPT,
        inputs={"q": 1},
        error="boom",
        provider_latency=1.5,
        user="ann",
        output_tokens=12,
        output_cost=0.5,
    )
    assert {k: out[k] for k in ("inputs", "error", "provider_latency", "user")} == {
        "inputs": {"q": 1},
        "error": "boom",
        "provider_latency": 1.5,
        "user": "ann",
    }
    assert (out["output_tokens"], out["output_cost"]) == (12, 0.5)


def test_a_flow_log_response_carries_no_model_call_fields() -> None:
    out = response_of(FileType.FLOW, inputs={"q": 1}, output="4")
    assert not {"prompt_tokens", "output_tokens", "finish_reason"} & out.keys()


def test_a_log_response_gives_times_in_utc_with_a_z() -> None:
    out = response_of(FileType.TOOL, start_time="2024-05-01T11:59:00Z")
    assert (out["start_time"], out["end_time"]) == (
        "2024-05-01T11:59:00.000000Z",
        "2024-05-01T12:00:00.000000Z",
    )


def test_a_log_response_gives_back_the_created_at_that_was_sent() -> None:
    out = response_of(FileType.TOOL, created_at="2023-01-01T00:00:00Z")
    assert instant(out["created_at"]) == instant("2023-01-01T00:00:00Z")


def test_a_log_response_returns_unknown_fields_and_defaults_save_to_true() -> None:
    out = response_of(FileType.TOOL, temperature=0.2)
    assert (out["temperature"], out["save"]) == (0.2, True)


def test_a_nested_log_response_names_its_trace_parent() -> None:
    row = {**stored_row(FileType.PROMPT, trace_parent_id="log_flow"), "span_parent_id": "log_flow"}
    assert response_for(FileType.PROMPT, row)["trace_parent_id"] == "log_flow"


def test_an_evaluator_log_response_names_its_parent_not_a_trace_parent() -> None:
    row = {**stored_row(FileType.EVALUATOR, judgment=True), "span_parent_id": "log_parent"}
    out = response_for(FileType.EVALUATOR, row)
    assert (out["parent_id"], out["trace_parent_id"], out["judgment"]) == ("log_parent", None, True)


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("{{ name }} asks about {{topic}}, says {{name}}", ["name", "topic"]),
        ([{"role": "system", "content": "You help {{ user }}"}], ["user"]),
        ("{{ 1st }} and {{a-b}} are not variables", []),
        (None, []),
    ],
)
def test_template_inputs_are_its_variables_in_order_of_first_use(
    template: Any, names: list[str]
) -> None:
    assert template_inputs(template) == [{"name": n} for n in names]
