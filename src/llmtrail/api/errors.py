"""Rendering errors in each dialect's wire shape.

Keywords AI (Django REST Framework): 400 with field-keyed messages, plus a `detail` sentence.
Humanloop (FastAPI): 422 `{"detail": [{"loc", "msg", "type"}]}`, which its SDK raises as
UnprocessableEntityError. Both: 401/404/409 as `{"detail": "..."}`, and 503 with a
`Retry-After` header when the writer is overloaded.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from llmtrail.api.auth import AuthError
from llmtrail.api.routing import JSONBody
from llmtrail.core.errors import Conflict, FieldError, Invalid, NotFound, dotted
from llmtrail.store.admission import Overloaded

HUMANLOOP_PREFIX = "/v5"


def is_humanloop(request: Request) -> bool:
    return request.url.path.startswith(HUMANLOOP_PREFIX)


def keywords_body(errors: list[FieldError]) -> dict[str, Any]:
    """DRF-style nested field errors, with a readable `detail` naming each field and rule."""
    body: dict[str, Any] = {"detail": "; ".join(f"{dotted(e.loc)}: {e.msg}" for e in errors)}
    for error in errors:
        node = body
        *parents, last = [str(part) for part in error.loc] or ["non_field_errors"]
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # a message list already sits here; keep both
                break
        else:
            node.setdefault(last, []).append(error.msg)
    return body


def humanloop_body(errors: list[FieldError]) -> dict[str, Any]:
    """FastAPI's shape, where a location starts with the part of the request: domain rules
    speak of the body."""
    return {"detail": [{"loc": ["body", *e.loc], "msg": e.msg, "type": e.type} for e in errors]}


def render_invalid(request: Request, errors: list[FieldError]) -> JSONBody:
    if is_humanloop(request):
        return JSONBody(humanloop_body(errors), status_code=422)
    return JSONBody(keywords_body(errors), status_code=400)


def _from_pydantic(errors: list[dict[str, Any]]) -> list[FieldError]:
    out = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append(FieldError(loc, error.get("msg", "invalid"), error.get("type", "value_error")))
    return out


async def _validation(request: Request, exc: RequestValidationError) -> JSONBody:
    errors = list(exc.errors())
    if is_humanloop(request):
        return JSONBody(
            {"detail": [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors]},
            status_code=422,
        )
    decode = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if decode is not None:
        reason = decode.get("ctx", {}).get("error", "invalid JSON")
        return JSONBody({"detail": f"JSON parse error - {reason}"}, status_code=400)
    return JSONBody(keywords_body(_from_pydantic(errors)), status_code=400)


async def _invalid(request: Request, exc: Invalid) -> JSONBody:
    return render_invalid(request, exc.errors)


async def _not_found(_: Request, exc: NotFound) -> JSONBody:
    return JSONBody({"detail": exc.message}, status_code=404)


async def _conflict(_: Request, exc: Conflict) -> JSONBody:
    return JSONBody({"detail": exc.message}, status_code=409)


async def _unauthorized(_: Request, exc: AuthError) -> JSONBody:
    return JSONBody({"detail": exc.detail}, status_code=401)


async def _overloaded(_: Request, exc: Overloaded) -> JSONBody:
    seconds = exc.retry_after
    detail = (
        "The server is overloaded: more logs are waiting to be written than it holds. "
        f"Nothing was stored; retry in {seconds} second{'s' if seconds != 1 else ''}."
    )
    return JSONBody({"detail": detail}, status_code=503, headers={"Retry-After": str(seconds)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(Invalid, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(AuthError, _unauthorized)  # type: ignore[arg-type]
    app.add_exception_handler(Overloaded, _overloaded)  # type: ignore[arg-type]
