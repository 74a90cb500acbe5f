"""JSON in and out through orjson, for every route of both dialects.

Starlette parses request bodies with the standard library's `json`, several times slower
than orjson on a 500-log bulk body; FastAPI's own `ORJSONResponse` is deprecated. A route
returning `JSONBody(...)` skips FastAPI's validation and encoding of its answer, which
matters for answers made of many logs (a list page, a batch-update of 1,000 logs, a
20,000-span trace).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from llmtrail.api.bounds import refuse_deep_nesting, refuse_nul_in_query, refuse_unstorable


class JSONBody(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


_pauses = 0
_pauses_lock = threading.Lock()


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large answer is built (the collector stays global).

    Building a 20,000-span trace allocates about a million dicts, lists and strings that all
    stay alive until the answer is sent; CPython's collector rescans them again and again as
    they accumulate, a third of the time. They hold no reference cycles: reference counting
    frees them when the answer is gone. Overlapping requests keep the pause until the last
    one ends.
    """
    global _pauses
    with _pauses_lock:
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0:
                gc.enable()


class _OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            # orjson.JSONDecodeError subclasses json.JSONDecodeError: FastAPI reports it as usual.
            self._json = orjson.loads(await self.body())
        return self._json


_WITH_BODIES = frozenset({"POST", "PUT", "PATCH"})


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parse_with_orjson(request: Request) -> Response:
            request = _OrjsonRequest(request.scope, request.receive)
            refuse_nul_in_query(request.query_params.multi_items())
            if request.method in _WITH_BODIES:  # refused here: FastAPI's parsing would say 400
                raw = await request.body()
                refuse_unstorable(raw)
                if raw:
                    with suppress(orjson.JSONDecodeError):  # FastAPI reports it as it parses
                        refuse_deep_nesting(raw, await request.json())
            return await handler(request)

        return parse_with_orjson
