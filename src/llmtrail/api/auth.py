"""API-key authentication, shared by both dialects.

Keywords AI clients send `Authorization: Bearer KEY`, Humanloop clients `X-API-KEY: KEY`;
either header works on every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend
from llmtrail.core.keys import Principal, authenticate

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
# Either scheme alone authenticates.
SECURITY = [{name: []} for name in SECURITY_SCHEMES]


class AuthError(Exception):
    """401: rendered as `{"detail": ...}` in both dialects."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _bearer(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


async def principal(request: Request) -> Principal:
    """The caller. A key verified in the last `key_cache_seconds` is not looked up again, so a
    busy client costs no query (and no thread hop) per request.

    One dependency that reads both headers itself: FastAPI solves every dependency afresh on
    each request (some 20 µs apiece), so the two header schemes are declared in the OpenAPI
    document (`document_security`) instead of as dependencies of their own.
    """
    headers = request.headers
    key = headers.get("x-api-key") or _bearer(headers.get("authorization"))
    if not key:
        raise AuthError(MISSING)
    backend: Backend = request.app.state.backend
    found = backend.keys.get(key)
    if found is None:
        found = await run_in_threadpool(authenticate, backend.engine, key)
        if found is None:
            raise AuthError(INVALID)
        backend.keys.put(key, found)
    request.state.principal = found
    return found


def _needs_key(dependant: Dependant) -> bool:
    return any(d.call is principal or _needs_key(d) for d in dependant.dependencies)


def document_security(app: FastAPI, routers: list[APIRouter]) -> None:
    """List both key schemes in the OpenAPI document, on every operation that takes a key."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()  # FastAPI's own, cached: the additions below are the same every time
        spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for route in (route for router in routers for route in router.routes):
            if (
                isinstance(route, APIRoute)
                and route.include_in_schema
                and _needs_key(route.dependant)
            ):
                for method in route.methods:
                    spec["paths"][route.path_format][method.lower()]["security"] = SECURITY
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
