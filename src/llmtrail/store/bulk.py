"""Bulk inserts straight through the driver: the write path's hot loop.

SQLAlchemy's `executemany` runs every value of every row through its bind processors, which
costs more than the insert itself at thousands of rows a second. Here the INSERT is compiled
once per table and column set, and each value is converted by one function chosen per column
(orjson for JSON, the SQLite text form for datetimes), then handed to the driver's own
`executemany` on the transaction's connection.
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

Convert = Callable[[Any], Any] | None


def _json(value: Any) -> Any:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_datetime(value: datetime | None) -> str | None:
    """The text form SQLAlchemy's SQLite dialect stores and compares: one format for all rows."""
    return None if value is None else value.isoformat(" ", "microseconds")


@cache
def _statement(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[tuple[str, Convert], ...]]:
    """The INSERT's SQL, and its parameters in the order the SQL binds them, with converters."""
    compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
    order = compiled.positiontup if compiled.positional else columns
    sqlite = dialect.name == "sqlite"
    params: list[tuple[str, Convert]] = []
    for name in order:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            params.append((name, _json))
        elif sqlite and isinstance(kind, DateTime):
            params.append((name, _sqlite_datetime))
        else:
            params.append((name, None))
    return str(compiled), tuple(params)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all carry the same keys, in the connection's current transaction."""
    if not rows:
        return
    sql, pairs = _statement(table, tuple(rows[0]), conn.dialect)
    if conn.dialect.positional:
        params: list[Any] = [
            tuple(row[c] if f is None else f(row[c]) for c, f in pairs) for row in rows
        ]
    else:
        params = [{c: row[c] if f is None else f(row[c]) for c, f in pairs} for row in rows]
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, params)
    except conn.dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy would raise it
        raise IntegrityError(sql, None, exc) from exc
    finally:
        cursor.close()
