"""Identifiers and the clock, so that every dialect mints them the same way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import overload


def new_id(prefix: str = "") -> str:
    """A random id; Keywords AI uses bare hex uuids, Humanloop prefixes them (`log_`, `fl_`)."""
    return prefix + uuid.uuid4().hex


def utcnow() -> datetime:
    """Naive UTC: the store keeps every timestamp naive and in UTC, on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


@overload
def to_utc_naive(value: datetime) -> datetime: ...
@overload
def to_utc_naive(value: None) -> None: ...
def to_utc_naive(value: datetime | None) -> datetime | None:
    """The moment in naive UTC, as the store keeps it (a naive value is taken as UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, the form both services answer with."""
    if value is None:
        return None
    return value.isoformat(timespec="microseconds") + "Z"
