"""Humanloop Evaluations through the official `humanloop==0.8.38` SDK: `evals.run` end to end
with a local callable, a local (external) Evaluator and a server-side rule Evaluator, two
Runs side by side, and every operation of the `evaluations` client."""

from __future__ import annotations

import signal
import time
import types
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from humanloop.error import HumanloopRuntimeError
from humanloop.errors import UnprocessableEntityError
from humanloop.evals import run as evals_run
from humanloop.types import (
    BooleanEvaluatorStatsResponse,
    EvaluationStats,
    NumericEvaluatorStatsResponse,
    SelectEvaluatorStatsResponse,
)

CONTAINS_X = {
    "type": "rule",
    "score_value_type": "boolean",
    "rule_config": {"rule": "contains", "value": "x"},
}
NUMBER = {
    "arguments_type": "target_free",
    "return_type": "number",
    "evaluator_type": "external",
}
HUMAN = {"arguments_type": "target_free", "return_type": "boolean", "evaluator_type": "human"}
WAIT_SECONDS = 20  # the server's worker polls every 0.2 s


@pytest.fixture
def hl(tenant) -> Humanloop:  # type: ignore[no-untyped-def]
    return Humanloop(api_key=tenant.key, base_url=f"{tenant.base_url}/v5")


@pytest.fixture
def kw(tenant):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        yield client


@pytest.fixture
def quick_polls(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """`evals.run` polls `get_stats` every 5 s: every 0.2 s here. It also installs signal
    handlers, put back afterwards."""
    real_sleep = time.sleep
    quick = types.SimpleNamespace(sleep=lambda _: real_sleep(0.2), time=time.time)
    monkeypatch.setattr(evals_run, "time", quick)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def a_rule_evaluator(hl: Humanloop, kw) -> Any:  # type: ignore[no-untyped-def]
    """A server-side rule Evaluator (made in the Keywords AI dialect), as its File."""
    made = kw.post("/api/evaluators/", json={"name": unique("has-x"), **CONTAINS_X})
    assert made.status_code == 201, made.text
    return hl.evaluators.get(id=made.json()["id"])


def matches_target(log, datapoint):  # type: ignore[no-untyped-def]
    """A local Evaluator: the output is the Datapoint's target."""
    return log["output"] == datapoint["target"]["output"]


POINTS = [
    {"inputs": {"question": "one"}, "target": {"output": "x1"}},
    {"inputs": {"question": "two"}, "target": {"output": "x2"}},
    {"inputs": {"question": "three"}, "target": {"output": "x3"}},
]
ANSWERS = {"one": "x1", "two": "x2", "three": "nothing"}


def first_answer(question: str) -> str:
    return ANSWERS[question]


def better_answer(question: str) -> str:
    return f"x{['one', 'two', 'three'].index(question) + 1}"


def test_evals_run_end_to_end_and_two_runs_side_by_side(hl: Humanloop, kw, quick_polls) -> None:  # type: ignore[no-untyped-def]
    prompt_path = unique("qa/answer")
    hl.prompts.upsert(path=prompt_path, model="gpt-4o")
    rule = a_rule_evaluator(hl, kw)
    local_path = unique("judges/exact")
    dataset_path = unique("qa/questions")
    name = unique("nightly")

    def evaluate(callable_: Any) -> list[Any]:
        return hl.evaluations.run(
            name=name,
            file={"path": prompt_path, "type": "prompt", "callable": callable_},
            dataset={"path": dataset_path, "datapoints": POINTS},
            evaluators=[
                {
                    "path": local_path,
                    "callable": matches_target,
                    "args_type": "target_required",
                    "return_type": "boolean",
                },
                {"path": rule.path, "threshold": 0.5},
            ],
            workers=2,
        )

    first = evaluate(first_answer)
    # One Run: no previous one to compare with (the SDK's score is 0), and the threshold
    # checked against the Run's share true (2 of 3).
    assert [(c.path, c.score, c.threshold_check) for c in first] == [
        (local_path, 0, None),
        (rule.path, 0, True),
    ]
    second = evaluate(better_answer)  # the same name: the same Evaluation, a second Run
    assert [(c.path, c.score, c.delta) for c in second] == [
        (local_path, 1.0, 0.33),
        (rule.path, 1.0, 0.33),
    ]

    file_id = hl.files.retrieve_by_path(path=prompt_path).id
    [evaluation] = list(hl.evaluations.list(file_id=file_id, size=10))
    assert evaluation.name == name and evaluation.runs_count == 2
    stats = hl.evaluations.get_stats(id=evaluation.id)
    assert isinstance(stats, EvaluationStats) and stats.status == "completed"
    newest, oldest = stats.run_stats
    by_version = {e.version.version_id: e.version.path for e in evaluation.evaluators}
    for run, trues in ((oldest, 2), (newest, 3)):
        assert run.status == "completed" and run.num_logs == 3
        for item in run.evaluator_stats:
            assert isinstance(item, BooleanEvaluatorStatsResponse)
            assert by_version[item.evaluator_version_id] in (local_path, rule.path)
            assert (item.total_logs, item.num_judgments, item.num_errors) == (3, 3, 0)
            assert (item.num_true, item.num_false) == (trues, 3 - trues)
    assert newest.run_id in stats.report and oldest.run_id in stats.report

    logs = hl.evaluations.get_logs(id=evaluation.id, run_id=oldest.run_id, size=10)
    assert logs.total == 3
    for record in logs.records:
        assert record.run_id == oldest.run_id
        assert record.log.output == ANSWERS[record.datapoint.inputs["question"]]
        assert record.log.source_datapoint_id == record.datapoint.id
        assert len(record.evaluator_logs) == 2
    assert hl.evaluations.get_logs(id=evaluation.id, size=10).total == 6


def test_evals_run_of_a_flow(hl: Humanloop, quick_polls) -> None:  # type: ignore[no-untyped-def]
    """A Flow made by `evals.run` from its `version`, judged by a local Evaluator only."""
    path = unique("flows/answer")
    [check] = hl.evaluations.run(
        name="flow",
        file={
            "path": path,
            "type": "flow",
            "version": {"attributes": {"v": 1}},
            "callable": better_answer,
        },
        dataset={"path": unique("qa/flow-questions"), "datapoints": POINTS},
        evaluators=[
            {
                "path": unique("judges/exact"),
                "callable": matches_target,
                "args_type": "target_required",
                "return_type": "boolean",
                "threshold": 1,
            },
        ],
    )
    assert check.threshold_check is True
    flow = hl.files.retrieve_by_path(path=path)
    [evaluation] = list(hl.evaluations.list(file_id=flow.id))
    [run] = hl.evaluations.get_stats(id=evaluation.id).run_stats
    assert run.status == "completed" and run.num_logs == 3
    assert run.evaluator_stats[0].num_true == 3


def test_the_evaluations_client(hl: Humanloop, kw) -> None:  # type: ignore[no-untyped-def]
    prompt = hl.prompts.upsert(path=unique("qa/bot"), model="gpt-4o")
    stars = hl.evaluators.upsert(path=unique("judges/stars"), spec=NUMBER)
    human = hl.evaluators.upsert(path=unique("judges/liked"), spec=HUMAN)
    rule = a_rule_evaluator(hl, kw)
    dataset = hl.datasets.upsert(path=unique("qa/set"), datapoints=POINTS[:2])

    made = hl.evaluations.create(
        name="first",
        file={"id": prompt.id},
        evaluators=[{"path": stars.path}, {"version_id": human.version_id}],
    )
    assert made.id.startswith("evr_") and made.file_id == prompt.id and made.runs_count == 0
    assert [(e.version.path, e.orchestrated) for e in made.evaluators] == [
        (stars.path, False),
        (human.path, False),
    ]
    with pytest.raises(ApiError) as taken:
        hl.evaluations.create(name="first", file={"path": prompt.path}, evaluators=[])
    assert taken.value.status_code == 409
    added = hl.evaluations.add_evaluators(id=made.id, evaluators=[{"id": rule.id}])
    assert [e.orchestrated for e in added.evaluators] == [False, False, True]
    removed = hl.evaluations.remove_evaluator(id=made.id, evaluator_version_id=human.version_id)
    assert [e.version.id for e in removed.evaluators] == [stars.id, rule.id]
    assert hl.evaluations.get(id=made.id).evaluators == removed.evaluators

    run = hl.evaluations.create_run(
        id=made.id, dataset={"path": dataset.path}, version={"version_id": prompt.version_id}
    )
    assert run.status == "pending" and run.dataset.version_id == dataset.version_id
    assert run.version.version_id == prompt.version_id and run.orchestrated is False
    points = hl.datasets.get(id=dataset.id, include_datapoints=True).datapoints
    logged = [
        hl.prompts.log(
            id=prompt.id,
            version_id=prompt.version_id,
            run_id=run.id,
            source_datapoint_id=point.id,
            output=output,
            log_status="complete",
        )
        for point, output in zip(points, ("x marks it", "nothing"), strict=True)
    ]
    for log, stars_given in zip(logged, (4, 2), strict=True):
        hl.evaluators.log(parent_id=log.id, id=stars.id, judgment=stars_given)
    stats = eventually_completed(hl, made.id, run.id)
    [run_stats] = stats.run_stats
    numbers, booleans = run_stats.evaluator_stats
    assert isinstance(numbers, NumericEvaluatorStatsResponse)
    assert (numbers.mean, numbers.sum, numbers.std, numbers.num_judgments) == (3.0, 6.0, 1.0, 2)
    assert numbers.percentiles["50"] == 3.0
    assert isinstance(booleans, BooleanEvaluatorStatsResponse)
    assert (booleans.num_true, booleans.num_false) == (1, 1)

    # A Run that takes the version's Logs made from the Dataset already: complete at once.
    reused = hl.evaluations.create_run(
        id=made.id,
        dataset={"version_id": dataset.version_id},
        version={"id": prompt.id},
        use_existing_logs=True,
    )
    stats = eventually_completed(hl, made.id, reused.id)
    assert [s.num_logs for s in stats.run_stats] == [2, 2]
    assert stats.run_stats[0].evaluator_stats == stats.run_stats[1].evaluator_stats
    hl.evaluations.remove_run(id=made.id, run_id=reused.id)

    # A second Evaluation, a Run of its own, and the first Run shown there too.
    other = hl.evaluations.create(name="second", file={"id": prompt.id}, evaluators=[])
    own = hl.evaluations.create_run(id=other.id)
    outside = hl.prompts.log(id=prompt.id, output="x later")
    hl.evaluations.add_logs_to_run(id=other.id, run_id=own.id, log_ids=[outside.id])
    hl.evaluations.add_existing_run(id=other.id, run_id=run.id)
    runs = hl.evaluations.list_runs_for_evaluation(id=other.id).runs
    assert [r.id for r in runs] == [own.id, run.id]
    assert [r.status for r in runs] == ["running", "completed"]
    controlled = hl.evaluations.update_evaluation_run(id=other.id, run_id=own.id, control=True)
    assert controlled.control is True
    done = hl.evaluations.update_evaluation_run(id=other.id, run_id=own.id, status="completed")
    assert done.status == "completed"
    with pytest.raises(UnprocessableEntityError):  # only a pending or running Run changes
        hl.evaluations.update_evaluation_run(id=other.id, run_id=own.id, status="cancelled")
    paged = hl.evaluations.list(file_id=prompt.id, size=1)
    assert [[e.name for e in page.items] for page in paged.iter_pages()] == [["second"], ["first"]]
    [shown] = hl.evaluations.get_logs(id=other.id, run_id=own.id).records
    assert shown.log.id == outside.id and shown.datapoint is None

    hl.evaluations.remove_run(id=other.id, run_id=run.id)  # still in the first Evaluation
    assert [r.id for r in hl.evaluations.list_runs_for_evaluation(id=made.id).runs] == [run.id]
    hl.evaluations.delete(id=other.id)
    with pytest.raises(ApiError) as gone:
        hl.evaluations.get(id=other.id)
    assert gone.value.status_code == 404
    assert hl.evaluations.get(id=made.id).runs_count == 1


def eventually_completed(hl: Humanloop, evaluation_id: str, run_id: str) -> EvaluationStats:
    """The Evaluation's stats once the Run is complete (the rule Evaluator runs on the
    server's worker)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stats = hl.evaluations.get_stats(id=evaluation_id)
        [state] = [s for s in stats.run_stats if s.run_id == run_id]
        if state.status == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state.status == "completed", stats.progress
    return stats


def test_a_run_log_is_judged_once_it_is_complete(hl: Humanloop, kw) -> None:  # type: ignore[no-untyped-def]
    prompt = hl.prompts.upsert(path=unique("qa/slow"), model="gpt-4o")
    rule = a_rule_evaluator(hl, kw)
    dataset = hl.datasets.upsert(path=unique("qa/one"), datapoints=POINTS[:1])
    [point] = hl.datasets.get(id=dataset.id, include_datapoints=True).datapoints
    made = hl.evaluations.create(file={"id": prompt.id}, evaluators=[{"path": rule.path}])
    run = hl.evaluations.create_run(id=made.id, dataset={"version_id": dataset.version_id})
    log = hl.prompts.log(
        id=prompt.id, run_id=run.id, source_datapoint_id=point.id, log_status="incomplete"
    )
    [state] = hl.evaluations.get_stats(id=made.id).run_stats
    assert state.status == "running" and state.num_logs == 1
    assert state.evaluator_stats[0].total_logs == 0  # nothing to judge yet
    hl.prompts.update_log(id=prompt.id, log_id=log.id, output="x at last", log_status="complete")
    [state] = eventually_completed(hl, made.id, run.id).run_stats
    assert (state.evaluator_stats[0].num_true, state.evaluator_stats[0].total_logs) == (1, 1)


def test_select_judgments_are_counted_per_option(hl: Humanloop) -> None:
    prompt = hl.prompts.upsert(path=unique("qa/graded"), model="gpt-4o")
    grade = hl.evaluators.upsert(
        path=unique("judges/grade"),
        spec={
            "arguments_type": "target_free",
            "return_type": "select",
            "evaluator_type": "external",
            "options": [{"name": "good"}, {"name": "bad"}],
        },
    )
    made = hl.evaluations.create(file={"id": prompt.id}, evaluators=[{"id": grade.id}])
    run = hl.evaluations.create_run(id=made.id)  # no Dataset: completed when said so
    for judgment in ("good", "good", "bad", "awful"):
        log = hl.prompts.log(id=prompt.id, output="an answer", run_id=run.id)
        hl.evaluators.log(parent_id=log.id, id=grade.id, judgment=judgment)
    [state] = hl.evaluations.get_stats(id=made.id).run_stats
    assert state.status == "running" and state.num_logs == 4
    [stats] = state.evaluator_stats
    assert isinstance(stats, SelectEvaluatorStatsResponse)
    assert stats.num_judgments_per_option == {"bad": 1, "good": 2}
    assert (stats.total_logs, stats.num_judgments, stats.num_errors) == (4, 3, 1)  # "awful"
    hl.evaluations.update_evaluation_run(id=made.id, run_id=run.id, status="completed")
    assert hl.evaluations.get_stats(id=made.id).status == "completed"


def test_refusals_name_the_field(hl: Humanloop, kw) -> None:  # type: ignore[no-untyped-def]
    prompt = hl.prompts.upsert(path=unique("qa/refused"), model="gpt-4o")
    with pytest.raises(UnprocessableEntityError) as no_file:
        hl.evaluations.create(evaluators=[])
    assert no_file.value.body.detail[0].loc[-1] == "file"
    with pytest.raises(UnprocessableEntityError) as unknown:
        hl.evaluations.create(file={"id": prompt.id}, evaluators=[{"path": "judges/none"}])
    assert list(unknown.value.body.detail[0].loc)[-2:] == ["evaluators", 0]
    made = hl.evaluations.create(file={"id": prompt.id}, evaluators=[])
    with pytest.raises(UnprocessableEntityError) as orchestrated:
        hl.evaluations.create_run(id=made.id, orchestrated=True)
    assert orchestrated.value.body.detail[0].loc[-1] == "orchestrated"
    with pytest.raises(HumanloopRuntimeError) as no_run:  # the SDK wraps what `log` raises
        hl.prompts.log(id=prompt.id, output="x", run_id="run_none")
    refusal = no_run.value.__cause__
    assert isinstance(refusal, UnprocessableEntityError)
    assert refusal.body.detail[0].loc[-1] == "run_id"


def test_another_organizations_evaluation_is_not_found(hl: Humanloop, tenant_factory) -> None:  # type: ignore[no-untyped-def]
    prompt = hl.prompts.upsert(path=unique("qa/mine"), model="gpt-4o")
    made = hl.evaluations.create(file={"id": prompt.id}, evaluators=[])
    run = hl.evaluations.create_run(id=made.id)
    stranger = tenant_factory()
    theirs = Humanloop(api_key=stranger.key, base_url=f"{stranger.base_url}/v5")
    for call in (
        lambda: theirs.evaluations.get(id=made.id),
        lambda: theirs.evaluations.get_stats(id=made.id),
        lambda: theirs.evaluations.create_run(id=made.id),
        lambda: theirs.evaluations.delete(id=made.id),
    ):
        with pytest.raises(ApiError) as hidden:
            call()
        assert hidden.value.status_code == 404
    own = theirs.evaluations.create(
        file={"id": theirs.prompts.upsert(path="qa/theirs", model="gpt-4o").id}, evaluators=[]
    )
    with pytest.raises(ApiError) as not_theirs:
        theirs.evaluations.add_existing_run(id=own.id, run_id=run.id)
    assert not_theirs.value.status_code == 404
    with pytest.raises(HumanloopRuntimeError) as refused:  # nor can they log to it
        theirs.prompts.log(path="qa/theirs", output="x", run_id=run.id)
    assert isinstance(refused.value.__cause__, UnprocessableEntityError)
    assert hl.evaluations.get(id=made.id).id == made.id
