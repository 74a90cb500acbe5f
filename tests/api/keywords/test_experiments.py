"""Keywords AI experiments against a live server, through the official `keywordsai==1.0.4`
SDK's `ExperimentAPI` (plain httpx where it offers no call, or its call cannot be sent):
columns run over rows through the fake OpenAI provider as background jobs, each result a log
of its own; evaluators judge the results and the experiment compares the columns' aggregates
side by side."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from keywordsai.experiments.api import ExperimentAPI
from keywordsai.types.experiment_types import (
    AddExperimentColumnsRequest,
    AddExperimentRowsRequest,
    Experiment,
    ExperimentColumnType,
    ExperimentCreate,
    ExperimentList,
    ExperimentRowType,
    ExperimentUpdate,
    RunExperimentEvalsRequest,
    RunExperimentRequest,
    UpdateExperimentColumnsRequest,
    UpdateExperimentRowsRequest,
)

from tests.api.keywords.test_dataset_evals import EXACT, code_evaluator
from tests.conftest import Tenant
from tests.fakes.openai_server import FakeOpenAI, completion, error

EX = "/api/experiments"


def column(name: str, marker: str, **more: Any) -> ExperimentColumnType:
    """A column whose user message is `marker:{{question}}`: each cell's request names its
    column and row, so the fake provider answers each cell its own way."""
    fields: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "name": name,
        "temperature": 0.7,
        "max_completion_tokens": 64,
        "top_p": 1.0,
        "frequency_penalty": 0.0,
        "presence_penalty": 0.0,
        "prompt_messages": [
            {"role": "system", "content": f"You are {name}."},
            {"role": "user", "content": f"{marker}:{{{{question}}}}"},
        ],
        **more,
    }
    return ExperimentColumnType(**fields)


def settled(api: httpx.Client, experiment_id: str, seconds: float = 60) -> dict[str, Any]:
    """The experiment once no cell runs any more."""
    deadline = time.monotonic() + seconds
    while (found := api.get(f"{EX}/{experiment_id}")).json()["status"] == "running":
        assert time.monotonic() < deadline, found.text
        time.sleep(0.2)
    assert found.status_code == 200, found.text
    return found.json()


def judged(api: httpx.Client, experiment_id: str, count: int, seconds: float = 90) -> dict:
    """The experiment once every column's evaluators have judged `count` results each."""
    deadline = time.monotonic() + seconds
    while True:
        found = api.get(f"{EX}/{experiment_id}").json()
        counts = [a["count"] for c in found["aggregates"] for a in c["evaluators"]]
        if counts and all(n == count for n in counts):
            return found
        assert time.monotonic() < deadline, found["aggregates"]
        time.sleep(0.3)


def outputs(experiment: dict[str, Any]) -> list[list[str | None]]:
    """Row by row, each column's answer, in column order."""
    return [
        [r["output"]["content"] if r and r["output"] else None for r in row["results"]]
        for row in experiment["rows"]
    ]


def test_experiment_with_the_sdk(tenant: Tenant, llm_provider: FakeOpenAI) -> None:
    uid = uuid.uuid4().hex[:8]
    a, b = f"A{uid}", f"B{uid}"
    client = ExperimentAPI(api_key=tenant.key, base_url=tenant.base_url)
    terse = column("Terse", a)
    first = ExperimentRowType(input={"question": "q1"}, ideal_output="yes")
    created = client.create(
        ExperimentCreate(name="Prompts", description="two", columns=[terse], rows=[first])
    )
    assert isinstance(created, Experiment) and created.name == "Prompts"
    assert (created.column_count, created.row_count, created.status) == (1, 1, "ready")
    assert [c.id for c in created.columns] == [terse.id]  # the client's ids are kept
    assert [r.id for r in created.rows] == [first.id] and created.variables == ["question"]

    second = ExperimentRowType(input={"question": "q2"}, ideal_output="maybe")
    added = client.add_rows(created.id, AddExperimentRowsRequest(rows=[second]))
    assert added["added_rows"] == 1 and added["rows"][0]["id"] == second.id
    fixed = ExperimentRowType(id=second.id, input={"question": "q2"}, ideal_output="no")
    changed = client.update_rows(created.id, UpdateExperimentRowsRequest(rows=[fixed]))
    assert changed["updated_rows"] == 1 and changed["rows"][0]["ideal_output"] == "no"
    agreeable = column("Agreeable", b)
    more = client.add_columns(created.id, AddExperimentColumnsRequest(columns=[agreeable]))
    assert more["added_columns"] == 1 and more["columns"][0]["name"] == "Agreeable"
    cooler = column("Agreeable", b, id=agreeable.id, temperature=0.2)
    changed = client.update_columns(created.id, UpdateExperimentColumnsRequest(columns=[cooler]))
    assert changed["updated_columns"] == 1 and changed["columns"][0]["temperature"] == 0.2
    renamed = client.update(created.id, ExperimentUpdate(name="Terse or agreeable"))
    assert renamed.name == "Terse or agreeable" and renamed.description == "two"
    listed = client.list(page=1, page_size=10)
    assert isinstance(listed, ExperimentList) and listed.count == 1
    assert [e.id for e in listed.results] == [created.id] and listed.results[0].row_count == 2

    # Terse is right on both rows; Agreeable says yes to everything.
    for marker, answer in ((f"{a}:q1", "yes"), (f"{a}:q2", "no"), (f"{b}:q1", "yes")):
        llm_provider.script_for(marker, completion(answer, prompt_tokens=10, completion_tokens=1))
    llm_provider.script_for(f"{b}:q2", completion("yes", prompt_tokens=10, completion_tokens=1))
    run = client.run_experiment(created.id)
    assert run["status"] == "running" and run["queued"] == 4
    assert run["column_ids"] == [terse.id, agreeable.id]
    with tenant.client() as api:
        done = settled(api, created.id)
    assert done["status"] == "completed" and outputs(done) == [["yes", "yes"], ["no", "yes"]]
    assert [e.status for e in client.list().results] == ["completed"]
    sent = llm_provider.sent(f"{b}:q2")[-1].body
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.2
    assert sent["max_tokens"] == 64
    assert sent["messages"] == [
        {"role": "system", "content": "You are Agreeable."},
        {"role": "user", "content": f"{b}:q2"},
    ]
    parsed = client.get(created.id)  # the SDK's types read the results too
    cell = parsed.rows[0].results[1]
    assert cell is not None and cell.column_id == agreeable.id and cell.status == "completed"
    assert cell.llm_inference_metrics is not None
    assert (cell.llm_inference_metrics.prompt_tokens, cell.llm_inference_metrics.total_tokens) == (
        10,
        11,
    )

    # Each result is a log, in the log list like any other.
    with tenant.client() as api:
        log_ids = {r["log_id"] for row in done["rows"] for r in row["results"]}
        mine = {"metadata__experiment_id": {"operator": "", "value": [created.id]}}
        found = api.post("/api/request-logs/list/", json={"filters": mine}).json()
        assert {log["unique_id"] for log in found["results"]} == log_ids and found["count"] == 4
        log = api.get(f"/api/request-logs/{done['rows'][1]['results'][0]['log_id']}/").json()
        assert log["model"] == "gpt-4o-mini" and log["log_method"] == "experiment"
        assert log["completion_message"]["content"] == "no"
        assert log["metadata"]["experiment_column_id"] == terse.id

        exact = code_evaluator(api, f"Exact {uid}", EXACT, "boolean")
    slug = exact["evaluator_slug"]
    evals = client.run_experiment_evals(
        created.id, RunExperimentEvalsRequest(evaluator_slugs=[slug])
    )
    assert evals["evaluators"] == [slug] and evals["queued"] == 4
    with tenant.client() as api:
        scored = judged(api, created.id, 2)
    side_by_side = {c["column_name"]: c["evaluators"][0] for c in scored["aggregates"]}
    assert side_by_side["Terse"]["pass_rate"] == 1.0
    assert side_by_side["Agreeable"]["pass_rate"] == 0.5
    assert side_by_side["Agreeable"]["distribution"] == {"false": 1, "true": 1}
    verdict = scored["rows"][1]["results"][1]["evaluation_result"][slug]
    assert verdict["value"] is False and verdict["primary_score"] == 0.0

    # Running one column again replaces its results only; the evaluators judge the new ones.
    honest = column("Agreeable", b, id=agreeable.id, temperature=0.0)
    llm_provider.script_for(f"{b}:q1", completion("yes"))
    llm_provider.script_for(f"{b}:q2", completion("no"))
    again = client.run_experiment(created.id, RunExperimentRequest(columns=[honest]))
    assert again["queued"] == 2 and again["column_ids"] == [agreeable.id]
    with tenant.client() as api:
        redone = settled(api, created.id)
        assert outputs(redone) == [["yes", "yes"], ["no", "no"]]
        kept = [row["results"][0]["id"] for row in redone["rows"]]
        assert kept == [row["results"][0]["id"] for row in done["rows"]]
        rescored = judged(api, created.id, 2)
        assert [c["evaluators"][0]["pass_rate"] for c in rescored["aggregates"]] == [1.0, 1.0]

        # The SDK's DELETE calls (delete, remove_rows, remove_columns) pass `json=` to httpx's
        # AsyncClient.delete(), which takes none: a TypeError before any request. Their
        # requests, sent as they mean them.
        with pytest.raises(TypeError):
            client.delete(created.id)
        removed = api.request("DELETE", f"{EX}/{created.id}/rows", json={"rows": [first.id]})
        assert removed.status_code == 200 and removed.json()["removed_rows"] == 1
        gone = api.request("DELETE", f"{EX}/{created.id}/columns", json={"columns": [terse.id]})
        assert gone.status_code == 200 and gone.json()["removed_columns"] == 1
        left = api.get(f"{EX}/{created.id}").json()
        assert [r["id"] for r in left["rows"]] == [second.id] and outputs(left) == [["no"]]
        assert api.delete(f"{EX}/{created.id}").json() == {
            "message": "Experiment deleted",
            "id": created.id,
        }
        assert api.get(f"{EX}/{created.id}").status_code == 404
        assert api.get(f"/api/request-logs/{log['unique_id']}/").status_code == 200  # logs stay


def make(api: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "e")
    response = api.post(f"{EX}/create", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def plain_column(marker: str, **more: Any) -> dict[str, Any]:
    """A column as a plain request sends it: only what it needs (`messages` is accepted)."""
    return {"model": "m", "name": marker, "messages": [{"role": "user", "content": marker}], **more}


def test_bad_input_names_the_field_and_writes_nothing(api: httpx.Client) -> None:
    def refused(method: str, path: str, body: Any) -> dict[str, Any]:
        response = api.request(method, path, json=body)
        assert response.status_code == 400, response.text
        return response.json()

    assert "name" in refused("POST", f"{EX}/create", {"columns": []})
    hot = refused("POST", f"{EX}/create", {"name": "e", "columns": [plain_column("c", top_p=2)]})
    assert "less than or equal to 1" in hot["columns"]["0"]["top_p"][0]
    bare = {"name": "e", "columns": [{"model": "m", "name": "c"}]}
    assert "prompt_messages" in refused("POST", f"{EX}/create", bare)["columns"]["0"]
    extra = {"name": "e", "columns": [plain_column("c", seed=1)]}
    assert "seed" in refused("POST", f"{EX}/create", extra)["columns"]["0"]
    ran = {"name": "e", "rows": [{"input": {}, "results": [{"output": {}}]}]}
    assert "`run` makes" in refused("POST", f"{EX}/create", ran)["rows"]["0"]["results"][0]
    assert api.get(f"{EX}/list").json()["count"] == 0

    made = make(api, rows=[{"id": "r1", "input": {"q": "x"}}])
    one = f"{EX}/{made['id']}"
    taken = refused("POST", f"{one}/rows", {"rows": [{"id": "r2"}, {"id": "r1"}]})
    assert taken["rows"]["1"]["id"] == ["the experiment has a row 'r1'"]
    assert api.get(one).json()["row_count"] == 1  # r2 was not added either
    unknown = refused("PATCH", f"{one}/rows", {"rows": [{"id": "nope", "input": {}}]})
    assert unknown["rows"]["0"]["id"] == ["no row 'nope' in this experiment"]
    assert refused("DELETE", f"{one}/columns", {"columns": ["nope"]})["columns"]["0"] == [
        "no column 'nope' in this experiment"
    ]
    assert "columns" in refused("PATCH", one, {"columns": []})
    assert "no column to run" in refused("POST", f"{one}/run", {})["columns"][0]
    unknown = refused("POST", f"{one}/run-evals", {"evaluator_slugs": ["nope"]})
    assert unknown["evaluator_slugs"]["0"] == ["no evaluator 'nope'"]
    rule = {"name": "r", "type": "rule", "score_value_type": "boolean"}
    rule["rule_config"] = {"rule": "contains", "value": "x"}
    slug = api.post("/api/evaluators/", json=rule).json()["evaluator_slug"]
    empty = refused("POST", f"{one}/run-evals", {"evaluator_slugs": [slug]})
    assert empty["non_field_errors"] == ["the experiment has no results to judge: run it first"]
    person = {"name": "p", "type": "human", "score_value_type": "numerical"}
    person = api.post("/api/evaluators/", json=person).json()["evaluator_slug"]
    human = refused("POST", f"{one}/run-evals", {"evaluator_slugs": [slug, person]})
    assert "human evaluator" in human["evaluator_slugs"]["1"][0]
    assert api.get(one).json()["evaluator_ids"] == []
    lonely = make(api, columns=[plain_column("c")])
    assert "no row to run" in refused("POST", f"{EX}/{lonely['id']}/run", {})["rows"][0]


def test_a_failed_call_is_a_result_and_a_transient_one_is_retried(
    api: httpx.Client, llm_provider: FakeOpenAI
) -> None:
    uid = uuid.uuid4().hex[:8]
    refused, flaky = f"R{uid}", f"F{uid}"
    made = make(
        api,
        columns=[plain_column(refused), plain_column(flaky)],
        rows=[{"input": {}}],
    )
    llm_provider.script_for(refused, error(401, "Incorrect API key provided"))
    llm_provider.script_for(flaky, error(503, "overloaded"), completion("fine"))
    assert api.post(f"{EX}/{made['id']}/run", json={}).status_code == 202
    done = settled(api, made["id"])
    failed, retried = done["rows"][0]["results"]
    assert failed["status"] == "error" and "Incorrect API key provided" in failed["error"]
    assert failed["output"] is None
    log = api.get(f"/api/request-logs/{failed['log_id']}/").json()
    assert "Incorrect API key provided" in log["error_message"] and log["status_code"] == 401
    assert retried["status"] == "completed" and retried["output"]["content"] == "fine"
    assert len(llm_provider.sent(flaky)) == 2


def test_rows_page_in_order(api: httpx.Client) -> None:
    made = make(api, rows=[{"id": f"r{i}", "input": {"i": i}} for i in range(3)])
    page = api.get(f"{EX}/{made['id']}/rows", params={"page": 2, "page_size": 2}).json()
    assert page["count"] == 3 and [r["id"] for r in page["results"]] == ["r2"]
    assert page["previous"] is not None and page["next"] is None
    assert page["results"][0] == {
        "id": "r2",
        "input": {"i": 2},
        "ideal_output": None,
        "status": "ready",
        "results": [],
    }


def test_another_organization_sees_none_of_it(api: httpx.Client, tenant_factory) -> None:
    made = make(api, columns=[plain_column("c")], rows=[{"input": {}}])
    one = f"{EX}/{made['id']}"
    with tenant_factory().client() as other:
        assert other.get(f"{EX}/list").json()["count"] == 0
        for method, path, body in (
            ("GET", one, None),
            ("PATCH", one, {"name": "theirs"}),
            ("POST", f"{one}/rows", {"rows": [{"input": {}}]}),
            ("POST", f"{one}/run", {}),
            ("DELETE", one, None),
        ):
            response = other.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
    found = api.get(one).json()
    assert found["name"] == "e" and found["row_count"] == 1 and found["status"] == "ready"
