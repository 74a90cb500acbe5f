"""API-key authentication, shared by every surface (and the OTLP/gRPC receiver).

Keywords AI clients send `Authorization: Bearer KEY`, Humanloop clients `X-API-KEY: KEY`;
either header works on every route.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend
from llmtrail.core.keys import Principal, authenticate
from llmtrail.errors import Unauthorized

MISSING = "Authentication credentials were not provided."
INVALID = "Your API key is invalid or revoked, please check your API key."

SECURITY_SCHEMES = {
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Keywords AI style: `Authorization: Bearer KEY`",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-KEY",
        "description": "Humanloop style",
    },
}


def _bearer(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


async def principal(request: Request) -> Principal:
    """The caller. A key verified in the last `key_cache_seconds` is not looked up again, so a
    busy client costs no query (and no thread hop) per request.

    One dependency that reads both headers itself: FastAPI solves every dependency afresh on
    each request (some 20 µs apiece), so the two header schemes are declared in the OpenAPI
    document (`Surface.document`) instead of as dependencies of their own.
    """
    headers = request.headers
    found = await verify(request.app.state.backend, key_of(headers))
    request.state.principal = found
    return found


def key_of(headers: Mapping[str, str]) -> str | None:
    """The key of a request's headers (or a gRPC call's metadata, lower-case names too)."""
    return headers.get("x-api-key") or _bearer(headers.get("authorization"))


async def verify(backend: Backend, key: str | None) -> Principal:
    """Whose key it is; Unauthorized when there is none, or it is invalid or revoked."""
    if not key:
        raise Unauthorized(MISSING)
    found = backend.keys.get(key)
    if found is None:
        found = await run_in_threadpool(authenticate, backend.engine, key)
        if found is None:
            raise Unauthorized(INVALID)
        backend.keys.put(key, found)
    return found
