"""Engines for SQLite (the embedded default) and PostgreSQL, configured for durable writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

try:  # the PostgreSQL driver; SQLite needs none
    import psycopg
    from psycopg.errors import QueryCanceled

    _LOST: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
    # An OperationalError too, but the server answered: a statement timeout (`interrupts`).
    _ANSWERED: tuple[type[BaseException], ...] = (QueryCanceled,)
except ImportError:  # pragma: no cover
    _LOST = _ANSWERED = ()

DOWN_RETRY_SECONDS = 1  # the Retry-After of a request refused because PostgreSQL is away


def _json_dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_loads(value: str | int | float) -> object:
    """SQLite gives a JSON column NUMERIC affinity, so a bare JSON number comes back a number."""
    if isinstance(value, (int, float)):  # a tuple: a union object would be built per call
        return value
    return orjson.loads(value)


def make_engine(url: str, *, plan_each_query: bool = True) -> Engine:
    """One engine per process. SQLite runs in WAL, fully synced: an acknowledged write survives.

    On PostgreSQL every query is planned for its own values (`plan_each_query`), but for the
    writer's: its statements have one shape whatever the values, and forcing custom plans
    there made PostgreSQL plan again the foreign-key check of every row it inserts (a third
    of a bulk COPY's time on the database side)."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=_json_loads,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=16,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        # psycopg prepares a statement run five times; PostgreSQL may then plan it once for
        # any parameters, and a plan good for one org's hour can scan a million rows for
        # another's week. Plan each execution for its own values.
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"} if plan_each_query else {},
        pool_size=16,
        max_overflow=16,
        pool_pre_ping=True,
    )


def lost_database(exc: BaseException) -> bool:
    """Whether `exc` says PostgreSQL is not answering (restarted, shutting down, unreachable,
    the connection cut), not that the statement was wrong: the request may succeed on retry.

    Both forms count: SQLAlchemy's wrapper (`execute`, a pool's checkout) and the driver's own
    error, which the write path's straight-through statements (`store.driver`) raise. SQLite's
    errors never do: a file database does not go away under a running server. What went
    wrong after the connection was lost counts too (its cause or context): a handler that
    lost it, caught, leaves the next statement a `PendingRollbackError`.
    """
    seen: BaseException | None = exc
    for _ in range(8):  # a chain is short; a cycle must not hang the caller
        if seen is None:
            return False
        error = seen.orig if isinstance(seen, DBAPIError) else seen
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(error, _LOST) and not isinstance(error, _ANSWERED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so a
    read-then-write transaction waits for its turn instead of failing with "database is locked"."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # LIKE is case-sensitive on PostgreSQL; make `contains` mean the same here.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()
