"""Evaluation pages: evaluators, conditions and automations created and edited through the
forms (the API reads back what they did), jobs and score distributions shown."""

from __future__ import annotations

import json
import re

from sqlalchemy import Engine

from tests.conftest import Server
from tests.ui.conftest import Browserless, Org, browserless

POLICY = {"rules": [{"field": "status_code", "operator": "equals", "value": 200}]}


def _build(client: Browserless) -> None:
    page = "/evaluation"
    assert client.submit(page, "/evaluation/evaluators", name="Helpful").status_code == 303
    made = client.submit(
        page, "/evaluation/conditions", name="OK", slug="ok", policy=json.dumps(POLICY)
    )
    assert made.status_code == 303, made.text


def test_an_automation_is_created_and_its_sampling_rate_changed(
    server: Server, engine: Engine, org: Org, signed_in: Browserless
) -> None:
    _build(signed_in)
    with org.api(server.base_url) as api:
        [evaluator] = api.get("/api/evaluators/").json()["results"]
        [cond] = api.get("/automation/conditions/").json()["results"]
        made = signed_in.post(
            "/evaluation/automations",
            data={
                "csrf_token": signed_in.token("/evaluation"),
                "name": "Quality",
                "slug": "quality",
                "condition": cond["id"],
                "evaluator_ids": [evaluator["id"]],
                "sampling_rate": "0.5",
                "enabled": "on",
            },
        )
        assert made.status_code == 303, made.text
        [auto] = api.get("/automation/automations/").json()["results"]
        assert (auto["configuration"]["sampling_rate"], auto["is_enabled"]) == (0.5, True)
        page = signed_in.get("/evaluation").text
        assert "Quality" in page and "50%" in page and "Helpful" in page
        edited = signed_in.post(
            f"/evaluation/automations/{auto['id']}",
            data={
                "csrf_token": signed_in.token(f"/evaluation/automations/{auto['id']}"),
                "name": "Quality",
                "sampling_rate": "0.1",
                "evaluator_ids": [evaluator["id"]],
            },
        )
        assert edited.status_code == 303
        again = api.get(f"/automation/automations/{auto['id']}/").json()
        assert (again["configuration"]["sampling_rate"], again["is_enabled"]) == (0.1, False)
        bad = signed_in.post(
            f"/evaluation/automations/{auto['id']}",
            data={
                "csrf_token": signed_in.token("/evaluation"),
                "name": "Quality",
                "sampling_rate": "3",
                "evaluator_ids": [evaluator["id"]],
            },
        )
        assert bad.status_code == 400 and "Sampling rate must be between 0.0 and 1.0" in bad.text


def test_scores_are_counted_per_value(
    server: Server, engine: Engine, org: Org, signed_in: Browserless
) -> None:
    _build(signed_in)
    with org.api(server.base_url) as api:
        [evaluator] = api.get("/api/evaluators/").json()["results"]
        for value in (1, 4, 4):
            uid = api.post("/api/request-logs/", json={"model": "m"}).json()["unique_id"]
            given = api.post(
                f"/api/logs/{uid}/scores/",
                json={"evaluator_id": evaluator["id"], "numerical_value": value},
            )
            assert given.status_code == 201, given.text
    page = signed_in.get("/evaluation").text
    rows = re.findall(r'<div class="dist-row"><span>([^<]+)</span>.*?<span class="num">(\d+)', page)
    assert rows == [("1.0", "1"), ("4.0", "2")]
    assert 'id="job-states"' in page and "No failed jobs." in page


def test_a_viewer_reads_evaluation_without_forms(server: Server, engine: Engine, org: Org) -> None:
    with browserless(server.base_url) as viewer:
        viewer.sign_in(org.users(engine, "viewer"))
        page = viewer.get("/evaluation")
        assert page.status_code == 200 and "<form" not in page.text.split("</header>")[1]
        refused = viewer.submit("/evaluation", "/evaluation/evaluators", name="x")
        assert refused.status_code == 403


def test_an_evaluator_and_a_condition_are_edited(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    _build(signed_in)
    with org.api(server.base_url) as api:
        [evaluator] = api.get("/api/evaluators/").json()["results"]
        [cond] = api.get("/automation/conditions/").json()["results"]
        page = f"/evaluation/evaluators/{evaluator['id']}"
        assert 'id="edit-evaluator"' in signed_in.get(page).text
        edited = signed_in.submit(page, page, name="Useful", description="Was it of use?")
        assert edited.status_code == 303
        again = api.get(f"/api/evaluators/{evaluator['id']}/").json()
        assert (again["name"], again["description"]) == ("Useful", "Was it of use?")
        page = f"/evaluation/conditions/{cond['id']}"
        policy = {"rules": [{"field": "model", "operator": "equals", "value": "gpt-4o"}]}
        changed = signed_in.submit(page, page, name="GPT-4o", policy=json.dumps(policy))
        assert changed.status_code == 303, changed.text
        stored = api.get(f"/automation/conditions/{cond['id']}/").json()
        assert stored["name"] == "GPT-4o"
        assert stored["condition_policy"]["rules"][0]["value"] == "gpt-4o"
        bad = signed_in.submit(page, page, name="x", policy="[]")
        assert bad.status_code == 400 and "condition_policy: must be a JSON object" in bad.text
