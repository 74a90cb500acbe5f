"""The rules of Humanloop Evaluations that need no database: which Evaluators a Run waits
for, an Evaluation's status from its Runs', and the stats' percentiles."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from llmtrail.core import hl_evaluations as ev


def evaluator(kind: str | None, evaluator_type: str | None = None, orchestrated=None):  # type: ignore[no-untyped-def]
    spec = {"evaluator_type": evaluator_type} if evaluator_type else {}
    return SimpleNamespace(kind=kind, definition={"spec": spec}, orchestrated=orchestrated)


@pytest.mark.parametrize(
    ("row", "awaited", "orchestrated"),
    [
        (evaluator("rule"), True, True),
        (evaluator("llm"), True, True),
        (evaluator("code", "python"), True, True),
        (evaluator("human", "external"), True, False),  # its judgments are logged
        (evaluator("human", "human"), False, False),  # people judge in their own time
        (evaluator("rule", orchestrated=False), True, False),  # as asked
        (evaluator(None), False, False),  # deleted since it was added
    ],
)
def test_which_evaluators_a_run_waits_for_and_which_the_server_runs(
    row, awaited: bool, orchestrated: bool
) -> None:  # type: ignore[no-untyped-def]
    assert ev._awaited(row) is awaited
    if row.kind is not None:
        assert ev._orchestrated(row) is orchestrated


def states(*statuses: str) -> list:  # type: ignore[type-arg]
    return [SimpleNamespace(status=s) for s in statuses]


@pytest.mark.parametrize(
    ("runs", "status"),
    [
        ((), "pending"),
        (("pending",), "pending"),
        (("running", "completed"), "running"),
        (("pending", "completed"), "running"),
        (("completed", "cancelled"), "completed"),
        (("cancelled",), "cancelled"),
    ],
)
def test_an_evaluations_status_follows_its_runs(runs: tuple[str, ...], status: str) -> None:
    assert ev.overall(states(*runs)) == status


def test_percentiles_interpolate_between_ranks() -> None:
    ordered = [1.0, 2.0, 3.0, 4.0]
    assert [ev._percentile(ordered, p) for p in (25, 50, 75)] == [1.75, 2.5, 3.25]
    assert ev._percentile([5.0], 99) == 5.0


@pytest.mark.parametrize(
    ("value_type", "kind"),
    [
        ("numerical", "numeric"),
        ("percentage", "numeric"),
        ("boolean", "boolean"),
        ("single_select", "select"),
        ("multi_select", "select"),
        ("text", "text"),
        ("json", "text"),
    ],
)
def test_the_stats_of_each_value_type(value_type: str, kind: str) -> None:
    assert ev.kind_of(value_type) == kind
