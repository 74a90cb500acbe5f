"""Authentication and roles, shared by every surface (and the OTLP/gRPC receiver).

Keywords AI clients send `Authorization: Bearer KEY`, Humanloop clients `X-API-KEY: KEY`;
either header works on every route. A Bearer credential is an API key or a JWT access
token (from `/auth/jwt/create/`), told apart by its form. `X-API-KEY` is always a key.

Whether a route writes is decided here from its HTTP method, for every route of a surface
with authentication: POST, PUT, PATCH and DELETE write, except the endpoints marked `reads`
(a list whose filters come in a POST body). So a new route is closed to viewers unless it
says it only reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend
from llmtrail.core import roles, sessions
from llmtrail.core.keys import Principal, authenticate
from llmtrail.core.tokens import is_jwt
from llmtrail.errors import Unauthorized

MISSING = "Authentication credentials were not provided."
INVALID = "Your API key is invalid or revoked, please check your API key."
JWT_REQUIRED = (
    "This endpoint takes a JWT, not an API key: sign in at /auth/jwt/create/ and send "
    "`Authorization: Bearer <access token>`."
)
WRITING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READS = "_llmtrail_reads"
E = TypeVar("E", bound=Callable[..., Any])

SECURITY_SCHEMES = {
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer KEY` (Keywords AI style), or a JWT access token "
        "from /auth/jwt/create/",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-KEY",
        "description": "Humanloop style",
    },
}


def reads(endpoint: E) -> E:
    """Mark an endpoint that only reads although its method writes (a POST with a body of
    filters): a viewer may call it."""
    setattr(endpoint, _READS, True)
    return endpoint


def writes(methods: Iterable[str], endpoint: Callable[..., Any]) -> bool:
    return not WRITING.isdisjoint(methods) and not getattr(endpoint, _READS, False)


def _bearer(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


async def principal(request: Request) -> Principal:
    """The caller, refused (403) when its role may not write and the route writes, and
    (429) when it is past its rate (`LLMTRAIL_RATE_LIMIT_PER_SECOND`).

    A key or token verified in the last `key_cache_seconds` is not looked up again, so a
    busy client costs no query (and no thread hop) per request. One dependency that reads
    both headers itself: FastAPI solves every dependency afresh on each request (some 20 µs
    apiece), so the two header schemes are declared in the OpenAPI document
    (`Surface.document`) instead of as dependencies of their own.
    """
    backend = request.app.state.backend
    found = await verify(backend, request.headers)
    if backend.limiter is not None:
        backend.limiter.take(found.actor)
    route = request.scope.get("route")
    if getattr(route, "writes", request.method in WRITING):
        roles.may_write(found)
    request.state.principal = found
    return found


async def verify(backend: Backend, headers: Mapping[str, str]) -> Principal:
    """Whose credential the headers (or a gRPC call's metadata, lower-case names) carry;
    Unauthorized when there is none, or it is invalid, revoked or expired."""
    api_key = headers.get("x-api-key")
    credential = api_key or _bearer(headers.get("authorization"))
    if not credential:
        raise Unauthorized(MISSING)
    found = backend.keys.get(credential)
    if found is not None:
        return found
    if api_key is None and is_jwt(credential):
        found, expires_at = await run_in_threadpool(
            sessions.authenticate, backend.engine, backend.signer, credential
        )
        backend.keys.put(credential, found, at_most=expires_at - time.time())
        return found
    found = await run_in_threadpool(authenticate, backend.engine, credential)
    if found is None:
        raise Unauthorized(INVALID)
    backend.keys.put(credential, found)
    return found


async def jwt_principal(who: Principal = Depends(principal)) -> Principal:
    """The caller of a route that takes a signed-in user only (401 for an API key)."""
    if who.via != "jwt":
        raise Unauthorized(JWT_REQUIRED)
    return who
