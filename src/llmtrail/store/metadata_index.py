"""The logs of each top-level metadata value: an index for `metadata__KEY` equality filters.

Metadata lives in a JSON column, and a filter on one of its keys read every log of the
window to look inside (a second for a week of a million logs on SQLite). This table has a
row for each (log, top-level key) whose value is a scalar, keyed by organization, key,
value and time, so an equality filter finds its logs through an index range. Its rows are
written in the transaction that writes the log: by the writer for new logs, by annotation
edits for changed metadata, by deletes.

A value is kept as its JSON spelling (`"acme"` as `acme`, `true`, `5`, `0.5`), the way
filters compare metadata; objects, arrays, nulls and strings over 255 characters are not
indexed, and a filter on those goes through the JSON column as before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, bindparam, delete, func, select

from llmtrail.store.driver import execute_many, insert_rows
from llmtrail.store.predicates import Condition, Group
from llmtrail.store.tables import log_metadata, logs

LONGEST = 255
Entry = tuple[int, str, str, Any, int]  # org_id, key, value, timestamp, log_id


def spelling(value: Any) -> str | None:
    """A scalar's JSON spelling, strings unquoted; None for what is not indexed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return orjson.dumps(value).decode() if math.isfinite(value) else None
    if isinstance(value, str) and len(value) <= LONGEST:
        return value
    return None


def indexable(values: Sequence[Any]) -> bool:
    """Whether an equality filter for these values can be answered from the index alone:
    each is a string an indexed value could be spelled as (not an object or array)."""
    return all(
        isinstance(v, str) and len(v) <= LONGEST and not v.startswith(("{", "[")) for v in values
    )


def answers(cond: Condition) -> bool:
    """Whether the index answers this filter condition: `metadata__KEY` equal to (one of)
    values it holds."""
    return (
        cond.field == "metadata"
        and cond.key is not None
        and cond.operator == "in"
        and not cond.numeric
        and indexable(cond.values)
    )


def only_condition(filters: Group) -> Condition | None:
    """The filters' one condition when there is exactly one and the index answers it."""
    items = filters.items
    while len(items) == 1 and isinstance(items[0][1], Group):
        items = items[0][1].items
    if len(items) == 1 and isinstance(items[0][1], Condition) and answers(items[0][1]):
        return items[0][1]
    return None


def entries(rows: Iterable[Mapping[str, Any]]) -> Iterator[Entry]:
    """The index rows of stored logs (mappings with id, org_id, timestamp, metadata)."""
    for row in rows:
        for key, value in (row["metadata"] or {}).items():
            text = spelling(value)
            if text is not None and len(key) <= LONGEST:
                yield row["org_id"], key, text, row["timestamp"], row["id"]


_COLUMNS = ("org_id", "key", "value", "timestamp", "log_id")
_DELETE = delete(log_metadata).where(
    *(log_metadata.c[name] == bindparam(name) for name in _COLUMNS)
)


def _apply(conn: Connection, gone: Iterable[Entry], new: Iterable[Entry]) -> None:
    execute_many(conn, _DELETE, [dict(zip(_COLUMNS, e, strict=True)) for e in gone])
    insert_rows(conn, log_metadata, [dict(zip(_COLUMNS, e, strict=True)) for e in new])


def add(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    _apply(conn, (), entries(rows))


def remove(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    _apply(conn, entries(rows), ())


def changed(conn: Connection, pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> None:
    """Follow logs that changed: (before, after) mappings of each, in the order applied (a log
    may change twice). Only a change of metadata or time moves index rows."""
    first: dict[int, Mapping[str, Any]] = {}
    last: dict[int, Mapping[str, Any]] = {}
    for before, after in pairs:
        first.setdefault(before["id"], before)
        last[before["id"]] = after
    gone: set[Entry] = set()
    new: set[Entry] = set()
    for log_id, before in first.items():
        after = last[log_id]
        if (before["metadata"], before["timestamp"]) == (after["metadata"], after["timestamp"]):
            continue
        old, now = set(entries([before])), set(entries([after]))
        gone |= old - now
        new |= now - old
    _apply(conn, sorted(gone), sorted(new))


def matching(org_id: int, key: str, values: Sequence[str]) -> ColumnElement[bool]:
    """Logs whose metadata `key` is spelled as one of `values`."""
    found = select(log_metadata.c.log_id).where(
        log_metadata.c.org_id == org_id,
        log_metadata.c.key == key,
        log_metadata.c.value.in_(list(values)),
    )
    return logs.c.id.in_(found)


def count(conn: Connection, org_id: int, cond: Condition, start: Any, end: Any) -> int:
    """How many logs from `start` to `end` (included) the condition holds for."""
    query = select(func.count()).where(
        log_metadata.c.org_id == org_id,
        log_metadata.c.key == cond.key,
        log_metadata.c.value.in_(list(cond.values)),
        log_metadata.c.timestamp >= start,
        log_metadata.c.timestamp <= end,
    )
    return int(conn.scalar(query) or 0)


def rebuild(conn: Connection, chunk: int = 20_000) -> None:
    """Index every stored log afresh (migrations, and stores filled outside the write path)."""
    conn.execute(delete(log_metadata))
    last = 0
    columns = (logs.c.id, logs.c.org_id, logs.c.timestamp, logs.c.metadata)
    while True:
        query = select(*columns).where(logs.c.id > last, logs.c.metadata.is_not(None))
        rows = conn.execute(query.order_by(logs.c.id).limit(chunk)).mappings().all()
        if not rows:
            return
        add(conn, rows)
        last = rows[-1]["id"]
