"""Queries over `logs` and `log_revisions`, always scoped to one organization."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Row,
    Text,
    TypeDecorator,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Update

from llmtrail.store import rollups
from llmtrail.store.driver import execute_many, fetch, insert_rows
from llmtrail.store.tables import log_revisions, logs


def org_scope(org_id: int, *clauses: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return and_(logs.c.org_id == org_id, *(c for c in clauses if c is not None))


def _one_of(conn: Connection, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as one array parameter (`= ANY(...)`).

    An expanded IN is a new statement text for every list length, with a placeholder per
    value: psycopg parses each one afresh and never reuses a prepared statement for it, a
    fifth of a 1,000-log batch-update. The array keeps one text for any list.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def get_by_unique_id(conn: Connection, org_id: int, unique_id: str) -> Row | None:
    return conn.execute(
        select(logs).where(logs.c.org_id == org_id, logs.c.unique_id == unique_id)
    ).first()


def get_locked(conn: Connection, org_id: int, unique_id: str, share: bool = False) -> Row | None:
    """A log, row-locked until the transaction ends (PostgreSQL; SQLite's write lock is whole)."""
    query = select(logs).where(logs.c.org_id == org_id, logs.c.unique_id == unique_id)
    return conn.execute(query.with_for_update(read=share)).first()


# What a new child takes from its parent, read in the transaction that stores the child and
# share-locked there on PostgreSQL (SQLite's write lock covers the whole database).
_PARENT = (
    select(logs.c.log_status, logs.c.unique_id, logs.c.trace_unique_id, logs.c.span_unique_id)
    .where(logs.c.org_id == bindparam("org_id"), logs.c.unique_id == bindparam("unique_id"))
    .with_for_update(read=True)
)


def parent_link(conn: Connection, org_id: int, unique_id: str) -> tuple | None:
    """(log_status, unique_id, trace_unique_id, span_unique_id) of a log, or None."""
    found = fetch(conn, _PARENT, {"org_id": org_id, "unique_id": unique_id})
    return found[0] if found else None


class StoredJson(TypeDecorator[Any]):
    """A JSON value as the database holds it, undecoded, ready to be embedded in an answer.

    A large trace is mostly chat messages that are read only to be written out again; passing
    their stored text through (`orjson.Fragment`) saves decoding and re-encoding them.
    """

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> orjson.Fragment | None:
        return None if value is None else orjson.Fragment(value)


PASSED_THROUGH = (logs.c.prompt_messages, logs.c.completion_message, logs.c.metadata)


def trace_rows(conn: Connection, org_id: int, trace_id: str, columns: Iterable[str]) -> list[Row]:
    """These columns of every log of a trace, in the order stored; messages and metadata as
    `StoredJson`. A trace can be tens of thousands of rows: each column left out is time saved."""
    chosen = [logs.c[name] for name in columns]
    selected = [cast(c, StoredJson).label(c.name) if c in PASSED_THROUGH else c for c in chosen]
    query = select(*selected).where(logs.c.org_id == org_id, logs.c.trace_unique_id == trace_id)
    return conn.execute(query.order_by(logs.c.id)).all()


def get_many(conn: Connection, org_id: int, unique_ids: Iterable[str]) -> dict[str, Row]:
    ids = list(dict.fromkeys(unique_ids))
    found: dict[str, Row] = {}
    for start in range(0, len(ids), 500):  # stay under every driver's bound-parameter limit
        chunk = ids[start : start + 500]
        query = select(logs).where(logs.c.org_id == org_id, _one_of(conn, logs.c.unique_id, chunk))
        found.update((row.unique_id, row) for row in conn.execute(query))
    return found


def page(
    conn: Connection,
    where: ColumnElement[bool],
    order_by: Sequence[ColumnElement[Any]],
    offset: int,
    limit: int,
    start: ColumnElement[bool] | None = None,
) -> list[Row]:
    """One page of matching logs (from `start` on, if given)."""
    query = select(logs).where(where if start is None else and_(where, start))
    return conn.execute(query.order_by(*order_by).offset(offset).limit(limit)).all()


def count(conn: Connection, where: ColumnElement[bool]) -> int:
    return conn.scalar(select(func.count()).select_from(logs).where(where)) or 0


def update_many(conn: Connection, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Set columns of many logs by primary key, in order: one executemany per set of columns."""
    runs: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
    for log_pk, values in changes:
        columns = tuple(values)
        if not runs or runs[-1][0] != columns:
            runs.append((columns, []))
        runs[-1][1].append({"pk": log_pk, **{f"v_{c}": values[c] for c in columns}})
    for columns, params in runs:
        execute_many(conn, _update(columns), params)


@cache
def _update(columns: tuple[str, ...]) -> Update:
    """One UPDATE per set of columns, built once: the driver module compiles each once."""
    return (
        update(logs)
        .where(logs.c.id == bindparam("pk"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )


def add_revisions(conn: Connection, revisions: list[dict[str, Any]]) -> None:
    insert_rows(conn, log_revisions, revisions)


def revisions_of(conn: Connection, log_pk: int) -> list[Row]:
    query = select(log_revisions).where(log_revisions.c.log_id == log_pk)
    return conn.execute(query.order_by(log_revisions.c.id)).all()


def delete_many(conn: Connection, org_id: int, unique_ids: Sequence[str]) -> list[Row]:
    """Delete logs; returns what the rollups and the metadata index need of each."""
    result = conn.execute(
        delete(logs)
        .where(logs.c.org_id == org_id, _one_of(conn, logs.c.unique_id, unique_ids))
        .returning(
            logs.c.id,
            logs.c.org_id,
            logs.c.version_id,
            logs.c.metadata,
            *(logs.c[name] for name in rollups.DEPENDS_ON),
        )
    )
    return result.all()


def json_text(column: Any) -> ColumnElement[str]:
    """A JSON column as text, for substring search (`jsonb::text` on PostgreSQL)."""
    return cast(column, Text)
