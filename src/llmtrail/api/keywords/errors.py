"""Keywords AI error bodies (Django REST Framework): 400 with field-keyed messages, plus a
`detail` sentence naming each field and rule; a body that is not JSON is DRF's parse error."""

from __future__ import annotations

from typing import Any

from llmtrail.api.auth import SECURITY_SCHEMES, principal
from llmtrail.api.errors import DetailShape, from_pydantic
from llmtrail.api.keywords.responses import FieldErrors
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.errors import FieldError, dotted


def field_errors(errors: list[FieldError], *, detail: bool = True) -> dict[str, Any]:
    """DRF-style nested field errors, with a readable `detail` naming each field and rule
    (left out where a contract shows the field errors alone)."""
    body: dict[str, Any] = {}
    if detail:
        body["detail"] = "; ".join(f"{dotted(e.loc)}: {e.msg}" for e in errors)
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


class KeywordsErrors(DetailShape):
    """`detail`: whether field errors carry the readable sentence too (the request-log routes
    do; the evaluation routes answer exactly the contract's field-keyed bodies)."""

    def __init__(self, detail: bool = True) -> None:
        self.detail = detail

    def invalid(self, errors: list[FieldError], status: int | None = None) -> JSONBody:
        return JSONBody(field_errors(errors, detail=self.detail), status_code=status or 400)

    def request_invalid(self, errors: list[dict[str, Any]]) -> JSONBody:
        decode = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if decode is not None:
            reason = decode.get("ctx", {}).get("error", "invalid JSON")
            return JSONBody({"detail": f"JSON parse error - {reason}"}, status_code=400)
        return self.invalid(from_pydantic(errors))


# The answers of the resource routes (datasets, their evaluations, prompts, experiments) but
# their own.
ERRORS = {400: FieldErrors, 401: Detail, 404: Detail, 409: Detail, 413: Detail}


def doc(model: object, *codes: int, status: int = 200) -> dict:
    """A resource route's `responses=`: its body and these of `ERRORS`."""
    return answers(status, model, ERRORS, *codes)


def resource_surface(title: str) -> Surface:
    """The surface of a Keywords AI resource: by API key or JWT, DRF's field-keyed 400s."""
    return Surface(
        title,
        errors=KeywordsErrors(),
        auth=principal,
        security=SECURITY_SCHEMES,
        responses=failures(ERRORS, 401, 413),
        validation_status=400,
    )
