"""Reading many rows in pages that start where the last one ended (keyset), for exports.

Each page is one short query on a connection of its own, so an export of millions of rows
holds no transaction open (SQLite's WAL can checkpoint, PostgreSQL can vacuum) and a download
abandoned halfway leaves nothing behind; a page costs the same at the end as at the start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, Row, Text, cast
from sqlalchemy.sql import Select

from llmtrail.store.filtering import compile_filter
from llmtrail.store.logs import org_scope
from llmtrail.store.predicates import Group
from llmtrail.store.tables import logs

PAGE_ROWS = 1000


def as_text(column: Column[Any]) -> ColumnElement[Any]:
    """A JSON column as the database holds it, undecoded (`jsonb::text` on PostgreSQL)."""
    return cast(column, Text).label(column.name)


def keyset_pages(
    engine: Engine, query: Select, key: Column[Any], size: int = PAGE_ROWS
) -> Iterator[Sequence[Row]]:
    """The rows of `query` (which selects `key` first) in the order of `key`, a page at a
    time; rows written meanwhile past the last page read are included."""
    last: Any = None
    while True:
        page = query if last is None else query.where(key > last)
        with engine.connect() as conn:
            rows = conn.execute(page.order_by(key).limit(size)).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


def logs_where(
    org_id: int, filters: Group, start: datetime | None, end: datetime | None
) -> ColumnElement[bool]:
    """The organization's logs that pass the filters, from `start` to `end` (each included;
    either may be open)."""
    return org_scope(
        org_id,
        logs.c.timestamp >= start if start is not None else None,
        logs.c.timestamp <= end if end is not None else None,
        compile_filter(filters, org_id),
    )
