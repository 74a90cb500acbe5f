"""Authentication, tenant isolation and bad input, as a client sees them over HTTP."""

from __future__ import annotations

import httpx
import pytest

MISSING = {"detail": "Authentication credentials were not provided."}


def test_missing_credentials(server) -> None:
    for method, path in (("POST", "/api/request-logs/"), ("GET", "/api/request-logs/x/")):
        response = httpx.request(method, server.base_url + path, json={})
        assert response.status_code == 401
        assert response.json() == MISSING


def test_bad_and_revoked_keys(server, engine, tenant) -> None:
    from llmtrail.core.keys import authenticate, revoke_key

    bad = httpx.get(
        server.base_url + "/api/request-logs/list/", headers={"Authorization": "Bearer lt_nope"}
    )
    assert bad.status_code == 401
    assert "invalid or revoked" in bad.json()["detail"]
    key_id = authenticate(engine, tenant.key).key_id
    revoke_key(engine, key_id)
    with tenant.client() as api:
        response = api.get("/api/request-logs/list/")
    assert response.status_code == 401 and "invalid or revoked" in response.json()["detail"]


def test_both_auth_headers_work(tenant) -> None:
    for style in ("bearer", "x-api-key"):
        with tenant.client(style) as api:
            assert api.post("/api/request-logs/", json={"model": "m"}).status_code == 201


def test_only_a_bearer_authorization_carries_a_key(server, tenant) -> None:
    url = server.base_url + "/api/request-logs/list/"
    for header in (f"Basic {tenant.key}", "Bearer", tenant.key):
        response = httpx.get(url, headers={"Authorization": header})
        assert response.status_code == 401 and response.json() == MISSING, header
    assert httpx.get(url, headers={"Authorization": f"bearer {tenant.key}"}).status_code == 200


def test_the_openapi_document_lists_both_key_schemes_on_every_operation(server) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-KEY"
    operations = {
        (path, method): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if op["tags"] not in (["Sessions"], ["People"])  # sign-in, and a signed-in user's
    }
    assert len(operations) > 30
    # Seed 004: reading a dataset log takes a JWT (a Bearer token), never an API key.
    jwt_only = {("/api/datasets/{dataset_id}/logs/{log_id}/", "get")}
    for where, op in operations.items():
        expected = [{"HTTPBearer": []}]
        if where not in jwt_only:
            expected.append({"APIKeyHeader": []})
        assert op["security"] == expected, op["summary"]


def test_tenants_cannot_see_or_touch_each_other(tenant_factory) -> None:
    alice, bob = tenant_factory(), tenant_factory()
    with alice.client() as a, bob.client() as b:
        uid = a.post("/api/request-logs/", json={"model": "gpt-4o"}).json()["unique_id"]
        assert b.get(f"/api/request-logs/{uid}/").status_code == 404
        assert b.patch(f"/api/request-logs/{uid}/", json={"note": "x"}).status_code == 404
        assert b.delete(f"/api/request-logs/{uid}/").status_code == 404
        assert b.get(f"/api/request-logs/{uid}/history/").status_code == 404
        assert b.get("/api/request-logs/list/").json()["count"] == 0
        assert b.post("/api/request-logs/summary/").json()["number_of_requests"] == 0
        assert a.get(f"/api/request-logs/{uid}/").json()["note"] is None
        assert a.get("/api/request-logs/list/").json()["count"] == 1


def test_malformed_json_is_a_400(api: httpx.Client) -> None:
    response = api.post(
        "/api/request-logs/", content=b'{"model": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency": -1}, "latency"),
        ({"prompt_tokens": "many"}, "prompt_tokens"),
        ({"prompt_tokens": 1.5}, "prompt_tokens"),
        ({"timestamp": "not a date"}, "timestamp"),
        ({"metadata": ["a"]}, "metadata"),
        ({"status_code": 1000}, "status_code"),
        ({"usage": {"prompt_tokens": -3}}, "usage.prompt_tokens"),
        ({"positive_feedback": "maybe"}, "positive_feedback"),
    ],
)
def test_wrong_types_name_the_field_and_write_nothing(api: httpx.Client, body, field) -> None:
    response = api.post("/api/request-logs/", json={"model": "gpt-4o", **body})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:"), response.json()
    assert api.get("/api/request-logs/list/").json()["count"] == 0


def test_body_must_be_an_object(api: httpx.Client) -> None:
    response = api.post("/api/request-logs/", json=[1, 2])
    assert response.status_code == 400


def test_list_parameters_out_of_range(api: httpx.Client) -> None:
    for params, field in (
        ({"page": 0}, "page"),
        ({"page_size": 1001}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"sort_by": "-colour"}, "sort_by"),
        ({"start_time": "noon"}, "start_time"),
    ):
        response = api.get("/api/request-logs/list/", params=params)
        assert response.status_code == 400, params
        assert response.json()["detail"].startswith(field)


def test_oversize_body_is_a_413(tmp_path, database_url) -> None:
    from llmtrail.core.keys import create_key
    from llmtrail.store.database import make_engine
    from tests.conftest import start_server, stop_server

    srv = start_server(database_url, tmp_path, LLMTRAIL_MAX_BODY_BYTES="2048")
    try:
        _, key = create_key(make_engine(database_url), org="oversize-org")
        headers = {"Authorization": f"Bearer {key}"}
        big = {"model": "gpt-4o", "input": "x" * 4096, "custom_identifier": "too-big"}
        response = httpx.post(srv.base_url + "/api/request-logs/", json=big, headers=headers)
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
        small = httpx.post(
            srv.base_url + "/api/request-logs/", json={"model": "m"}, headers=headers
        )
        assert small.status_code == 201
        listed = httpx.get(srv.base_url + "/api/request-logs/list/", headers=headers).json()
        assert listed["count"] == 1
    finally:
        stop_server(srv)
