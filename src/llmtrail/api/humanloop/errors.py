"""Humanloop error bodies (FastAPI): 422 `{"detail": [{"loc", "msg", "type"}]}`, which its
SDK raises as UnprocessableEntityError."""

from __future__ import annotations

from typing import Any

from llmtrail.api.errors import DetailShape
from llmtrail.api.routing import JSONBody
from llmtrail.errors import FieldError


class HumanloopErrors(DetailShape):
    def invalid(self, errors: list[FieldError], status: int | None = None) -> JSONBody:
        """Domain rules speak of the body: their locations start with it, as FastAPI's do."""
        detail = [{"loc": ["body", *e.loc], "msg": e.msg, "type": e.type} for e in errors]
        return JSONBody({"detail": detail}, status_code=422)

    def request_invalid(self, errors: list[dict[str, Any]]) -> JSONBody:
        detail = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors]
        return JSONBody({"detail": detail}, status_code=422)
