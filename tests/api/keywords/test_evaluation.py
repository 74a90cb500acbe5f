"""Online evaluation through the Keywords AI dialect, against a live server: evaluators,
conditions and automations (seed 003 to the letter), the scores the server's worker writes,
and score filters and sorts in the log list."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from llmtrail.core.automations import sampled
from tests.fakes.openai_server import FakeOpenAI, Reply, completion

SEED_RESPONSE_KEYS = {
    "id",
    "automation_slug",
    "name",
    "automation_type",
    "condition",
    "evaluator_ids",
    "evaluator_details",
    "is_enabled",
    "configuration",
    "created_at",
    "updated_at",
}


def rule_evaluator(api: httpx.Client, name: str = "Mentions refund", **rule: Any) -> dict:
    answer = api.post(
        "/api/evaluators/",
        json={
            "name": name,
            "type": "rule",
            "score_value_type": "boolean",
            "rule_config": rule or {"rule": "contains", "value": "refund"},
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def condition(api: httpx.Client, *rules: dict, connector: str = "AND", slug: str = "") -> dict:
    answer = api.post(
        "/automation/conditions/",
        json={
            "name": "Successful Requests",
            "condition_slug": slug or f"success_{uuid.uuid4().hex[:6]}",
            "condition_type": "single_log",
            "condition_policy": {
                "rules": list(rules)
                or [{"field": "status_code", "operator": "equals", "value": 200}],
                "connector": connector,
            },
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def automation(api: httpx.Client, cond: dict, evaluator_ids: list[str], **extra: Any) -> dict:
    body = {
        "automation_slug": f"prod_quality_monitor_{uuid.uuid4().hex[:6]}",
        "name": "Production Quality Monitor",
        "automation_type": "online_eval",
        "condition": cond["id"],
        "evaluator_ids": evaluator_ids,
        "configuration": {"sampling_rate": 1.0},
        "is_enabled": True,
        **extra,
    }
    answer = api.post("/automation/automations/", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def log(api: httpx.Client, output: str = "your refund is on its way", **fields: Any) -> str:
    body = {
        "model": "gpt-4o",
        "prompt_messages": [{"role": "user", "content": "where is my money?"}],
        "completion_message": {"role": "assistant", "content": output},
        **fields,
    }
    answer = api.post("/api/request-logs/", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["unique_id"]


def eventually(check: Callable[[], Any], seconds: float = 30.0) -> Any:
    """`check()`'s first truthy answer, polled: the server's worker scores in the background."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def scores_of(api: httpx.Client, unique_id: str) -> dict:
    return api.get(f"/api/request-logs/{unique_id}/").json()["scores"]


def summary(api: httpx.Client) -> dict:
    return api.get("/api/jobs/summary/").json()


def jobs(api: httpx.Client) -> dict:
    """The summary's totals without event redeliveries: under load the subscriber may overrun
    its budget and leave an event job, which then queues the evaluations (`core/events.py`)."""
    answer = summary(api)
    ours = [o["by_state"] for o in answer["by_origin"] if not o["origin"].startswith("event:")]
    by_state = {state: sum(o[state] for o in ours) for state in answer["by_state"]}
    return {"total": sum(by_state.values()), "by_state": by_state}


def unfinished_events(api: httpx.Client) -> list[dict]:
    """The origins of event redeliveries still to run."""
    return [
        o
        for o in summary(api)["by_origin"]
        if o["origin"].startswith("event:") and o["by_state"]["pending"] + o["by_state"]["running"]
    ]


# --- seed 003 -------------------------------------------------------------------------------


@pytest.fixture
def seeded(api: httpx.Client) -> dict:
    """The seed's automation: 'prod_quality_monitor' over 'success_logs' with one evaluator."""
    quality = rule_evaluator(api, "Response Quality Evaluator")
    cond = condition(api, slug="success_logs")
    made = automation(
        api,
        cond,
        [quality["id"]],
        automation_slug="prod_quality_monitor",
        configuration={"sampling_rate": 0.15},
    )
    return {"automation": made, "quality": quality, "condition": cond}


def test_the_seed_response_shape(api: httpx.Client, seeded: dict) -> None:
    made, quality, cond = seeded["automation"], seeded["quality"], seeded["condition"]
    assert set(made) == SEED_RESPONSE_KEYS
    assert made["automation_type"] == "online_eval" and made["is_enabled"] is True
    assert made["condition"] == {
        "id": cond["id"],
        "condition_slug": "success_logs",
        "name": "Successful Requests",
        "condition_type": "single_log",
    }
    assert made["evaluator_ids"] == [quality["id"]]
    assert made["evaluator_details"] == [
        {
            "id": quality["id"],
            "name": "Response Quality Evaluator",
            "evaluator_slug": quality["evaluator_slug"],
            "eval_class": "keywordsai_custom_evaluator",
        }
    ]
    assert made["configuration"] == {"evaluator_ids": [quality["id"]], "sampling_rate": 0.15}
    assert made["created_at"].endswith("Z") and made["updated_at"].endswith("Z")


@pytest.mark.parametrize("by", ["id", "automation_slug"])
def test_the_seed_examples_as_written(api: httpx.Client, seeded: dict, by: str) -> None:
    made = seeded["automation"]
    url = f"/automation/automations/{made[by]}/"
    safety = rule_evaluator(api, "Safety")
    hallucination = rule_evaluator(api, "Hallucination")
    quality = seeded["quality"]["id"]

    disabled = api.patch(url, json={"is_enabled": False})  # Enable/Disable Automation
    assert disabled.status_code == 200 and disabled.json()["is_enabled"] is False

    rate = api.patch(url, json={"configuration": {"sampling_rate": 0.2}})  # Update Sampling Rate
    assert rate.json()["configuration"] == {"evaluator_ids": [quality], "sampling_rate": 0.2}

    listed = api.patch(  # Update Evaluator List: replaced, not appended
        url, json={"evaluator_ids": [quality, safety["id"], hallucination["id"]]}
    ).json()
    assert listed["evaluator_ids"] == [quality, safety["id"], hallucination["id"]]
    assert [d["id"] for d in listed["evaluator_details"]] == listed["evaluator_ids"]
    assert listed["configuration"]["evaluator_ids"] == listed["evaluator_ids"]

    many = api.patch(  # Update Multiple Fields
        url,
        json={
            "is_enabled": True,
            "configuration": {"sampling_rate": 0.15},
            "evaluator_ids": [quality],
        },
    ).json()
    assert (many["is_enabled"], many["evaluator_ids"]) == (True, [quality])
    assert many["configuration"] == {"evaluator_ids": [quality], "sampling_rate": 0.15}
    assert many["updated_at"] >= made["updated_at"] and set(many) == SEED_RESPONSE_KEYS

    reduced = api.patch(url, json={"configuration": {"sampling_rate": 0.01}}).json()
    assert reduced["configuration"]["sampling_rate"] == 0.01  # Reduce Sampling Rate
    assert api.get(url).json() == reduced


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        (
            {"evaluator_ids": ["invalid-uuid-123"]},
            400,
            {"evaluator_ids": ["Evaluators not found: invalid-uuid-123"]},
        ),
        (
            {"configuration": {"sampling_rate": 1.5}},
            400,
            {"configuration": {"sampling_rate": ["Sampling rate must be between 0.0 and 1.0"]}},
        ),
        ({"evaluator_ids": []}, 400, {"evaluator_ids": ["At least one evaluator is required"]}),
    ],
)
def test_the_seed_error_bodies(
    api: httpx.Client, seeded: dict, body: dict, status: int, answer: dict
) -> None:
    url = f"/automation/automations/{seeded['automation']['id']}/"
    refused = api.patch(url, json=body)
    assert (refused.status_code, refused.json()) == (status, answer)
    assert api.get(url).json() == seeded["automation"], "nothing changed"


def test_the_seed_401_and_404(api: httpx.Client, tenant, seeded: dict) -> None:  # type: ignore[no-untyped-def]
    anonymous = httpx.patch(
        f"{tenant.base_url}/automation/automations/prod_quality_monitor/",
        json={"is_enabled": False},
    )
    assert (anonymous.status_code, anonymous.json()) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )
    missing = api.patch("/automation/automations/auto-eval-001/", json={"is_enabled": False})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Automation not found"})


def test_another_organizations_automation_is_not_found(
    api: httpx.Client, tenant_factory, seeded: dict
) -> None:  # type: ignore[no-untyped-def]
    with tenant_factory().client() as other:
        url = f"/automation/automations/{seeded['automation']['id']}/"
        assert other.patch(url, json={"is_enabled": False}).status_code == 404
        assert other.get("/automation/automations/").json()["count"] == 0
    assert api.get(f"/automation/automations/{seeded['automation']['id']}/").json()["is_enabled"]


def test_automations_and_conditions_also_answer_under_api(api: httpx.Client, seeded: dict) -> None:
    made = seeded["automation"]
    assert api.get(f"/api/automations/{made['id']}").json()["id"] == made["id"]
    assert api.get("/api/conditions/").json()["count"] == 1


def test_create_refuses_an_unknown_condition_and_a_non_online_type(api: httpx.Client) -> None:
    quality = rule_evaluator(api)
    body = {
        "automation_slug": "x",
        "name": "X",
        "automation_type": "online_eval",
        "condition": "cond-invalid",
        "evaluator_ids": [quality["id"]],
        "configuration": {"sampling_rate": 0.5},
    }
    unknown = api.post("/automation/automations/", json=body)
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"condition": ["Condition not found: cond-invalid"]},
    )
    other = api.post("/automation/automations/", json={**body, "automation_type": "alerts"})
    assert other.status_code == 400 and "automation_type" in other.json()


# --- conditions -----------------------------------------------------------------------------


def test_condition_errors_follow_the_contract(api: httpx.Client) -> None:
    body = {
        "name": "Bad",
        "condition_slug": "bad",
        "condition_type": "single_log",
        "condition_policy": {
            "rules": [{"field": "status_code", "operator": "invalid_op", "value": 1}],
            "connector": "AND",
        },
    }
    bad_op = api.post("/automation/conditions/", json=body)
    assert (bad_op.status_code, bad_op.json()) == (
        400,
        {"condition_policy": ["Invalid operator 'invalid_op' for field 'status_code'"]},
    )
    aggregate = api.post("/automation/conditions/", json={**body, "condition_type": "aggregation"})
    assert (aggregate.status_code, aggregate.json()) == (
        422,
        {
            "condition_type": [
                "Condition type must be 'single_log' for online evaluation automations"
            ]
        },
    )
    unknown_field = api.post(
        "/automation/conditions/",
        json={
            **body,
            "condition_policy": {"rules": [{"field": "nope", "operator": "equals", "value": 1}]},
        },
    )
    assert (
        unknown_field.status_code == 400 and "nope" in unknown_field.json()["condition_policy"][0]
    )


def test_conditions_list_search_and_page(api: httpx.Client) -> None:
    for n in range(3):
        condition(api, slug=f"latency_{n}")
    page = api.get("/automation/conditions/", params={"page_size": 2, "search": "latency"}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert page["filters_data"] == {}
    rest = httpx.get(page["next"], headers=api.headers).json()
    assert len(rest["results"]) == 1 and rest["previous"]


# --- evaluators and scores -------------------------------------------------------------------


def test_evaluator_crud_merges_configuration_and_keeps_past_scores(api: httpx.Client) -> None:
    made = api.post(
        "/api/evaluators/",
        json={
            "name": "Helpfulness",
            "type": "human",
            "score_value_type": "numerical",
            "score_config": {"min_score": 1, "max_score": 5},
            "passing_conditions": {"primary_score": {"operator": "gte", "value": 3}},
        },
    ).json()
    assert (made["evaluator_slug"], made["slug"]) == ("helpfulness", "helpfulness")
    patched = api.patch(
        f"/api/evaluators/{made['id']}/", json={"score_config": {"max_score": 10}}
    ).json()
    assert patched["score_config"] == {"min_score": 1, "max_score": 10}, "objects merge"
    assert api.get("/api/evaluators/helpfulness/").json()["id"] == made["id"]
    listed = api.get("/api/evaluators/", params={"type": "human", "search": "help"}).json()
    assert [e["id"] for e in listed["results"]] == [made["id"]]

    unique_id = log(api)
    score = api.post(
        f"/api/logs/{unique_id}/scores/",
        json={"evaluator_slug": "helpfulness", "numerical_value": 4},
    )
    assert score.status_code == 201, score.text
    assert (score.json()["numerical_value"], score.json()["is_passed"]) == (4, True)
    again = api.post(
        f"/api/logs/{unique_id}/scores/", json={"evaluator_id": made["id"], "numerical_value": 2}
    )
    assert (again.status_code, again.json()) == (
        409,
        {"error": "A score already exists for this evaluator in this log."},
    )
    out_of_range = api.post(
        "/api/scores/", json={"log_id": log(api), "evaluator_id": made["id"], "numerical_value": 11}
    )
    assert out_of_range.status_code == 400 and "numerical_value" in out_of_range.json()

    assert api.delete(f"/api/evaluators/{made['id']}/").status_code == 204
    assert api.get(f"/api/evaluators/{made['id']}/").status_code == 404
    kept = scores_of(api, unique_id)
    assert kept[made["id"]]["numerical_value"] == 4, "past scores are kept"


def test_scores_are_corrected_listed_and_deleted(api: httpx.Client) -> None:
    evaluator = api.post(
        "/api/evaluators/",
        json={
            "name": "Tone",
            "type": "human",
            "score_value_type": "single_select",
            "categorical_choices": [{"name": "polite"}, {"name": "rude"}],
        },
    ).json()
    unique_id = log(api)
    made = api.post(
        "/api/scores/",
        json={"log_id": unique_id, "evaluator_id": evaluator["id"], "categorical_value": ["rude"]},
    ).json()
    fixed = api.patch(f"/api/scores/{made['id']}/", json={"categorical_value": ["polite"]})
    assert fixed.json()["categorical_value"] == ["polite"]
    wrong = api.patch(f"/api/scores/{made['id']}/", json={"categorical_value": ["grumpy"]})
    assert wrong.status_code == 400 and "categorical_value" in wrong.json()
    listed = api.get(f"/api/logs/{unique_id}/scores/").json()
    assert [s["id"] for s in listed["results"]] == [made["id"]]
    assert api.get(f"/api/logs/{log(api)}/scores/{made['id']}/").status_code == 404
    assert api.delete(f"/api/logs/{unique_id}/scores/{made['id']}/").status_code == 204
    assert scores_of(api, unique_id) == {}


def test_run_scores_given_inputs_without_storing(api: httpx.Client) -> None:
    evaluator = rule_evaluator(api, "Refund mentioned")
    ran = api.post(
        f"/api/evaluators/{evaluator['id']}/run/", json={"inputs": {"output": "a refund, sure"}}
    ).json()
    assert (ran["score"], ran["boolean_value"]) == (True, True)
    assert "refund" in ran["explanation"]
    assert api.get("/api/scores/").json()["count"] == 0


def test_a_bad_evaluator_definition_is_refused_naming_the_field(api: httpx.Client) -> None:
    for body, field in [
        ({"type": "llm", "llm_config": {"model": "gpt-4o"}}, "llm_config"),
        ({"type": "code", "code_config": {"eval_code_snippet": "x = 1"}}, "code_config"),
        ({"type": "rule", "rule_config": {"rule": "regex", "pattern": "("}}, "rule_config"),
        ({"type": "oracle"}, "type"),
    ]:
        answer = api.post(
            "/api/evaluators/", json={"name": "x", "score_value_type": "boolean", **body}
        )
        assert answer.status_code == 400 and field in answer.json(), (body, answer.text)
    assert api.get("/api/evaluators/").json()["count"] == 0, "nothing half-written"


def test_a_field_of_the_wrong_type_is_refused_naming_it(api: httpx.Client) -> None:
    """A 400 naming the field, never a 500 nor the value kept as it came (a `"false"` that
    would enable an automation, choices that are not a list); nothing is written."""
    rule, cond = rule_evaluator(api), condition(api)
    made = automation(api, cond, [rule["id"]])
    human = {"name": "Rating", "type": "human", "score_value_type": "numerical"}
    rating = api.post("/api/evaluators/", json=human).json()
    given = {"log_id": log(api), "evaluator_id": rating["id"], "numerical_value": 1}
    score = api.post("/api/scores/", json=given).json()
    new_condition = {
        "name": "C",
        "condition_slug": "c",
        "condition_type": "single_log",
        "condition_policy": {"rules": []},
    }
    new_automation = {
        "automation_slug": "a",
        "name": "A",
        "automation_type": "online_eval",
        "condition": cond["id"],
        "evaluator_ids": [rule["id"]],
        "configuration": {"sampling_rate": 1.0},
    }
    evaluators, one = "/api/evaluators/", f"/api/evaluators/{rating['id']}/"
    automations = "/automation/automations/"
    for method, path, body, field in [
        ("POST", evaluators, {**human, "description": {}}, "description"),
        ("POST", evaluators, {**human, "evaluator_slug": [1]}, "evaluator_slug"),
        ("POST", evaluators, {**human, "categorical_choices": 5}, "categorical_choices"),
        ("POST", evaluators, {**human, "categorical_choices": "ab"}, "categorical_choices"),
        ("POST", evaluators, {**human, "eval_class": ["x"]}, "eval_class"),
        ("PATCH", one, {"name": {"a": 1}}, "name"),
        ("PATCH", one, {"name": ""}, "name"),
        ("PATCH", one, {"description": [1]}, "description"),
        ("PATCH", one, {"evaluator_slug": "bad slug!"}, "evaluator_slug"),
        ("POST", "/api/scores/", {**given, "explanation": {}}, "explanation"),
        ("PATCH", f"/api/scores/{score['id']}/", {"explanation": []}, "explanation"),
        ("POST", "/automation/conditions/", {**new_condition, "description": {}}, "description"),
        ("POST", automations, {**new_automation, "configuration": [1]}, "configuration"),
        ("POST", automations, {**new_automation, "name": {}}, "name"),
        ("POST", automations, {**new_automation, "is_enabled": "false"}, "is_enabled"),
        ("PATCH", f"{automations}{made['id']}/", {"name": {}}, "name"),
        ("PATCH", f"{automations}{made['id']}/", {"automation_slug": [1]}, "automation_slug"),
    ]:
        answer = api.request(method, path, json=body)
        assert (answer.status_code, list(answer.json())) == (400, [field]), (body, answer.text)
    assert api.get(evaluators).json()["count"] == 2
    assert api.get("/automation/conditions/").json()["count"] == 1
    assert api.get(f"{automations}{made['id']}/").json() == made
    assert api.get(f"/api/scores/{score['id']}/").json() == score


# --- online evaluation ----------------------------------------------------------------------


def test_matching_logs_are_scored_once_and_others_not(api: httpx.Client) -> None:
    refund = rule_evaluator(api)
    automation(
        api,
        condition(api, {"field": "metadata.tier", "operator": "equals", "value": "gold"}),
        [refund["id"]],
    )
    gold = log(api, metadata={"tier": "gold"})
    silver = log(api, metadata={"tier": "silver"})
    scored = eventually(lambda: scores_of(api, gold))
    assert scored[refund["id"]]["boolean_value"] is True
    assert scored[refund["id"]]["explanation"] == "output contains 'refund'"
    eventually(lambda: jobs(api)["by_state"]["pending"] == 0)
    assert scores_of(api, silver) == {}
    assert jobs(api)["by_state"]["done"] == 1


def test_an_incomplete_workflow_is_evaluated_once_it_completes(api: httpx.Client, tenant) -> None:  # type: ignore[no-untyped-def]
    refund = rule_evaluator(api)
    automation(
        api,
        condition(api, {"field": "log_type", "operator": "equals", "value": "workflow"}),
        [refund["id"]],
    )
    flow = api.post(
        "/api/request-logs/", json={"log_type": "workflow", "input": {"q": "where is my money?"}}
    ).json()["unique_id"]
    time.sleep(1.0)  # a worker poll or five: nothing to evaluate yet
    assert scores_of(api, flow) == {} and jobs(api)["total"] == 0
    with tenant.client("x-api-key") as hl:
        completed = hl.patch(
            f"/v5/flows/logs/{flow}", json={"output": "refund sent", "log_status": "complete"}
        )
        assert completed.status_code == 200, completed.text
    assert eventually(lambda: scores_of(api, flow))[refund["id"]]["boolean_value"] is True
    assert jobs(api)["total"] == 1


def test_disabling_stops_new_jobs_and_deleting_cancels_pending(
    api: httpx.Client, llm_provider: FakeOpenAI
) -> None:
    marker = f"slow-{uuid.uuid4().hex}"
    judge = api.post(
        "/api/evaluators/",
        json={
            "name": "Judge",
            "type": "llm",
            "score_value_type": "numerical",
            "llm_config": {
                "model": "judge-model",
                "evaluator_definition": f"{marker} {{{{output}}}}",
            },
        },
    ).json()
    made = automation(api, condition(api), [judge["id"]])
    url = f"/automation/automations/{made['id']}/"
    api.patch(url, json={"is_enabled": False})
    log(api)
    time.sleep(0.5)
    assert jobs(api)["total"] == 0, "a disabled automation queues nothing"

    api.patch(url, json={"is_enabled": True})
    llm_provider.script_for(marker, *[Reply(429, {"error": {"message": "slow down"}})] * 20)
    log(api)
    assert eventually(lambda: jobs(api)["total"] == 1)
    assert api.delete(url).status_code == 204
    # Cancelled at once when it waits for its retry, or when its worker next takes it.
    assert eventually(lambda: jobs(api)["by_state"]["cancelled"] == 1)


def test_an_llm_judge_scores_and_keeps_its_own_usage(
    api: httpx.Client, llm_provider: FakeOpenAI
) -> None:
    marker = f"judge-{uuid.uuid4().hex}"
    judge = api.post(
        "/api/evaluators/",
        json={
            "name": "Quality",
            "type": "llm",
            "score_value_type": "numerical",
            "llm_config": {
                "model": "gpt-4o-mini",
                "evaluator_definition": f"{marker} Q: {{{{input}}}} A: {{{{llm_output}}}}",
                "scoring_rubric": "5 is perfect",
            },
            "score_config": {"min_score": 1, "max_score": 5},
        },
    ).json()
    automation(api, condition(api), [judge["id"]])
    answers = {
        "good": [completion('{"score": 4, "explanation": "helpful"}')],
        "prose": [completion("I would say four")],  # unparseable: an error, never a guess
        "throttled": [
            Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}),
            completion("5"),
        ],
        "hung": [Reply(hang=True), completion('{"score": 3}')],  # a timeout, retried
    }
    for name, replies in answers.items():
        llm_provider.script_for(f"{marker}-{name}", *replies)
    good, prose, throttled, hung = (log(api, output=f"{marker}-{name}") for name in answers)
    wait = 30
    assert eventually(lambda: scores_of(api, good), wait)[judge["id"]]["numerical_value"] == 4
    bad = eventually(lambda: scores_of(api, prose), wait)[judge["id"]]
    assert bad["numerical_value"] is None and bad["is_passed"] is None
    stored = api.get("/api/scores/", params={"evaluator_id": judge["id"]}).json()["results"]
    errors = [s["error"] for s in stored if s["log_id"] == prose]
    assert errors and "I would say four" in errors[0]
    assert eventually(lambda: scores_of(api, throttled), wait)[judge["id"]]["numerical_value"] == 5
    assert eventually(lambda: scores_of(api, hung), wait)[judge["id"]]["numerical_value"] == 3
    usage = next(s for s in stored if s["log_id"] == good)
    assert usage["cost"] and usage["cost"] > 0, "the judge's own cost, from genai-prices"
    sent = llm_provider.sent(marker)[0]
    assert sent.headers["authorization"] == "Bearer test-judge-key"
    assert "where is my money?" in sent.body["messages"][-1]["content"]


# --- score filters and sorts ----------------------------------------------------------------


def test_score_filters_and_sorts_in_the_log_list(api: httpx.Client) -> None:
    rating = api.post(
        "/api/evaluators/",
        json={"name": "Rating", "type": "human", "score_value_type": "numerical"},
    ).json()
    ids = [log(api, output=f"answer {n}") for n in range(5)]
    for value, unique_id in zip([1, 5, 3, 4], ids, strict=False):  # the last log stays unscored
        api.post(
            f"/api/logs/{unique_id}/scores/",
            json={"evaluator_id": rating["id"], "numerical_value": value},
        )

    def listed(filters: dict | None = None, **params: str) -> list[str]:
        body = {"filters": filters} if filters else {}
        page = api.post("/api/request-logs/list/", params=params, json=body).json()
        return [r["id"] for r in page["results"]]

    by_slug = listed({"scores__rating": {"operator": "gte", "value": [4]}})
    assert sorted(by_slug) == sorted([ids[1], ids[3]])
    by_id = listed({f"scores__{rating['id']}": {"operator": "lt", "value": 3}})
    assert by_id == [ids[0]]
    assert listed({"scores__rating": {"operator": "isnull", "value": [True]}}) == [ids[4]]
    assert listed(sort_by="-scores__rating") == [ids[1], ids[3], ids[2], ids[0], ids[4]]
    assert listed(sort_by="scores__rating")[:4] == [ids[0], ids[2], ids[3], ids[1]]
    summary = api.post(
        "/api/request-logs/summary/",
        json={"filters": {"scores__rating": {"operator": "gt", "value": 2}}},
    ).json()
    assert summary["number_of_requests"] == 3
    page = api.post("/api/request-logs/list/", json={}).json()["results"]
    by_log = {r["id"]: r["scores"] for r in page}
    assert by_log[ids[1]][rating["id"]]["numerical_value"] == 5 and by_log[ids[4]] == {}


def test_sampling_selects_the_rate_and_always_the_same_logs(api: httpx.Client) -> None:
    refund = rule_evaluator(api)
    made = automation(api, condition(api), [refund["id"]], configuration={"sampling_rate": 0.15})
    ids = [uuid.uuid4().hex for _ in range(10_000)]
    for start in range(0, len(ids), 500):
        bulk = [
            {"unique_id": i, "model": "gpt-4o", "output": "ok"} for i in ids[start : start + 500]
        ]
        assert api.post("/api/request-logs/bulk/", json={"logs": bulk}).status_code == 201
    # A batch its subscriber could not take within its budget (a loaded machine) is queued as
    # an `event` job, whose redelivery queues the evaluations a moment later.
    assert eventually(lambda: not unfinished_events(api)), unfinished_events(api)
    queued: set[str] = set()
    page = 1
    while True:
        answer = api.get("/api/jobs/", params={"page": page, "page_size": 1000}).json()
        queued |= {
            j["payload"]["log_unique_id"] for j in answer["results"] if j["kind"] == "evaluate"
        }
        if not answer["next"]:
            break
        page += 1
    assert abs(len(queued) / len(ids) - 0.15) <= 0.015
    expected = {i for i in ids if sampled(made["id"], i, 0.15)}
    assert queued == expected, "the decision is the automation's hash of each log"


HOSTILE = {
    "loops forever": ("while True:\n        pass", "time limit"),
    "allocates 10 GB": ("return len(bytearray(10 * 2**30))", "memory limit"),
    "opens a socket": (
        "import socket\n    socket.create_connection(('127.0.0.1', 5432), timeout=1)",
        "OSError",
    ),
    "reads the data dir": ("return open({db!r}).read(10)", "Error"),
}


def test_hostile_code_ends_as_error_scores_and_the_server_keeps_serving(
    api: httpx.Client, server
) -> None:  # type: ignore[no-untyped-def]
    database = str(server.data_dir / "llmtrail.db")
    made = {}
    for name, (body, _) in HOSTILE.items():
        code = "def main(eval_inputs):\n    " + body.format(db=database)
        made[name] = api.post(
            "/api/evaluators/",
            json={
                "name": name,
                "type": "code",
                "score_value_type": "numerical",
                "code_config": {"eval_code_snippet": code},
            },
        ).json()["id"]
    automation(api, condition(api), list(made.values()))
    unique_id = log(api)
    while not (found := scores_of(api, unique_id)) or len(found) < len(made):
        assert api.get("/api/request-logs/list/").status_code == 200, "still serving"
        time.sleep(0.2)
    results = api.get("/api/scores/", params={"page_size": 100}).json()["results"]
    errors = {s["evaluator_id"]: s["error"] for s in results if s["log_id"] == unique_id}
    for name, (_, reason) in HOSTILE.items():
        assert errors[made[name]] and reason in errors[made[name]], (name, errors[made[name]])
