"""Values no store keeps alike are refused as bad input naming their field, on both dialects
and both databases, before anything is written (what the fuzzer found as 500s)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi.exceptions import RequestValidationError

from llmtrail.api.bounds import refuse_unstorable
from tests.conftest import Tenant

BIG = 26674995721638525272064  # beyond 64 bits (orjson writes at most 64)
U64 = 2**64 - 1  # orjson reads it as an int; no BIGINT column holds it


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"metadata": {"a": [1, %d]}}' % BIG, ("body", "metadata", "a", 1)),
        (b'{"n": %d}' % U64, ("body", "n")),
        (b'{"n": -%d}' % (2**63 + 1), ("body", "n")),
        (b'{"messages": [{"content": "a\\u0000b"}]}', ("body", "messages", 0, "content")),
        (b'{"metadata": {"k\\u0000": 1}}', ("body", "metadata", "k\x00")),
    ],
)
def test_unstorable_values_are_located(raw: bytes, loc: tuple) -> None:
    with pytest.raises(RequestValidationError) as refused:
        refuse_unstorable(raw)
    assert refused.value.errors()[0]["loc"] == loc


@pytest.mark.parametrize(
    "raw",
    [
        b'{"n": %d, "m": %d}' % (2**63 - 1, -(2**63)),
        b'{"phone": "12345678901234567890123"}',  # digits in a string are text
        b'{"path": "C:\\\\u0000"}',  # an escaped backslash, then the letters u0000
        b'{"model": ',  # not JSON: the body's own validation says so
    ],
)
def test_storable_values_pass(raw: bytes) -> None:
    refuse_unstorable(raw)


def test_humanloop_refuses_a_big_integer_in_messages_with_422(tenant: Tenant) -> None:
    path = f"bounds/{uuid.uuid4().hex[:8]}"
    body = {"path": path, "messages": [{"role": "user", "content": "hi", "n": BIG}]}
    with tenant.client("x-api-key") as api:
        refused = api.post("/v5/prompts/log", json=body)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "messages", 0, "n"]
        assert api.post("/v5/files/retrieve-by-path", json={"path": path}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metadata": {"big": BIG}}, "metadata"),
        ({"prompt_messages": [{"role": "user", "content": "a\x00b"}]}, "prompt_messages"),
        ({"latency": 1e300}, "latency"),
        ({"generation_time": 1e12}, "generation_time"),
        ({"prompt_tokens": 2**63 - 1, "completion_tokens": 5}, "prompt_tokens"),
        ({"timestamp": "0001-01-01T00:00:00Z", "latency": 5}, "latency"),
    ],
)
def test_keywords_refuses_unstorable_logs_with_400(
    api: httpx.Client, body: dict, field: str
) -> None:
    marker = uuid.uuid4().hex
    refused = api.post("/api/request-logs/", json={**body, "custom_identifier": marker})
    assert refused.status_code == 400, refused.text
    assert field in refused.json(), refused.text
    listed = api.get("/api/request-logs/list/", params={"custom_identifier": marker})
    assert listed.json()["count"] == 0


def test_a_bulk_with_a_big_integer_writes_none_of_it(api: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    logs = [{"custom_identifier": marker}, {"custom_identifier": marker, "metadata": {"n": U64}}]
    refused = api.post("/api/request-logs/bulk/", json={"logs": logs})
    assert refused.status_code == 400, refused.text
    assert "logs" in refused.json()
    listed = api.get("/api/request-logs/list/", params={"custom_identifier": marker})
    assert listed.json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "style", "status"),
    [
        ("/v5/logs?file_id=x&page=462708572779404544", "x-api-key", 422),
        ("/v5/evaluators?page=462708572779404544", "x-api-key", 422),
        ("/api/request-logs/list/?page=462708572779404544", "bearer", 400),
        ("/automation/automations/?page=1472307522127317834924032", "bearer", 400),
        ("/api/scores/?page=11438587574458806272", "bearer", 400),
    ],
)
def test_pages_beyond_the_bound_are_refused(
    tenant: Tenant, path: str, style: str, status: int
) -> None:
    with tenant.client(style) as api:
        refused = api.get(path)
    assert refused.status_code == status, refused.text
    assert "page" in refused.text


@pytest.mark.parametrize(
    ("path", "style", "status"),
    [
        ("/api/scores/?evaluator_id=%00abc", "bearer", 400),
        ("/v5/logs?file_id=fl_%00", "x-api-key", 422),
    ],
)
def test_a_nul_in_a_query_parameter_is_refused(
    tenant: Tenant, path: str, style: str, status: int
) -> None:
    """PostgreSQL cannot compare text holding NUL: this was a 500 there (`make fuzz`)."""
    with tenant.client(style) as api:
        refused = api.get(path)
    assert refused.status_code == status, refused.text
    assert "NUL" in refused.text and ("evaluator_id" in refused.text or "file_id" in refused.text)


def test_token_counts_past_the_bound_are_refused_not_overflowed(api: httpx.Client) -> None:
    """A billion tokens a field at most: a log's total then fits PostgreSQL's 32-bit column
    (10^12 was accepted and a 500 there)."""
    refused = api.post("/api/request-logs/", json={"model": "m", "prompt_tokens": 10**9 + 1})
    assert refused.status_code == 400 and "prompt_tokens" in refused.text, refused.text
    stored = api.post(
        "/api/request-logs/",
        json={"model": "m", "prompt_tokens": 10**9, "completion_tokens": 10**9},
    )
    assert stored.status_code == 201, stored.text
