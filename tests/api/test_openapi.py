"""The OpenAPI document the server serves is the one committed in `docs/openapi.json`, so
that any change to a route's contract shows up in review (`make openapi` rewrites it)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_served_document_is_the_committed_one(server: Server) -> None:
    served = httpx.get(f"{server.base_url}/openapi.json").json()
    committed = json.loads(COMMITTED.read_text())
    assert served == committed, "the API contract changed: run `make openapi` and review it"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_documents_its_answers_and_security(server: Server) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            statuses = set(operation["responses"])
            assert {"401"} <= statuses, f"{where} documents no 401"
            assert any(s.startswith("2") for s in statuses), f"{where} documents no success"
            humanloop = path.startswith("/v5/") and not path.startswith("/v5/import/")
            bad_input = "422" if humanloop else "400"
            queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if operation.get("requestBody") or queries:
                assert bad_input in statuses, f"{where} documents no {bad_input}"
            for status, answer in operation["responses"].items():
                if status != "204":
                    assert answer.get("content"), f"{where} {status} has no body schema"
            assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}], where
