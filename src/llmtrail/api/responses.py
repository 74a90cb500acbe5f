"""The answer body both dialects share, kept in one place so the OpenAPI document names one."""

from __future__ import annotations

from pydantic import BaseModel


class Detail(BaseModel):
    """401, 404, 409 and 413 of both dialects (`api.errors`, `api.limits`): one sentence."""

    detail: str
