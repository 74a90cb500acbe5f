"""JSON for what callers hand the SDK: request bodies, and traced inputs and outputs."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):  # pydantic models, the openai SDK's types among them
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Strict: a request body the SDK cannot encode is the caller's mistake, said at once."""
    return json.dumps(value, default=_plain, ensure_ascii=False)


def describe(value: Any, limit: int) -> str:
    """Lenient, for tracing: whatever a traced function takes or returns becomes JSON text
    (`repr` for what JSON cannot hold), cut at `limit` characters; never raises."""

    def fallback(item: Any) -> Any:
        try:
            return _plain(item)
        except Exception:
            return repr(item)

    try:
        text = json.dumps(value, default=fallback, ensure_ascii=False)
    except Exception:  # a circular structure, a failing __repr__
        text = json.dumps(f"<unserializable {type(value).__name__}>")
    return text[:limit]
