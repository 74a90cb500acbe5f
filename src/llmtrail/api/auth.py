"""API-key authentication, shared by both dialects.

Keywords AI clients send `Authorization: Bearer KEY`, Humanloop clients `X-API-KEY: KEY`;
either header works on every route.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend, get_backend
from llmtrail.core.keys import Principal, authenticate

MISSING = "Authentication credentials were not provided."
INVALID = "Your API key is invalid or revoked, please check your API key."

_bearer = HTTPBearer(auto_error=False, description="Keywords AI style: `Bearer KEY`")
_api_key = APIKeyHeader(name="X-API-KEY", auto_error=False, description="Humanloop style")


class AuthError(Exception):
    """401: rendered as `{"detail": ...}` in both dialects."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def principal(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    api_key: str | None = Depends(_api_key),
    backend: Backend = Depends(get_backend),
) -> Principal:
    """The caller. A key verified in the last `key_cache_seconds` is not looked up again, so a
    busy client costs no query (and no thread hop) per request."""
    key = api_key or (bearer.credentials if bearer else None)
    if not key:
        raise AuthError(MISSING)
    found = backend.keys.get(key)
    if found is None:
        found = await run_in_threadpool(authenticate, backend.engine, key)
        if found is None:
            raise AuthError(INVALID)
        backend.keys.put(key, found)
    request.state.principal = found
    return found
