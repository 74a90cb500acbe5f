"""The answer body both dialects share, kept in one place so the OpenAPI document names one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


class Detail(BaseModel):
    """401, 403, 404, 409, 413 and 503 of both dialects (`api.errors`, `api.limits`): one
    sentence."""

    detail: str


# What each error status means, for the OpenAPI document.
MEANINGS = {
    400: "The request breaks a rule; each field and rule is named.",
    401: "No credentials, or an API key or JWT that is invalid, revoked or expired.",
    403: "The caller's role may not do this (a viewer may read but not write).",
    404: "Not found, or another organization's.",
    409: "Clashes with what is stored (an id or a name already taken).",
    413: "The body is larger than LLMTRAIL_MAX_BODY_BYTES.",
    422: "The request breaks a rule; each field and rule is named.",
    429: "Past the caller's rate (LLMTRAIL_RATE_LIMIT_PER_SECOND); retry after `Retry-After`.",
    502: "The LLM provider refused the call (its key, the model, the request); it says why.",
    503: "The writer is overloaded, the database is not answering (a write was not "
    "acknowledged), or the LLM provider failed or did not answer; retry after "
    "`Retry-After` seconds.",
}


def failures(models: Mapping[int, Any], *codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of `codes`, each with the model `models` gives it in a dialect."""
    return {code: {"model": models[code], "description": MEANINGS[code]} for code in codes}


def answers(
    status: int, model: Any, models: Mapping[int, Any], *codes: int
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: its success body (`model`; None for no body) and its errors."""
    ok = {"model": model} if model is not None else {"description": "No body"}
    return {**failures(models, *codes), status: ok}
