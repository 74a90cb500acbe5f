"""The OpenAPI document the server serves is the one committed in `docs/openapi.json`, so
that any change to a route's contract shows up in review (`make openapi` rewrites it)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"
KEYS_OR_JWT = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
# Sign-in is open; the people routes are a signed-in user's (keys are never admins).
SECURITY = {
    "/auth/jwt/create/": None,
    "/auth/jwt/refresh/": None,
    "/auth/users/me/": [{"HTTPBearer": []}],
    "/api/audit/": [{"HTTPBearer": []}],
    "/api/privacy/": [{"HTTPBearer": []}],
    # Seed 004: reading one dataset log takes a JWT; changing it, a key or a JWT.
    ("get", "/api/datasets/{dataset_id}/logs/{log_id}/"): [{"HTTPBearer": []}],
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_served_document_is_the_committed_one(server: Server) -> None:
    served = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
    committed = json.loads(COMMITTED.read_text())
    assert served == committed, "the API contract changed: run `make openapi` and review it"


READS = {
    "List logs (filters in the body)",
    "Aggregates over the matching logs",
    "Export logs (filters in the body)",
    "Get the File at a path",
    "A Prompt with its template filled with inputs",
    "List dataset logs (filters in the body)",
    "The kernel of `.prompt` text",
    "The kernel of `.agent` text",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_documents_its_answers_and_security(server: Server) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
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
            security = SECURITY.get((method, path), SECURITY.get(path, KEYS_OR_JWT))
            assert operation.get("security") == security, where
            writes = method != "get" and operation["summary"] not in READS
            if security and writes:
                assert "403" in statuses, f"{where} documents no 403 for a viewer"
