"""Statements compiled once and run straight through the driver: the write path's hot loop.

SQLAlchemy's `execute` builds a cache key, looks the statement up and runs every value
through its bind processors, about 100 µs a statement; the group writer runs several per
commit, hundreds of commits a second. Here a Core statement is compiled once per dialect,
each value is converted by one function chosen per parameter (orjson for JSON, the SQLite
text form for datetimes), and the SQL goes to the driver's own cursor on the transaction's
connection. The statements themselves stay SQLAlchemy Core, so one text serves both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
from psycopg import RawCursor
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

Convert = Callable[[Any], Any] | None
COPY_FROM = 64  # rows: from here PostgreSQL takes them by COPY


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
def _positional(dialect: Dialect) -> Dialect:
    """The dialect with positional placeholders: parameters are then plain tuples, built by
    one C-level item getter per row. `?` on SQLite; on PostgreSQL its own `$1`, sent as they
    are by psycopg's raw cursor: its `%s` form is parsed again on every execute once a
    statement has over 50 parameters or 4,096 bytes (the logs insert, the rollups), and a
    value used twice (in a select list and its GROUP BY) stays one placeholder."""
    if dialect.positional:
        return dialect
    return type(dialect)(paramstyle="numeric_dollar")


def _cursor(conn: Connection) -> Any:
    """A cursor of the transaction's driver connection; on PostgreSQL a raw one (`$1`)."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        return RawCursor(raw)
    return raw.cursor()


@dataclass(frozen=True)
class _Binder:
    """A statement's SQL and how to turn a mapping into its parameters."""

    sql: str
    names: tuple[str, ...]
    get: Callable[[Mapping[str, Any]], tuple]
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]
    constants: Mapping[str, Any]  # the values the statement carries itself (literals)

    @classmethod
    def of(
        cls,
        sql: str,
        names: Sequence[str],
        kinds: Sequence[Any],
        dialect: Dialect,
        constants: Mapping[str, Any] | None = None,
    ) -> _Binder:
        convert = tuple(
            (i, f) for i, kind in enumerate(kinds) if (f := _converter(kind, dialect)) is not None
        )
        get = itemgetter(*names) if len(names) > 1 else (lambda row, n=names[0]: (row[n],))
        return cls(sql, tuple(names), get, convert, constants or {})

    def __call__(self, row: Mapping[str, Any]) -> Sequence[Any]:
        values = self.get({**self.constants, **row} if self.constants else row)
        if self.convert:
            values = list(values)
            for i, f in self.convert:
                values[i] = f(values[i])
        return values


@cache
def _compiled(statement: ClauseElement, dialect: Dialect) -> _Binder:
    """A statement with named `bindparam`s, compiled once per dialect. Values it carries
    itself (a literal) are sent as parameters too. An expanded IN has no text until its
    list is known, so it cannot be compiled once: refused here, by name, where the database
    would answer a syntax error at its placeholder."""
    compiled = statement.compile(dialect=_positional(dialect))
    if compiled.post_compile_params:
        names = ", ".join(sorted(compiled.bind_names[p] for p in compiled.post_compile_params))
        raise TypeError(f"an expanded IN ({names}) cannot run through the driver: use among()")
    names = compiled.positiontup or []
    binds = [compiled.binds[name] for name in names]
    constants = {n: b.value for n, b in zip(names, binds, strict=True) if not b.required}
    kinds = [bind.type for bind in binds]
    return _Binder.of(str(compiled), names, kinds, dialect, constants)


@cache
def _insert(table: Table, columns: tuple[str, ...], dialect: Dialect, returning: bool) -> _Binder:
    statement = table.insert()
    if returning:
        statement = statement.returning(table.autoincrement_column)
    compiled = statement.compile(dialect=_positional(dialect), column_keys=list(columns))
    names = compiled.positiontup or []
    return _Binder.of(str(compiled), names, [table.c[c].type for c in names], dialect)


def _run(
    conn: Connection, sql: str, params: list[Any], many: bool = False, returning: bool = False
) -> list[tuple]:
    cursor = _cursor(conn)
    # One parameter set goes by `execute`: psycopg's executemany runs a pipeline, twice the
    # cost of a plain statement for the one row most single-log commits insert.
    many = many and len(params) > 1
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

    A table with an autoincrement key gets it back in each row (`row["id"]`). On SQLite the
    rows of one statement take consecutive rowids, one past the largest, while the
    transaction holds the only write lock. On PostgreSQL many rows go by COPY, several
    times cheaper per row than INSERT, with ids drawn from the table's sequence first; a few
    go by INSERT ... RETURNING, one round trip instead of COPY's three.
    """
    if not rows:
        return
    key = table.autoincrement_column
    wanted = key is not None and key.name not in rows[0]
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        if wanted:  # the rows carry their ids into the COPY
            for row, (new_id,) in zip(rows, _next_ids(conn, table, len(rows)), strict=True):
                row[key.name] = new_id
        binder = _insert(table, tuple(rows[0]), conn.dialect, False)
        _copy(conn, table, binder.names, [binder(row) for row in rows])
        return
    returning = wanted and conn.dialect.name == "postgresql"
    binder = _insert(table, tuple(rows[0]), conn.dialect, returning)
    params = [binder(row) for row in rows]
    if returning:
        ids = [new_id for (new_id,) in _run(conn, binder.sql, params, many=True, returning=True)]
    else:
        _run(conn, binder.sql, params, many=True)
        if not wanted:
            return
        [(last,)] = _run(conn, "SELECT last_insert_rowid()", [()], many=False)
        ids = list(range(last - len(rows) + 1, last + 1))
    for row, new_id in zip(rows, ids, strict=True):
        row[key.name] = new_id


@cache
def _insert_new(
    table: Table, columns: tuple[str, ...], unique: tuple[str, ...], dialect: Dialect
) -> _Binder:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=[table.c[c] for c in unique])
    compiled = statement.compile(dialect=_positional(dialect), column_keys=list(columns))
    names = compiled.positiontup or []
    return _Binder.of(str(compiled), names, [table.c[c].type for c in names], dialect)


def insert_new_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], unique: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Insert the rows whose `unique` columns match no stored row (nor an earlier row of
    theirs); returns those, each with its new id, and leaves the others without one.

    `INSERT ... ON CONFLICT (unique) DO NOTHING` on both databases (COPY cannot skip a row).
    The ids are drawn before the insert (PostgreSQL's sequence; on SQLite past the largest,
    under the transaction's write lock), so one query on them tells which rows went in.
    """
    if not rows:
        return []
    key = table.autoincrement_column
    assert key is not None
    if conn.dialect.name == "postgresql":
        ids = [new_id for (new_id,) in _next_ids(conn, table, len(rows))]
    else:
        [(last,)] = _run(conn, f'SELECT coalesce(max("{key.name}"), 0) FROM "{table.name}"', [()])
        ids = list(range(last + 1, last + 1 + len(rows)))
    for row, new_id in zip(rows, ids, strict=True):
        row[key.name] = new_id
    binder = _insert_new(table, tuple(rows[0]), unique, conn.dialect)
    _run(conn, binder.sql, [binder(row) for row in rows], many=True)
    drawn = (
        one_of(conn, key, ids)
        if conn.dialect.name == "postgresql"
        else key.between(ids[0], ids[-1])
    )
    stored = {found for (found,) in conn.execute(select(key).where(drawn))}
    inserted = []
    for row in rows:
        if row[key.name] in stored:
            inserted.append(row)
        else:
            del row[key.name]
    return inserted


def _next_ids(conn: Connection, table: Table, count: int) -> list[tuple]:
    key = table.autoincrement_column
    assert key is not None
    sequence = f"pg_get_serial_sequence('{table.name}', '{key.name}')"
    sql = f"SELECT nextval({sequence}) FROM generate_series(1, $1)"
    return _run(conn, sql, [(count,)], many=False)


def _copy(conn: Connection, table: Table, names: Sequence[str], rows: list[Any]) -> None:
    """PostgreSQL's COPY: several times cheaper per row than INSERT, same constraints."""
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.IntegrityError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    finally:
        cursor.close()


def one_of(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as one array parameter (`= ANY(...)`).

    An expanded IN is a new statement text for every list length, with a placeholder per
    value: psycopg parses each one afresh and never reuses a prepared statement for it, a
    fifth of a 1,000-log batch-update. The array keeps one text for any list, of any length.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def among(column: Any, name: str, dialect_name: str) -> ColumnElement[bool]:
    """`column IN :name` in a statement built once, for any number of values in one
    parameter (a list): an array on PostgreSQL (`= ANY`), a JSON array on SQLite, read back
    by `json_each`. Unlike an expanded IN, the text is the same for every list, so it is
    compiled once and runs through the driver."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    values = func.json_each(bindparam(name, type_=JSON))
    return column.in_(select(literal_column("value")).select_from(values))


def execute_many(conn: Connection, statement: ClauseElement, params: Sequence[dict]) -> None:
    """Run a statement with named `bindparam`s once per parameter set. Build `statement` once
    (at import): the compiled form is cached by the statement object."""
    if params:
        binder = _compiled(statement, conn.dialect)
        _run(conn, binder.sql, [binder(p) for p in params], many=True)


def fetch(conn: Connection, statement: ClauseElement, params: dict[str, Any]) -> list[tuple]:
    """The rows a query returns, as plain tuples in its column order (values undecoded)."""
    binder = _compiled(statement, conn.dialect)
    return _run(conn, binder.sql, [binder(params)], many=False)
