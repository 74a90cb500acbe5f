"""When the writer copies SQLite's write-ahead log back into the database (a checkpoint).

SQLite checkpoints by itself inside the commit that takes the log past 1,000 pages. Under
bulk ingest that is every few dozen milliseconds, each copying the same hot index pages
again and fsyncing the database: a quarter of the writer's time (raw inserts, measured:
14,000 rows/s with those checkpoints, 17,500 with one every 10,000 pages). The writer turns
that off on its own connection and checkpoints here instead: when it has nothing queued
and a little has been written (so a quiet server checkpoints in its idle moments and a
request rarely waits behind one), or when a lot has been written however busy it is.
Committed rows stand in for log pages: SQLite does not tell Python the log's length.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

log = logging.getLogger(__name__)

WHEN_IDLE = 500  # rows committed since the last checkpoint
ALWAYS = 5_000


class Checkpoints:
    def __init__(self) -> None:
        self._rows = 0

    def wrote(self, conn: Connection, rows: int, idle: bool) -> None:
        """Count committed rows; checkpoint on `conn` (outside a transaction) when due."""
        self._rows += rows
        if self._rows < (WHEN_IDLE if idle else ALWAYS):
            return
        self._rows = 0
        try:
            # PASSIVE: never waits for readers; what it cannot copy now, the next one will.
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a checkpoint is housekeeping: a failure must not stop writes
            log.exception("checkpoint failed")
