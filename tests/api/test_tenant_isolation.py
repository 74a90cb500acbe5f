"""One organization never reaches another's data, over the whole route table.

Every route that takes an id, called with the id of another organization's object, answers
404 and changes nothing of it; every list answers no row of another organization. The routes
come from the app (`test_roles.ROUTES`), and the other organization has one of each object
(`test_roles.Org`): a route whose parameter names no seeded object fails here until one is.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import Engine

from llmtrail.core.keys import create_key
from llmtrail.core.users import create_user
from tests.api.test_roles import READING_POSTS, ROUTES, WRITING, Org
from tests.conftest import PASSWORD, Server, bearer, sign_in

BY_ID = [route for route in ROUTES if "{" in route[1]]
LISTS = [
    route
    for route in ROUTES
    if "{" not in route[1] and (route[0] == "GET" or route in READING_POSTS)
]
COLUMN = {"model": "m", "name": "c", "prompt_messages": [{"role": "user", "content": "x"}]}
WINDOW = {"start_time": "2000-01-01T00:00:00Z", "end_time": "2000-01-02T00:00:00Z"}
# Bodies a route validates before it looks its object up (anything else is sent `{}`);
# `{name}` is the other organization's object.
BODIES = {
    ("POST", "/api/evaluators/{evaluator_id}/run/"): {"inputs": {"output": "x"}},
    ("DELETE", "/api/datasets/{dataset_id}/logs/delete/"): {"is_deleting_all_logs": True},
    ("POST", "/api/datasets/{dataset_id}/logs/"): {"input": "x", "output": "y"},
    ("POST", "/api/datasets/{dataset_id}/logs/bulk/"): WINDOW,
    ("POST", "/api/logs/{log_id}/scores/"): {"evaluator_id": "{evaluator_id}"},
    ("POST", "/v5/files/retrieve-by-path"): {"path": "p"},  # the other's prompt
    ("POST", "/api/datasets/{dataset_id}/eval-reports/create/"): {"evaluator_slugs": ["s"]},
    ("POST", "/api/datasets/{dataset_id}/logs/create/"): WINDOW,
    ("POST", "/v5/tools/{id}/environment-variables"): [{"name": "K", "value": "ours"}],
    ("POST", "/v5/prompts/deserialize"): {"prompt": "---\nmodel: m\n---\n"},
    ("POST", "/v5/agents/deserialize"): {"agent": "---\nmodel: m\n---\n"},
    ("POST", "/v5/evaluations/{id}/evaluators"): {"evaluators": []},
    ("POST", "/v5/evaluations/{id}/runs/{run_id}/logs"): {"log_ids": []},
    **{
        (method, "/api/experiments/{experiment_id}/rows/"): {"rows": [{"input": {}}]}
        for method in ("POST", "PATCH")
    },
    **{
        (method, "/api/experiments/{experiment_id}/columns/"): {"columns": [COLUMN]}
        for method in ("POST", "PATCH")
    },
    ("DELETE", "/api/experiments/{experiment_id}/rows/"): {"rows": ["x"]},
    ("DELETE", "/api/experiments/{experiment_id}/columns/"): {"columns": ["x"]},
    ("POST", "/api/experiments/{experiment_id}/run-evals/"): {"evaluator_slugs": ["s"]},
}
# Queries an id route validates before it looks its object up.
ID_QUERIES = {
    ("GET", "/api/datasets/{dataset_id}/eval-reports/compare/"): "?a=x&b=y",
    **{
        ("POST", f"/v5/{kind}/{{id}}/environments/{{environment_id}}"): "?version_id={version_id}"
        for kind in ("prompts", "agents", "tools", "flows", "evaluators", "datasets")
    },
}
# Routes that take a file upload, and the file.
UPLOADS = {("POST", "/v5/datasets/{id}/datapoints/csv"): {"file": ("d.csv", b"input\nx\n")}}
# Parameters with no seeded object, and why: the route is still called with the other
# organization's ids in its other parameters.
UNSEEDED = {"report_id": "an eval report runs a job, which changes rows while they are compared"}
# Path parameters that are no ids, so any answer may hold them: a Tool's environment
# variable's name and a prompt version's number.
NOT_IDS = ("name", "version")
# Lists that need a query parameter, given another organization's object in it.
QUERIES = {
    ("GET", "/v5/logs"): "file_id=/v5/prompts/",
    ("GET", "/v5/evaluations"): "file_id=/v5/prompts/",
}


@pytest.fixture(scope="module")
def theirs(server: Server, engine: Engine) -> Org:
    return Org(server, engine)


@pytest.fixture(scope="module")
def ours(server: Server, engine: Engine) -> httpx.Client:
    """An admin of another organization, signed in (a JWT reaches the JWT-only routes too)."""
    name = f"org-{uuid.uuid4().hex[:10]}"
    create_key(engine, org=name)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    create_user(engine, email=email, password=PASSWORD, org=name, role="admin")
    headers = bearer(sign_in(server.base_url, email).json()["access"])
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        yield client


def theirs_in(body: dict | list | None, theirs: Org) -> dict | list | None:
    """The body with the other organization's ids in its `{name}` values."""
    if body is None or isinstance(body, list):
        return body
    return {k: v.format_map(theirs.ids) if isinstance(v, str) else v for k, v in body.items()}


def test_every_id_route_is_checked() -> None:
    assert len(BY_ID) > 40 and len(LISTS) > 10


@pytest.mark.parametrize(("method", "path"), BY_ID, ids=[f"{m} {p}" for m, p in BY_ID])
def test_another_organizations_id_is_not_found(
    engine: Engine, theirs: Org, ours: httpx.Client, method: str, path: str
) -> None:
    url = theirs.url(path)
    unfilled = [
        template[1:-1]
        for template, value in zip(path.split("/"), url.split("/"), strict=True)
        if template.startswith("{") and value == "x" and template[1:-1] not in UNSEEDED
    ]
    assert not unfilled, f"seed an object for {unfilled} in test_roles.Org"
    before = theirs.rows(engine)
    body = BODIES.get((method, path), {}) if method in WRITING else None
    query = ID_QUERIES.get((method, path), "").format_map(theirs.ids)
    if (method, path) in UPLOADS:
        response = ours.request(method, url + query, files=UPLOADS[method, path])
    else:
        response = ours.request(method, url + query, json=theirs_in(body, theirs))
    assert response.status_code == 404, response.text
    assert theirs.rows(engine) == before


@pytest.mark.parametrize(("method", "path"), LISTS, ids=[f"{m} {p}" for m, p in LISTS])
def test_no_list_answers_another_organizations_rows(
    theirs: Org, ours: httpx.Client, method: str, path: str
) -> None:
    query = QUERIES.get((method, path), "")
    if query:
        name, kind = query.split("=")
        query = f"?{name}={theirs.ids[kind]}"
    body = BODIES.get((method, path), {}) if method == "POST" else None
    response = ours.request(method, f"{path}{query}", json=body)
    assert response.status_code in (200, 404), response.text
    leaked = [v for k, v in theirs.ids.items() if k not in NOT_IDS and v in response.text]
    assert not leaked, f"another organization's ids in the answer: {leaked}"
