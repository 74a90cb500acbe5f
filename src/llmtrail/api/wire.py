"""Conversions both dialects make on the way out."""

from __future__ import annotations

from typing import Any

import orjson


def json_text(value: Any) -> str | None:
    """A JSON value as text, as both services answer `input`/`output`; text stays as it is."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
