"""Secrets: API keys are kept only as digests (in the database and in the server's cache),
and the API is closed to cross-origin browsers unless LLMTRAIL_CORS_ORIGINS opens it.

JWTs (signature, expiry, only HS256, `alg: none` refused) and the 0600 secret file are
tested with sessions, in `test_sessions.py` and `tests/core/test_tokens.py`."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from llmtrail.api.app import create_app
from llmtrail.config import load_settings
from llmtrail.core.keys import KeyCache, Principal, create_key
from llmtrail.store.tables import api_keys
from tests.conftest import Server

APP = "https://app.example.com"
PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "POST"}


def test_a_key_is_stored_only_as_its_digest(engine: Engine) -> None:
    info, key = create_key(engine, org=f"org-{uuid.uuid4().hex[:10]}")
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == info.id)).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not [value for value in row if isinstance(value, str) and key in value]


def test_the_key_cache_holds_no_plaintext() -> None:
    cache, key = KeyCache(60), f"lt-{uuid.uuid4().hex}"
    cache.put(key, Principal(1, 1, "k", "prod"))
    assert cache.get(key) is not None and cache.get(key + "x") is None
    assert key not in repr(vars(cache))


def test_cross_origin_calls_are_refused_by_default(server: Server) -> None:
    preflight = httpx.options(f"{server.base_url}/api/request-logs/", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    read = httpx.get(f"{server.base_url}/healthz", headers={"Origin": APP})
    assert "access-control-allow-origin" not in read.headers


def test_configured_origins_and_only_they_may_call() -> None:
    settings = load_settings({"LLMTRAIL_CORS_ORIGINS": f"{APP}, https://other.example.com"})
    assert settings.cors_origins == (APP, "https://other.example.com")
    client = TestClient(create_app(settings))  # no lifespan: a preflight needs no store
    allowed = client.options("/api/request-logs/", headers=PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP
    foreign = client.options(
        "/api/request-logs/", headers={**PREFLIGHT, "Origin": "https://evil.example.com"}
    )
    assert "access-control-allow-origin" not in foreign.headers
