"""Evaluation runs over a dataset against a live server: code evaluators judge every dataset
log through the server's job worker, the run reports per-evaluator aggregates, and two runs
compare side by side."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.api.keywords.test_datasets import DS, empty_dataset, made

LENGTH = "def main(eval_inputs):\n    return len(eval_inputs['output'])\n"
EXACT = "def main(eval_inputs):\n    return eval_inputs['output'] == eval_inputs['ideal_output']\n"


def code_evaluator(api: httpx.Client, name: str, code: str, value_type: str, **more: Any) -> dict:
    body = {
        "name": name,
        "type": "code",
        "score_value_type": value_type,
        "code_config": {"eval_code_snippet": code},
        **more,
    }
    return made(api.post("/api/evaluators/", json=body))


def finished(api: httpx.Client, reports: str, report_id: str, seconds: float = 90) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = made(api.get(f"{reports}{report_id}/"), 200)
        if found["status"] != "running":
            return found
        time.sleep(0.3)
    raise AssertionError(f"the run is still running: {found}")


def by_slug(report: dict) -> dict[str, dict]:
    return {agg["evaluator_slug"]: agg for agg in report["aggregates"]}


def test_runs_report_and_compare(api: httpx.Client) -> None:
    length = code_evaluator(
        api,
        "Length",
        LENGTH,
        "numerical",
        passing_conditions={"primary_score": {"operator": "gte", "value": 5}},
    )
    exact = code_evaluator(api, "Exact", EXACT, "boolean")
    dataset = empty_dataset(api)["id"]
    logs = f"{DS}/{dataset}/logs/"
    ids = {
        output: made(api.post(logs, json={"input": "q", "output": output, "target": target}))[
            "log_data"
        ]["id"]
        for output, target in (("four", "four"), ("seven", "seven"), ("no", "yes"))
    }
    reports = f"{DS}/{dataset}/eval-reports/"
    slugs = [length["evaluator_slug"], exact["evaluator_slug"]]
    first = made(api.post(f"{reports}create", json={"evaluator_slugs": slugs}))
    assert first["status"] == "running" and first["evaluator_slugs"] == slugs
    assert (first["log_count"], first["expected_count"]) == (3, 6)
    done = finished(api, reports, first["id"])
    assert done["status"] == "completed" and done["result_count"] == 6
    said = by_slug(done)
    assert said[length["evaluator_slug"]] == {
        "evaluator_id": length["id"],
        "evaluator_slug": length["evaluator_slug"],
        "evaluator_name": "Length",
        "value_type": "numerical",
        "count": 3,
        "error_count": 0,
        "mean": (4 + 5 + 2) / 3,
        "pass_rate": 1 / 3,
        "distribution": {"2": 1, "4": 1, "5": 1},
    }
    assert said[exact["evaluator_slug"]]["pass_rate"] == 2 / 3
    assert said[exact["evaluator_slug"]]["distribution"] == {"false": 1, "true": 2}

    made(api.patch(f"{logs}{ids['no']}/", json={"output": "yes"}), 200)
    second = made(api.post(f"{reports}create/", json={"evaluator_slugs": [exact["id"]]}))
    finished(api, reports, second["id"])
    listed = made(api.get(f"{reports}list/"), 200)
    assert [r["id"] for r in listed["results"]] == [second["id"], first["id"]]
    compared = made(
        api.get(f"{reports}compare/", params={"a": first["id"], "b": second["id"]}), 200
    )
    assert compared["a"]["id"] == first["id"] and compared["b"]["id"] == second["id"]
    sides = {e["evaluator_slug"]: e for e in compared["evaluators"]}
    assert sides[exact["evaluator_slug"]]["pass_rate_delta"] == 1 - 2 / 3
    assert sides[exact["evaluator_slug"]]["changed_logs"] == 1
    assert sides[length["evaluator_slug"]]["b"] is None
    assert sides[length["evaluator_slug"]]["mean_delta"] is None


def test_bad_runs_are_refused(api: httpx.Client) -> None:
    dataset = empty_dataset(api)["id"]
    reports = f"{DS}/{dataset}/eval-reports/"
    for body in ({}, {"evaluator_slugs": []}, {"evaluator_slugs": ["nope"]}):
        answer = api.post(f"{reports}create/", json=body)
        assert answer.status_code == 400 and "evaluator_slugs" in answer.json(), answer.text
    assert made(api.get(f"{reports}list/"), 200)["count"] == 0
    assert api.get(f"{reports}er_nope/").status_code == 404
    assert api.get(f"{reports}compare/", params={"a": "er_nope"}).status_code == 400
    exact = {"evaluator_slugs": [code_evaluator(api, "Exact", EXACT, "boolean")["id"]]}
    assert api.post(f"{DS}/ds_nope/eval-reports/create/", json=exact).status_code == 404
    empty = made(api.post(f"{reports}create/", json=exact))
    assert empty["status"] == "completed" and empty["expected_count"] == 0
