"""How an API surface answers errors: the status each error means, the body its dialect
gives it.

A route raises domain errors (`llmtrail.errors`) and FastAPI raises `RequestValidationError`;
the route's surface turns them into its own wire shape (`ErrorShape`), so a new surface
brings its shape along and nothing here changes.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from llmtrail.api.routing import JSONBody
from llmtrail.errors import (
    BadGateway,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from llmtrail.store.admission import Overloaded
from llmtrail.store.database import DOWN_RETRY_SECONDS, lost_database
from llmtrail.store.writer_process import WriterGone

# The status of each kind of refusal (`Invalid` is the shape's own: 400 or 422).
STATUS: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    BadGateway: 502,
}


class ErrorShape(Protocol):
    """A dialect's error bodies."""

    def invalid(self, errors: list[FieldError], status: int | None = None) -> Response:
        """Broken rules, each naming its field (`status`: where a contract gives its own)."""

    def request_invalid(self, errors: list[dict[str, Any]]) -> Response:
        """A request FastAPI could not parse or validate (pydantic's error dicts)."""

    def refused(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """Any other refusal (401, 404, 409, 503, ...): one sentence."""

    def for_request(self, request: Request) -> ErrorShape:
        """The shape of this request's answers (OTLP answers in the request's encoding)."""


class DetailShape:
    """`{"detail": message}` for every refusal but a broken rule: both dialects' shape."""

    def refused(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return detail(status, message, headers)

    def for_request(self, request: Request) -> ErrorShape:
        return self  # type: ignore[return-value]


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> JSONBody:
    """`{"detail": message}`: the body both dialects give every error but a broken rule."""
    return JSONBody({"detail": message}, status_code=status, headers=headers)


def render(shape: ErrorShape, exc: Exception) -> Response | None:
    """The answer for an error a route raised, in `shape`; None for one that is a fault."""
    if isinstance(exc, RequestValidationError):
        return shape.request_invalid(list(exc.errors()))
    if isinstance(exc, Invalid):
        return shape.invalid(exc.errors, exc.status)
    if isinstance(exc, Overloaded):
        return shape.refused(503, overloaded(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, WriterGone) or lost_database(exc):
        return shape.refused(503, unreachable(exc), {"Retry-After": str(DOWN_RETRY_SECONDS)})
    if isinstance(exc, Unavailable | RateLimited):
        seconds = max(1, math.ceil(exc.retry_after or 1))
        status = 429 if isinstance(exc, RateLimited) else 503
        return shape.refused(status, exc.message, {"Retry-After": str(seconds)})
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return shape.refused(status, exc.message)
    return None


def overloaded(exc: Overloaded) -> str:
    """Why a write was refused with 503 and `Retry-After`: the writer's queue stayed full."""
    seconds = exc.retry_after
    return (
        "The server is overloaded: more logs are waiting to be written than it holds. "
        f"Nothing was stored; retry in {seconds} second{'s' if seconds != 1 else ''}."
    )


def unreachable(exc: Exception) -> str:
    """Why a request was refused with 503 when the writer process or the database stopped
    answering it: retrying is safe for a read, and for a write that carries its own ids."""
    what = (
        "The writer restarted" if isinstance(exc, WriterGone) else "The database is not answering"
    )
    return (
        f"{what}: the request was not completed (a write was not acknowledged). "
        f"Retry in {DOWN_RETRY_SECONDS} second."
    )


def from_pydantic(errors: list[dict[str, Any]]) -> list[FieldError]:
    """pydantic's errors as `FieldError`s, located in the body (not `("body", ...)`)."""
    out = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append(FieldError(loc, error.get("msg", "invalid"), error.get("type", "value_error")))
    return out
