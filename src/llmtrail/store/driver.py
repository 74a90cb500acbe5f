"""Statements compiled once and run straight through the driver: the write path's hot loop.

SQLAlchemy's `execute` builds a cache key, looks the statement up and runs every value
through its bind processors, about 100 µs a statement; the group writer runs several per
commit, hundreds of commits a second. Here a Core statement is compiled once per dialect,
each value is converted by one function chosen per parameter (orjson for JSON, the SQLite
text form for datetimes), and the SQL goes to the driver's own cursor on the transaction's
connection. The statements themselves stay SQLAlchemy Core, so one text serves both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, DateTime, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

Convert = Callable[[Any], Any] | None
Params = tuple[tuple[str, Convert], ...]


def _json(value: Any) -> Any:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_datetime(value: datetime | None) -> str | None:
    """The text form SQLAlchemy's SQLite dialect stores and compares: one format for all rows."""
    return None if value is None else value.isoformat(" ", "microseconds")


def _converter(kind: Any, dialect: Dialect) -> Convert:
    if isinstance(kind, JSON):
        return _json
    if dialect.name == "sqlite" and isinstance(kind, DateTime):
        return _sqlite_datetime
    return None


@cache
def _compiled(statement: ClauseElement, dialect: Dialect) -> tuple[str, Params]:
    """A statement's SQL, and its parameters in the order the SQL binds them, with converters."""
    compiled = statement.compile(dialect=dialect)
    order = compiled.positiontup if compiled.positional else list(compiled.binds)
    params = tuple((name, _converter(compiled.binds[name].type, dialect)) for name in order)
    return str(compiled), params


@cache
def _insert(
    table: Table, columns: tuple[str, ...], dialect: Dialect, returning: bool
) -> tuple[str, Params]:
    statement = table.insert()
    if returning:
        statement = statement.returning(table.autoincrement_column)
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    order = compiled.positiontup if compiled.positional else columns
    return str(compiled), tuple((c, _converter(table.c[c].type, dialect)) for c in order)


def _bind(conn: Connection, pairs: Params, values: dict[str, Any]) -> Any:
    if conn.dialect.positional:
        return tuple(values[c] if f is None else f(values[c]) for c, f in pairs)
    return {c: values[c] if f is None else f(values[c]) for c, f in pairs}


def _run(
    conn: Connection, sql: str, params: list[Any], many: bool, returning: bool = False
) -> list[tuple]:
    cursor = conn.connection.driver_connection.cursor()
    try:
        if many and returning:  # psycopg: one result set per parameter set, in order
            cursor.executemany(sql, params, returning=True)
            found = []
            while True:
                found += cursor.fetchall()
                if not cursor.nextset():
                    return found
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params[0])
        return cursor.fetchall() if cursor.description else []
    except conn.dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy would raise it
        raise IntegrityError(sql, None, exc) from exc
    finally:
        cursor.close()


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all carry the same keys, in the connection's current transaction.

    A table with an autoincrement key gets it back in each row (`row["id"]`): PostgreSQL
    returns it per row; on SQLite the rows of one statement take consecutive rowids, one
    past the largest, while the transaction holds the only write lock.
    """
    if not rows:
        return
    key = table.autoincrement_column
    wanted = key is not None and key.name not in rows[0]
    returning = wanted and conn.dialect.name == "postgresql"
    sql, pairs = _insert(table, tuple(rows[0]), conn.dialect, returning)
    params = [_bind(conn, pairs, row) for row in rows]
    if not wanted:
        _run(conn, sql, params, many=True)
        return
    if returning:
        ids = _run(conn, sql, params, many=True, returning=True)
    else:
        _run(conn, sql, params, many=True)
        [(last,)] = _run(conn, "SELECT last_insert_rowid()", [()], many=False)
        ids = [(n,) for n in range(last - len(rows) + 1, last + 1)]
    for row, (new_id,) in zip(rows, ids, strict=True):
        row[key.name] = new_id


def execute_many(conn: Connection, statement: ClauseElement, params: Sequence[dict]) -> None:
    """Run a statement with named `bindparam`s once per parameter set. Build `statement` once
    (at import): the compiled form is cached by the statement object."""
    if params:
        sql, pairs = _compiled(statement, conn.dialect)
        _run(conn, sql, [_bind(conn, pairs, p) for p in params], many=True)


def fetch(conn: Connection, statement: ClauseElement, params: dict[str, Any]) -> list[tuple]:
    """The rows a query returns, as plain tuples in its column order (values undecoded)."""
    sql, pairs = _compiled(statement, conn.dialect)
    return _run(conn, sql, [_bind(conn, pairs, params)], many=False)
