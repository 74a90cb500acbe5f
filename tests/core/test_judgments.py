"""A Humanloop judgment as the score its evaluator gives: a value of the evaluator's type, or
an error score that says why, never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from llmtrail.core.evaluators import from_spec
from llmtrail.core.judgments import outcome
from llmtrail.core.scoring import Outcome

LOG = {"output": "because", "latency": 0.5, "error_message": None}


class Stored(dict):
    """A stored row, read by key or by attribute."""

    __getattr__ = dict.__getitem__


def judged(spec: dict[str, Any], judgment: Any, **log: Any) -> Outcome:
    """The outcome of `judgment` logged by an evaluator of this Humanloop spec."""
    kind, value_type, definition = from_spec(spec)
    evaluator = Stored(kind=kind, value_type=value_type, definition=definition)
    return outcome(evaluator, judgment, {**LOG, **log})  # type: ignore[arg-type]


def spec(return_type: str, **more: Any) -> dict[str, Any]:
    return {"arguments_type": "target_free", "return_type": return_type, **more}


@pytest.mark.parametrize(
    ("return_type", "judgment", "value"),
    [
        ("boolean", True, True),
        ("boolean", "yes", True),
        ("number", 3, 3.0),
        ("number", "2.5", 2.5),
        ("text", "fine", "fine"),
        ("multi_select", ["a"], ["a"]),
    ],
)
def test_a_judgment_of_the_type_is_the_value(return_type: str, judgment: Any, value: Any) -> None:
    result = judged(spec(return_type, options=[{"name": "a"}]), judgment)
    assert result == Outcome(value=value, explanation="because", latency=0.5)


@pytest.mark.parametrize(
    ("return_type", "judgment", "why"),
    [
        ("number", "plenty", "does not fit this numerical evaluator: not a number: 'plenty'"),
        ("boolean", "maybe", "not a boolean: 'maybe'"),
        ("text", 7, "a text score must be a string"),
        ("select", "c", "'c' is not one of a"),
    ],
)
def test_a_judgment_not_of_the_type_is_an_error_score(
    return_type: str, judgment: Any, why: str
) -> None:
    result = judged(spec(return_type, options=[{"name": "a"}]), judgment)
    assert result.value is None and why in (result.error or "")


def test_a_judgment_out_of_the_limits_is_an_error_score() -> None:
    result = judged(spec("number", number_limits={"min": 0, "max": 5}), 9)
    assert result.error and "outside the range 0 to 5" in result.error


def test_no_judgment_or_an_evaluator_error_is_an_error_score() -> None:
    assert judged(spec("boolean"), None).error == "the evaluator log gives no judgment"
    failed = judged(spec("boolean"), True, error_message="the judge timed out")
    assert failed.value is None and failed.error == "the judge timed out"
