"""Rendering pages: one Jinja2 environment, the context every page gets, and the filters
that format what logs hold (times, money, durations, JSON)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from llmtrail.core import roles, scores
from llmtrail.core.keys import Principal
from llmtrail.ui import session

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _money(value: float | None) -> str:
    return "" if value is None else f"${value:.6f}".rstrip("0").rstrip(".")


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _compact(value: Any) -> str:
    """JSON for a `<script type="application/json">` block: `<` escaped, so no value can
    close the block."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode().replace("<", "\\u003c")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


TEMPLATES.env.filters.update(
    when=_when,
    money=_money,
    seconds=_seconds,
    json=_json,
    data=_compact,
    score=scores.value_of,
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page with what every page shows: who is signed in, what it may do, its CSRF token."""
    who: Principal | None = getattr(request.state, "principal", None)
    common = {
        "who": who,
        "can_write": who is not None and who.role != roles.VIEWER,
        "is_admin": who is not None and who.role == roles.ADMIN,
        "csrf_token": session.csrf_token(request),
        "csrf_field": session.CSRF_FIELD,
    }
    return TEMPLATES.TemplateResponse(request, name, {**common, **(context or {})}, status)
