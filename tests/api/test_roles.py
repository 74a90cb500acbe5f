"""Roles over the whole route table: a viewer (signed in, or a viewer key) is refused every
writing route with 403 and changes nothing, and may call every reading route.

The routes come from the app itself, so a new route is checked here without being listed;
which POSTs only read is written down below, apart from the code that marks them.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from llmtrail.api.app import surfaces
from llmtrail.core.keys import authenticate, create_key
from llmtrail.core.users import create_user
from llmtrail.store.tables import metadata_obj
from tests.conftest import PASSWORD, Server, bearer, sign_in

WRITING = {"POST", "PUT", "PATCH", "DELETE"}
# POSTs that only read: their filters or path come in the body.
READING_POSTS = {
    ("POST", "/api/request-logs/list/"),
    ("POST", "/api/request-logs/summary/"),
    ("POST", "/api/request-logs/export/"),
    ("POST", "/v5/files/retrieve-by-path"),
    ("POST", "/v5/prompts/{id}/populate"),
    ("POST", "/v5/prompts/deserialize"),
    ("POST", "/v5/agents/deserialize"),
    ("POST", "/api/datasets/{dataset_id}/logs/list/"),
}
# Reading routes with rules of their own, tested with them.
OWN_RULES = {
    ("GET", "/api/audit/"),
    ("GET", "/api/privacy/"),  # admins only: tests/api/test_privacy.py
    ("GET", "/auth/users/me/"),
    ("GET", "/api/datasets/{dataset_id}/logs/{log_id}/"),  # a JWT only (seed 004)
}
VIEWER = {"detail": "Your role, viewer, may read but not write."}


def route_table() -> list[tuple[str, str]]:
    """Every operation of every surface that authenticates (sign-in is open to all)."""
    return sorted(
        (method, route.path)
        for surface in surfaces()
        for route in surface.router.routes
        if route.gated
        for method in route.methods
    )


ROUTES = route_table()
WRITES = [r for r in ROUTES if r[0] in WRITING and r not in READING_POSTS]
READS = [r for r in ROUTES if r not in WRITES and r not in OWN_RULES]


class Org:
    """An organization with one of everything, and a viewer's two kinds of credentials."""

    def __init__(self, server: Server, engine: Engine) -> None:
        self.name = f"org-{uuid.uuid4().hex[:10]}"
        _, key = create_key(engine, org=self.name)
        self.org_id = authenticate(engine, key).org_id  # type: ignore[union-attr]
        _, viewer_key = create_key(engine, org=self.name, role="viewer")
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        create_user(engine, email=email, password=PASSWORD, org=self.name, role="viewer")
        self.viewers = {
            "jwt": bearer(sign_in(server.base_url, email).json()["access"]),
            "viewer key": {"X-API-KEY": viewer_key},
        }
        with httpx.Client(base_url=server.base_url, headers=bearer(key), timeout=30) as api:
            self.ids = self._seed(api)

    @staticmethod
    def _seed(api: httpx.Client) -> dict[str, str]:
        def made(response: httpx.Response) -> dict[str, Any]:
            assert response.is_success, response.text
            return response.json()

        log = made(api.post("/api/request-logs/", json={"model": "gpt-4o", "output": "hi"}))
        rule = {"rule": "contains", "value": "hi"}
        evaluator = made(
            api.post(
                "/api/evaluators/",
                json={
                    "name": "r",
                    "type": "rule",
                    "score_value_type": "boolean",
                    "rule_config": rule,
                },
            )
        )
        score = made(
            api.post(
                f"/api/logs/{log['unique_id']}/scores/",
                json={"evaluator_id": evaluator["id"], "boolean_value": True},
            )
        )
        policy = {"rules": [{"field": "status_code", "operator": "equals", "value": 200}]}
        condition = made(
            api.post(
                "/automation/conditions/",
                json={
                    "name": "ok",
                    "condition_slug": "ok",
                    "condition_type": "single_log",
                    "condition_policy": policy,
                },
            )
        )
        automation = made(  # not enabled: no job may change the store while it is compared
            api.post(
                "/automation/automations/",
                json={
                    "automation_slug": "a",
                    "name": "a",
                    "automation_type": "online_eval",
                    "condition": condition["id"],
                    "evaluator_ids": [evaluator["id"]],
                    "configuration": {"sampling_rate": 1},
                },
            )
        )
        prompt = made(
            api.post("/v5/prompts/log", json={"path": "p", "prompt": {"model": "m"}, "output": "x"})
        )
        window = {"start_time": "2000-01-01T00:00:00Z", "end_time": "2000-01-02T00:00:00Z"}
        dataset = made(api.post("/api/datasets/", json={"name": "d", **window}))
        for _ in range(300):  # its background add (of no log) done: nothing changes after
            if dataset["status"] == "ready":
                break
            time.sleep(0.1)
            dataset = made(api.get(f"/api/datasets/{dataset['id']}/"))
        kernels = {
            "tools": {"function": {"name": "f"}},
            "flows": {"attributes": {}},
            "agents": {"model": "m"},
        }
        files = {
            f"/v5/{kind}/": made(api.post(f"/v5/{kind}", json={"path": kind, **kernel}))["id"]
            for kind, kernel in kernels.items()
        }
        files["/v5/directories/"] = made(api.post("/v5/directories", json={"path": "d"}))["id"]
        variable = [{"name": "K", "value": "v"}]
        made(api.post(f"/v5/tools/{files['/v5/tools/']}/environment-variables", json=variable))
        environments = made(api.get(f"/v5/prompts/{prompt['prompt_id']}/environments"))
        judge = made(api.get(f"/v5/evaluators/{evaluator['id']}"))
        evaluation = made(
            api.post(
                "/v5/evaluations",
                json={"file": {"id": prompt["prompt_id"]}, "evaluators": [{"id": judge["id"]}]},
            )
        )
        run = made(api.post(f"/v5/evaluations/{evaluation['id']}/runs", json={}))  # no jobs
        column = {"model": "m", "name": "c", "prompt_messages": [{"role": "user", "content": "x"}]}
        experiment = made(  # never run: no jobs
            api.post(
                "/api/experiments/create/",
                json={"name": "e", "columns": [column], "rows": [{"input": {"q": "x"}}]},
            )
        )
        return {
            **files,
            "/v5/datasets/": dataset["id"],  # the same dataset in both dialects
            "environment_id": environments[0]["id"],
            "name": "K",  # the Tool's environment variable
            "dataset_id": dataset["id"],
            "version_id": prompt["version_id"],
            "unique_id": log["unique_id"],
            "log_id": log["unique_id"],
            "evaluator_id": evaluator["id"],
            "score_id": score["id"],
            "condition_id": condition["id"],
            "automation_id": automation["id"],
            "/v5/prompts/": prompt["prompt_id"],
            "prompt_id": prompt["prompt_id"],  # the same File in the Keywords AI dialect
            "version": "1",
            "/v5/logs/": prompt["id"],
            "/v5/evaluators/": evaluator["id"],
            "/v5/evaluations/": evaluation["id"],
            "run_id": run["id"],
            "evaluator_version_id": judge["version_id"],
            "experiment_id": experiment["id"],
        }

    def url(self, path: str) -> str:
        """The path with its parameters naming the seeded objects (`id` by the path's kind)."""
        ids = defaultdict(lambda: "x", self.ids)
        kind = path.split("{id}")[0]
        if kind in self.ids:
            ids["id"] = self.ids[kind]
        if path.startswith("/v5/"):
            ids["log_id"] = self.ids["/v5/logs/"]
        return path.format_map(ids)

    def rows(self, engine: Engine) -> dict[str, list[Any]]:
        """Every row of the organization, table by table."""
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    map(tuple, conn.execute(select(table).where(table.c.org_id == self.org_id))),
                    key=repr,
                )
                for table in metadata_obj.sorted_tables
                if "org_id" in table.c
            }


@pytest.fixture(scope="module")
def org(server: Server, engine: Engine) -> Org:
    return Org(server, engine)


def test_the_route_table_is_the_served_one(server: Server) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
    served = {(m.upper(), path) for path, item in spec["paths"].items() for m in item}
    opened = {(m, p) for m, p in served if not spec["paths"][p][m.lower()].get("security")}
    assert served - opened == set(ROUTES)
    assert opened == {("POST", "/auth/jwt/create/"), ("POST", "/auth/jwt/refresh/")}
    assert set(ROUTES) >= READING_POSTS and len(WRITES) > 40


def refusal(body: dict) -> str:
    """The sentence of a refusal: `detail` in both dialects, a `google.rpc.Status` message
    (code 7, PERMISSION_DENIED) on the OTLP routes."""
    if "code" in body:
        assert body["code"] == 7
        return body["message"]
    return body["detail"]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_viewer_writes_nothing(
    server: Server, engine: Engine, org: Org, method: str, path: str
) -> None:
    before = org.rows(engine)
    for kind, headers in org.viewers.items():
        response = httpx.request(
            method, f"{server.base_url}{org.url(path)}", json={}, headers=headers, timeout=30
        )
        assert response.status_code == 403, (kind, response.text)
        assert refusal(response.json()) == VIEWER["detail"], kind
    assert org.rows(engine) == before


@pytest.mark.parametrize(("method", "path"), READS, ids=[f"{m} {p}" for m, p in READS])
def test_a_viewer_reads_everything(server: Server, org: Org, method: str, path: str) -> None:
    body = {"path": "p"} if method == "POST" else None
    for kind, headers in org.viewers.items():
        response = httpx.request(
            method, f"{server.base_url}{org.url(path)}", json=body, headers=headers, timeout=30
        )
        assert response.status_code not in (401, 403), (kind, response.text)
        assert response.status_code < 500, (kind, response.text)


def test_a_member_writes_and_a_viewer_key_reads(server: Server, org: Org) -> None:
    """The 403 is the role's, not the route's: the organization's member key writes there."""
    with httpx.Client(base_url=server.base_url, headers=org.viewers["viewer key"]) as viewer:
        assert viewer.get(f"/api/request-logs/{org.ids['unique_id']}/").status_code == 200
        assert viewer.post("/api/request-logs/", json={"model": "m"}).status_code == 403
