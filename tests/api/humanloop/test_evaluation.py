"""Evaluation through the official `humanloop==0.8.38` SDK: Evaluators (upsert, list, get,
delete), judgments logged as Evaluator Logs, and monitoring Evaluators that judge new Logs by
themselves; each judgment is one score, seen by both dialects."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from humanloop.errors import UnprocessableEntityError
from humanloop.types import EvaluatorLogResponse, MonitoringEvaluatorResponse

BOOLEAN = {"arguments_type": "target_free", "return_type": "boolean", "evaluator_type": "human"}
NUMBER = {
    "arguments_type": "target_free",
    "return_type": "number",
    "evaluator_type": "human",
    "number_limits": {"min": 0, "max": 5},
}
CONTAINS_X = {
    "type": "rule",
    "score_value_type": "boolean",
    "rule_config": {"rule": "contains", "value": "x"},
}
WAIT_SECONDS = 10  # the server's worker polls every 0.2 s


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=f"{tenant.base_url}/v5")


@pytest.fixture
def kw(tenant):
    """The Keywords AI dialect, for the other side of the same judgments."""
    with tenant.client() as client:
        yield client


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def a_prompt_log(hl: Humanloop, output: str = "an answer", path: str | None = None) -> str:
    log = hl.prompts.log(
        path=path or unique("support/answer"), prompt={"model": "gpt-4o"}, output=output
    )
    return log.id


def judgments_of(hl: Humanloop, log_id: str) -> list[dict[str, Any]]:
    return hl.logs.get(id=log_id)["evaluator_logs"]


def scores_of(kw: httpx.Client, log_id: str) -> list[dict[str, Any]]:
    answer = kw.get(f"/api/logs/{log_id}/scores/")
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def eventually_judged(hl: Humanloop, log_id: str) -> list[dict[str, Any]]:
    """The log's judgments, once there are some."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := judgments_of(hl, log_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert found, f"no judgment of {log_id} within {WAIT_SECONDS} s"
    return found


def test_evaluators_are_upserted_listed_got_and_deleted(hl: Humanloop, kw, tenant_factory) -> None:
    base = unique("judges")
    first = hl.evaluators.upsert(path=f"judges/{base}-b-helpful", spec=BOOLEAN)
    second = hl.evaluators.upsert(path=f"judges/{base}-a-polite", spec=NUMBER)
    assert first.id.startswith("ev_") and first.evaluators == []
    assert kw.get(f"/api/evaluators/{first.id}/").json()["score_value_type"] == "boolean"
    newer = hl.evaluators.upsert(id=first.id, spec={**BOOLEAN, "return_type": "text"})
    assert newer.id == first.id and newer.version_id != first.version_id
    assert kw.get(f"/api/evaluators/{first.id}/").json()["score_value_type"] == "text"

    by_name = [e.id for e in hl.evaluators.list(name=base.upper(), sort_by="name", order="asc")]
    assert by_name == [second.id, first.id], "a name substring in any case, sorted by name"
    page = hl.evaluators.list(name=base, size=1, page=2, sort_by="created_at", order="desc")
    assert [e.id for e in page.items] == [first.id]
    assert page.items[0].version_id == newer.version_id, "each at its newest version"
    assert [e.id for e in hl.evaluators.list(name=base, page=3, size=1).items] == []
    assert hl.evaluators.get(second.id).spec.number_limits.max == 5

    other = tenant_factory()
    stranger = Humanloop(api_key=other.key, base_url=f"{other.base_url}/v5")
    with pytest.raises(ApiError) as theirs:
        stranger.evaluators.delete(first.id)
    assert theirs.value.status_code == 404, "another organization's evaluator is none of theirs"
    assert list(stranger.evaluators.list(name=base)) == []

    hl.evaluators.delete(first.id)
    for gone in (lambda: hl.evaluators.get(first.id), lambda: hl.evaluators.delete(first.id)):
        with pytest.raises(ApiError) as missing:
            gone()
        assert missing.value.status_code == 404
    assert kw.get(f"/api/evaluators/{first.id}/").status_code == 404
    assert [e.id for e in hl.evaluators.list(name=base)] == [second.id]


def test_an_evaluator_log_is_the_score_of_the_log_it_judges(hl: Humanloop, kw) -> None:
    judged = a_prompt_log(hl)
    evaluator = hl.evaluators.upsert(path=unique("judges/helpful"), spec=BOOLEAN)
    first = hl.evaluators.log(parent_id=judged, id=evaluator.id, judgment=True, output="fine")

    [shown] = judgments_of(hl, judged)
    assert shown["id"] == first.id and shown["judgment"] is True
    parsed = EvaluatorLogResponse.model_validate(shown)
    assert parsed.parent_id == judged and parsed.evaluator.id == evaluator.id
    [score] = scores_of(kw, judged)
    assert score["evaluator_id"] == evaluator.id and score["boolean_value"] is True
    assert score["source"] == "humanloop" and score["explanation"] == "fine"
    logged = kw.get(f"/api/request-logs/{judged}/").json()["scores"]
    assert logged[evaluator.id]["boolean_value"] is True

    again = hl.evaluators.log(parent_id=judged, id=evaluator.id, judgment=False)
    [shown] = judgments_of(hl, judged)
    assert shown["id"] == again.id and shown["judgment"] is False, "the newer judgment replaces"
    [replaced] = scores_of(kw, judged)
    assert replaced["id"] == score["id"] and replaced["boolean_value"] is False


def test_a_judgment_that_does_not_fit_is_an_error_score(hl: Humanloop, kw) -> None:
    judged = a_prompt_log(hl)
    evaluator = hl.evaluators.upsert(path=unique("judges/stars"), spec=NUMBER)
    logged = hl.evaluators.log(parent_id=judged, id=evaluator.id, judgment="plenty")
    [score] = scores_of(kw, judged)
    assert score["numerical_value"] is None
    assert "number" in score["error"] and "plenty" in score["error"]
    [shown] = judgments_of(hl, judged)
    assert shown["id"] == logged.id and shown["judgment"] == "plenty", "as it was logged"
    assert shown["error"] == score["error"], "and why it is no score"

    hl.evaluators.log(parent_id=judged, id=evaluator.id, judgment=9)
    assert "outside the range" in scores_of(kw, judged)[0]["error"]


def test_deleting_an_evaluator_log_withdraws_its_judgment(hl: Humanloop, kw) -> None:
    judged = a_prompt_log(hl)
    evaluator = hl.evaluators.upsert(path=unique("judges/brief"), spec=BOOLEAN)
    logged = hl.evaluators.log(parent_id=judged, id=evaluator.id, judgment=True)
    hl.logs.delete(id=[logged.id])
    assert judgments_of(hl, judged) == [] and scores_of(kw, judged) == []


def test_scores_of_the_keywords_api_are_evaluator_logs(hl: Humanloop, kw) -> None:
    judged = a_prompt_log(hl)
    made = kw.post("/api/evaluators/", json={"name": unique("stars"), **CONTAINS_X})
    evaluator_id = made.json()["id"]
    body = {"evaluator_id": evaluator_id, "boolean_value": True, "explanation": "checked"}
    score = kw.post(f"/api/logs/{judged}/scores/", json=body)
    assert score.status_code == 201, score.text
    score = score.json()
    [shown] = judgments_of(hl, judged)
    parsed = EvaluatorLogResponse.model_validate(shown)
    assert parsed.id == score["id"] and parsed.parent_id == judged
    assert parsed.judgment is True and parsed.output == "checked"
    assert parsed.log_status == "complete" and parsed.evaluator.id == evaluator_id


def test_monitoring_evaluators_judge_new_logs(hl: Humanloop, kw, tenant) -> None:
    made = kw.post("/api/evaluators/", json={"name": unique("has-x"), **CONTAINS_X})
    assert made.status_code == 201, made.text
    evaluator_id = made.json()["id"]
    version_id = hl.evaluators.get(evaluator_id).version_id
    path = unique("support/monitored")
    prompt = hl.prompts.upsert(path=path, model="gpt-4o")

    monitored = hl.prompts.update_monitoring(
        prompt.id, activate=[{"evaluator_version_id": version_id}]
    )
    [monitor] = monitored.evaluators
    assert monitor.state == "active" and monitor.version_reference.type == "version"
    assert monitor.version_reference.version.id == evaluator_id
    assert kw.get(f"/api/evaluators/{evaluator_id}/").json()["type"] == "rule", "still a rule"
    with tenant.client("x-api-key") as api:
        [raw] = api.get(f"/v5/prompts/{prompt.id}").json()["evaluators"]
    assert MonitoringEvaluatorResponse.model_validate(raw).version.id == evaluator_id

    passing = a_prompt_log(hl, "a box of x", path)
    failing = a_prompt_log(hl, "nothing", path)
    [judged] = eventually_judged(hl, passing)
    parsed = EvaluatorLogResponse.model_validate(judged)
    assert parsed.judgment is True and parsed.evaluator.id == evaluator_id
    assert parsed.id.startswith("sc_") and parsed.parent_id == passing
    assert eventually_judged(hl, failing)[0]["judgment"] is False
    records = {r.id: r for r in hl.logs.list(file_id=prompt.id, size=10)}
    assert [e.judgment for e in records[passing].evaluator_logs] == [True]
    assert [e.judgment for e in records[failing].evaluator_logs] == [False]

    env_item = {"evaluator_id": evaluator_id, "environment_id": "production"}
    stopped = hl.prompts.update_monitoring(prompt.id, deactivate=[env_item])
    assert stopped.evaluators == []
    unjudged = a_prompt_log(hl, "x marks the spot", path)
    time.sleep(1.5)
    assert judgments_of(hl, unjudged) == [], "a deactivated evaluator judges no new log"


def test_monitoring_names_what_it_cannot_find(hl: Humanloop) -> None:
    flow = hl.flows.upsert(path=unique("flows/monitored"), attributes={"v": 1})
    evaluator = hl.evaluators.upsert(path=unique("judges/any"), spec=BOOLEAN)
    with pytest.raises(UnprocessableEntityError) as unknown:
        known, unknown_item = evaluator.version_id, "evv_nope"
        hl.flows.update_monitoring(
            flow.id,
            activate=[{"evaluator_version_id": known}, {"evaluator_version_id": unknown_item}],
        )
    assert unknown.value.body.detail[0].loc == ["body", "activate", 1, "evaluator_version_id"]
    assert hl.flows.get(flow.id).evaluators == [], "nothing changed"
    with pytest.raises(ApiError) as not_a_tool:
        hl.tools.update_monitoring(flow.id, activate=[{"evaluator_version_id": "x"}])
    assert not_a_tool.value.status_code == 404

    done = hl.flows.update_monitoring(
        flow.id, activate=[{"evaluator_version_id": evaluator.version_id}]
    )
    assert [m.version.id for m in done.evaluators] == [evaluator.id]
    assert [m.version.id for m in hl.files.retrieve_by_path(path=flow.path).evaluators] == [
        evaluator.id
    ]


def test_monitoring_evaluators_judge_the_judgments_of_an_evaluator(hl: Humanloop, kw) -> None:
    made = kw.post("/api/evaluators/", json={"name": unique("has-x"), **CONTAINS_X})
    monitor_id = made.json()["id"]
    monitor = hl.evaluators.get(monitor_id)
    judge = hl.evaluators.upsert(path=unique("judges/human"), spec=BOOLEAN)

    monitored = hl.evaluators.update_monitoring(
        judge.id, activate=[{"evaluator_version_id": monitor.version_id}]
    )
    assert [m.version.id for m in monitored.evaluators] == [monitor_id]
    assert [m.version.id for m in hl.evaluators.get(judge.id).evaluators] == [monitor_id]

    judged = a_prompt_log(hl)
    judgment = hl.evaluators.log(parent_id=judged, id=judge.id, judgment=True, output="x: fine")
    [of_judgment] = eventually_judged(hl, judgment.id)
    assert of_judgment["evaluator"]["id"] == monitor_id and of_judgment["judgment"] is True
    assert of_judgment["parent_id"] == judgment.id
    [of_log] = judgments_of(hl, judged)
    assert of_log["id"] == judgment.id, "the judged log has the judgment, not its judgment"

    stopped = hl.evaluators.update_monitoring(judge.id, deactivate=[{"evaluator_id": monitor_id}])
    assert stopped.evaluators == []
    unjudged = hl.evaluators.log(
        parent_id=a_prompt_log(hl), id=judge.id, judgment=False, output="x"
    )
    time.sleep(1.5)
    assert judgments_of(hl, unjudged.id) == [], "a deactivated evaluator judges no new judgment"


def test_an_evaluator_cannot_monitor_itself(hl: Humanloop) -> None:
    judge = hl.evaluators.upsert(path=unique("judges/self"), spec=BOOLEAN)
    other = hl.evaluators.upsert(path=unique("judges/other"), spec=BOOLEAN)
    with pytest.raises(UnprocessableEntityError) as refused:
        hl.evaluators.update_monitoring(
            judge.id,
            activate=[{"evaluator_version_id": other.version_id}, {"evaluator_id": judge.id}],
        )
    [error] = refused.value.body.detail
    assert error.loc == ["body", "activate", 1, "evaluator_id"]
    assert "own judgments" in error.msg
    assert hl.evaluators.get(judge.id).evaluators == [], "nothing changed"
    both = hl.evaluators.update_monitoring(
        other.id, activate=[{"evaluator_version_id": judge.version_id}]
    )
    assert [m.version.id for m in both.evaluators] == [judge.id], "each other is no loop"
