"""What one request and one caller may take: batch and page sizes, JSON nesting, a per-key
rate (429 with `Retry-After`, off by default) and a body that stops arriving (408)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from llmtrail.api.bounds import MAX_JSON_DEPTH
from llmtrail.api.limits import RateLimiter
from llmtrail.core.keys import create_key
from llmtrail.errors import RateLimited
from tests.conftest import Server, Tenant, start_server, stop_server


def test_a_caller_gets_its_burst_then_its_rate() -> None:
    limiter = RateLimiter(per_second=20, burst=2)
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(RateLimited) as refused:
        limiter.take("a")
    assert 0 < refused.value.retry_after <= 1 / 20
    limiter.take("b")  # callers have buckets of their own
    time.sleep(1 / 20)
    limiter.take("a")


def nested(depth: int, **more: str) -> bytes:
    """A body with `depth` levels of lists in its metadata (written by hand: the standard
    library's encoder would recurse too deep)."""
    fields = "".join(f'"{k}": "{v}", ' for k, v in more.items())
    opened, closed = "[" * depth, "]" * depth
    return ("{" + fields + '"metadata": {"k": ' + opened + '"deep"' + closed + "}}").encode()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 50, 2000])
def test_json_nested_too_deep_is_malformed_on_every_route(tenant: Tenant, depth: int) -> None:
    with tenant.client() as api:
        created = api.post("/api/request-logs/", json={"model": "m"})
        uid = created.json()["unique_id"]
        json = {"Content-Type": "application/json"}
        body = nested(depth)
        assert api.post("/api/request-logs/", content=body, headers=json).status_code == 400
        patched = api.patch(f"/api/request-logs/{uid}/", content=body, headers=json)
        assert patched.status_code == 400, patched.text
        assert api.get(f"/api/request-logs/{uid}/").json()["metadata"] in (None, {})
    with tenant.client("x-api-key") as api:
        refused = api.post("/v5/prompts/log", content=nested(depth, path="deep"), headers=json)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["type"] == "json_invalid"


def test_batch_and_page_sizes_are_bounded(tenant: Tenant) -> None:
    with tenant.client() as api:
        bulk = api.post("/api/request-logs/bulk/", json={"logs": [{}] * 501})
        assert bulk.status_code == 400 and "logs" in bulk.json()
        assert api.get("/api/request-logs/list/?page_size=1001").status_code == 400
    with tenant.client("x-api-key") as api:
        assert api.get("/v5/evaluators?size=1001").status_code == 422


@pytest.fixture(scope="module")
def limited(database_url: str, engine: Engine, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A server holding each key to 1 request a second, bursts of 2, and bodies to 1 s."""
    server = start_server(
        database_url,
        tmp_path_factory.mktemp("limited"),
        LLMTRAIL_OTLP_GRPC_PORT="0",
        LLMTRAIL_JOB_CONCURRENCY="0",
        LLMTRAIL_RATE_LIMIT_PER_SECOND="1",
        LLMTRAIL_RATE_LIMIT_BURST="2",
        LLMTRAIL_BODY_TIMEOUT_SECONDS="1",
    )
    yield server
    stop_server(server)


def test_a_key_past_its_rate_gets_429_with_retry_after(limited: Server, engine: Engine) -> None:
    org = f"org-{uuid.uuid4().hex[:10]}"
    keys = [create_key(engine, org=org)[1] for _ in range(2)]
    with httpx.Client(base_url=limited.base_url, timeout=30) as api:
        one = {"X-API-KEY": keys[0]}
        assert [api.get("/v5/evaluators", headers=one).status_code for _ in range(2)] == [200] * 2
        refused = api.get("/api/request-logs/list/", headers=one)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert "LLMTRAIL_RATE_LIMIT_PER_SECOND" in refused.json()["detail"]
        assert api.get("/v5/evaluators", headers={"X-API-KEY": keys[1]}).status_code == 200
        time.sleep(1.1)
        assert api.get("/v5/evaluators", headers=one).status_code == 200


def test_the_rate_limit_is_off_by_default(server: Server, tenant: Tenant) -> None:
    with tenant.client() as api:
        assert {api.get("/api/jobs/").status_code for _ in range(30)} == {200}


def test_a_stalled_body_is_answered_408(limited: Server, engine: Engine) -> None:
    _, key = create_key(engine, org=f"org-{uuid.uuid4().hex[:10]}")
    address = urlsplit(limited.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/request-logs/ HTTP/1.1\r\nHost: x\r\nX-API-KEY: %s\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":' % key.encode()
        )
        started = time.monotonic()
        answer = b""
        while b"}" not in answer and (chunk := conn.recv(4096)):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"LLMTRAIL_BODY_TIMEOUT_SECONDS" in answer
        assert time.monotonic() - started < 5
