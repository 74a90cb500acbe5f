"""A surface's router is passed over at once for a path outside its routes' first segments,
and still serves every route of its own, a bare root or a parameter first included."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from llmtrail.api.surface import _RootedRouter


def _scope(path: str) -> dict:
    return {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": []}


def _app(*routers: _RootedRouter) -> FastAPI:
    app = FastAPI()
    for router in routers:
        router.root()
        app.include_router(router)
    return app


def test_a_path_outside_the_routers_roots_is_passed_over_and_its_own_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v5 = _RootedRouter()
    v5.add_api_route("/v5/things", lambda: {"at": "things"})
    v5.add_api_route("/v5", lambda: {"at": "v5"})
    api = _RootedRouter()
    api.add_api_route("/api/things", lambda: {"at": "api"})
    client = TestClient(_app(v5, api))
    assert client.get("/v5/things").json() == {"at": "things"}
    assert client.get("/v5").json() == {"at": "v5"}
    assert client.get("/api/things").json() == {"at": "api"}
    assert client.get("/v6/things").status_code == 404
    tried: list[APIRouter] = []
    walk = APIRouter.matches
    monkeypatch.setattr(APIRouter, "matches", lambda self, s: tried.append(self) or walk(self, s))
    assert v5.matches(_scope("/api/things")) == (Match.NONE, {})
    assert tried == [], "its routes were not tried"


def test_a_router_whose_first_segment_is_a_parameter_is_not_gated() -> None:
    anywhere = _RootedRouter()
    anywhere.add_api_route("/{tenant}/things", lambda tenant: {"tenant": tenant})
    root = _RootedRouter()
    root.add_api_route("/", lambda: {"at": "root"})
    client = TestClient(_app(anywhere, root))
    assert anywhere.roots is None
    assert client.get("/acme/things").json() == {"tenant": "acme"}
    assert client.get("/").json() == {"at": "root"}
