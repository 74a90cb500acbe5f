"""Direct routes: the ingest endpoints, documented by FastAPI but called without its machinery.

A single-log create is the request llmtrail serves most, and FastAPI 0.165 spends about
half of its CPU on machinery such an endpoint does not use: the content type parsed with
`email.message`, the body decoded and then validated as Python objects, each dependency
solved afresh with four parameter passes, the answer run through `jsonable_encoder`.
A `DirectRoute` keeps FastAPI's view of the endpoint (its OpenAPI operation, body model,
parameters and security) and calls it with the few things an ingest endpoint may take:

- one pydantic model as the body, validated straight from the raw bytes by pydantic-core;
- optional `str` query parameters and headers, and the `Request`;
- the `principal` and `get_backend` dependencies.

Anything else is refused when the route is registered, so a new parameter cannot be
silently ignored. Validation errors are FastAPI's own `RequestValidationError`s with the
same locations, so both dialects render them exactly as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from llmtrail.api.auth import principal
from llmtrail.api.backend import get_backend
from llmtrail.api.bounds import refuse_unstorable
from llmtrail.api.routing import JSONBody

_DEPENDENCIES = {principal, get_backend}


def _decode_error(raw: bytes) -> dict[str, Any]:
    """The error FastAPI reports for a body that is not JSON (position and reason included)."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return {
            "type": "json_invalid",
            "loc": ("body", exc.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
    raise AssertionError("pydantic refused JSON that orjson reads")  # pragma: no cover


def _validate(model: type[BaseModel], raw: bytes) -> BaseModel:
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    refuse_unstorable(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise RequestValidationError([_decode_error(raw)]) from None
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in errors], body=raw
        ) from None


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        calls = {d.call for d in dependant.dependencies}
        # The surface's own `principal` (on its router) comes unnamed; the endpoint's is named.
        who = next(d.name for d in dependant.dependencies if d.call is principal and d.name)
        backend = next((d.name for d in dependant.dependencies if d.call is get_backend), None)
        [body] = dependant.body_params
        model = body.field_info.annotation
        queries = [(q.name, q.alias, q.field_info.default) for q in dependant.query_params]
        headers = [(h.name, h.alias) for h in dependant.header_params]
        unsupported = [
            calls - _DEPENDENCIES,
            dependant.path_params,
            dependant.cookie_params,
            [
                p
                for p in (*dependant.query_params, *dependant.header_params)
                if p.field_info.annotation != str | None
            ],
        ]
        if (
            any(unsupported)
            or not (isinstance(model, type) and issubclass(model, BaseModel))
            or not inspect.iscoroutinefunction(self.endpoint)
        ):
            raise TypeError(
                f"{self.path}: a DirectRoute is a coroutine taking a body model, optional str "
                f"queries and headers, the Request, `principal` and `get_backend`; it also "
                f"takes {unsupported}"
            )
        endpoint, status_code = self.endpoint, self.status_code or 200
        request_name = dependant.request_param_name

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {who: await principal(request)}
            if backend is not None:
                values[backend] = request.app.state.backend
            values[body.name] = _validate(model, await request.body())
            params = request.query_params
            for name, alias, default in queries:
                values[name] = params.get(alias, default)
            for name, alias in headers:
                values[name] = request.headers.get(alias)
            if request_name is not None:
                values[request_name] = request
            answer = await endpoint(**values)
            return answer if isinstance(answer, Response) else JSONBody(answer, status_code)

        return handler
