"""Stopping a query that runs past a deadline, on either database.

SQLite calls a progress handler every so many virtual-machine steps, and a handler that
answers true interrupts the statement; PostgreSQL cancels a statement that runs past
`statement_timeout`, set here for the current transaction only and reset after. Use it
inside a savepoint: a stopped query aborts what it was part of.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

SQLITE_STEPS = 10_000  # between two looks at the clock: well under a millisecond


@contextmanager
def after(conn: Connection, seconds: float) -> Iterator[None]:
    """Queries run in the block are stopped `seconds` from now (an OperationalError)."""
    seconds = max(seconds, 0.001)
    if conn.dialect.name == "sqlite":
        deadline = time.monotonic() + seconds
        raw = conn.connection.driver_connection
        raw.set_progress_handler(lambda: time.monotonic() > deadline, SQLITE_STEPS)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)
        return
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(int(seconds * 1000), 1)}")
    # Reached only when the block succeeds: when it raises, the transaction is aborted, and
    # rolling back its savepoint undoes the setting with the rest.
    yield
    conn.exec_driver_sql("SET LOCAL statement_timeout = DEFAULT")
