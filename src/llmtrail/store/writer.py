"""Group commit: concurrent requests share one transaction, and each is answered after it commits.

A single thread owns the write side and one connection for its whole life. It takes every
submission waiting in its queue and, in one transaction, lets each check itself against the
database and complete its rows (`prepare`), inserts the rows with one executemany per
table, runs the follow-up work (`after`), commits once, and only then resolves each
submission's future. Under load many requests ride on one fsync; at rest a submission is
written at once. The server runs this writer in a process of its own (`writer_process`).

A submission whose `prepare` refuses it is answered with that refusal and left out; the
rest of the batch goes on. When the batch itself fails (say, one request reuses a taken
id), each submission is retried alone, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import IntegrityError

from llmtrail.core.errors import Conflict, DomainError
from llmtrail.store.checkpoints import Checkpoints
from llmtrail.store.driver import insert_rows
from llmtrail.store.statistics import Analyzer
from llmtrail.store.tables import metadata_obj

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 20_000

# Work a submission does inside the shared transaction. `prepare` runs before any insert: it
# reads (it must not write), refuses the submission by raising a DomainError, and returns
# column values to set on each of its rows (or None). `after` runs after the inserts, with
# the submission, whose rows then carry their new ids (e.g. to queue jobs for them). Both
# cross to the writer process: use picklable objects, not closures.
Prepare = Callable[[Connection], dict[str, Any] | None]
After = Callable[[Connection, "Submission"], None]


@dataclass
class Submission:
    """Rows for one or more tables, written atomically, plus what to do in the same transaction."""

    inserts: list[tuple[Table, Sequence[dict]]]
    after: After | None = None
    prepare: Prepare | None = None
    # The values `prepare` set on the rows, once it has run.
    prepared: dict[str, Any] | None = None
    future: Future[None] = field(default_factory=Future)

    @property
    def size(self) -> int:
        return sum(len(rows) for _, rows in self.inserts)

    def complete(self, values: dict[str, Any] | None) -> None:
        """Set what `prepare` found on every row."""
        self.prepared = values
        for _, rows in self.inserts if values else ():
            for row in rows:
                row.update(values)

    def rolled_back(self) -> None:
        """Forget the ids a transaction that failed gave the rows."""
        for table, rows in self.inserts:
            if (key := table.autoincrement_column) is not None:
                for row in rows:
                    row.pop(key.name, None)

    def __getstate__(self) -> dict[str, Any]:
        """Tables by name and no future: what the writer process needs of a submission."""
        inserts = [(table.name, rows) for table, rows in self.inserts]
        return {"inserts": inserts, "after": self.after, "prepare": self.prepare}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.inserts = [(metadata_obj.tables[name], rows) for name, rows in state["inserts"]]
        self.after, self.prepare = state["after"], state["prepare"]
        self.prepared, self.future = None, Future()


class Writer(Protocol):
    """Where the write path sends its submissions: this thread, or the writer process."""

    async def write(self, submission: Submission) -> None:
        """Returns once the submission is committed; raises why it was not."""


class GroupCommitWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._analyzer = Analyzer(engine)
        self._checkpoints = Checkpoints() if engine.dialect.name == "sqlite" else None
        self._conn: Connection | None = None
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="llmtrail-writer", daemon=True)
        self._thread.start()

    def submit(self, submission: Submission) -> Future[None]:
        """Queue rows; the future resolves once they are committed (or fails with the reason)."""
        self._queue.put(submission)
        return submission.future

    async def write(self, submission: Submission) -> None:
        await asyncio.wrap_future(self.submit(submission))

    def close(self) -> None:
        """Write what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        try:
            while not stopping:
                first = self._queue.get()
                if first is None:
                    return
                batch, rows = [first], first.size
                while rows < MAX_BATCH_ROWS:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stopping = True
                        break
                    batch.append(nxt)
                    rows += nxt.size
                self._write(batch)
        finally:
            self._disconnect()

    def _connection(self) -> Connection:
        """The writer's own connection: no pool checkout (nor PostgreSQL ping) per commit."""
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(write=True)
            if self._checkpoints is not None:  # this writer checkpoints when it sees fit
                self._conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
        return self._conn

    def _disconnect(self) -> None:
        """Drop the connection after a failure: the next batch starts on a fresh one."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:  # a broken connection may fail to roll back; it is gone anyway
                log.debug("closing the writer's connection failed", exc_info=True)

    def _write(self, batch: list[Submission]) -> None:
        try:
            conn = self._connection()
            with conn.begin():
                accepted = _apply(conn, batch)
        except Exception as exc:
            self._disconnect()
            for submission in batch:
                submission.rolled_back()
            pending = [s for s in batch if not s.future.done()]  # not refused by `prepare`
            if len(pending) == 1:
                pending[0].future.set_exception(_domain_error(exc))
            elif pending:
                for submission in pending:  # isolate the culprit: each alone, in a transaction
                    self._write([submission])
            return
        for submission in accepted:
            submission.future.set_result(None)
        written = sum(submission.size for submission in accepted)
        self._analyzer.wrote(written)
        if self._checkpoints is not None:
            self._checkpoints.wrote(conn, written, idle=self._queue.empty())


def _apply(conn: Connection, batch: list[Submission]) -> list[Submission]:
    """Prepare each submission, insert table by table in first-seen order (parents before
    children), then run the follow-up hooks. Returns the submissions written."""
    accepted = []
    for submission in batch:
        if submission.prepare is not None:
            try:
                submission.complete(submission.prepare(conn))
            except DomainError as exc:
                submission.future.set_exception(exc)
                continue
        accepted.append(submission)
    by_table: dict[Table, list[dict]] = {}
    for submission in accepted:
        for table, rows in submission.inserts:
            by_table.setdefault(table, []).extend(rows)
    for table, rows in by_table.items():
        insert_rows(conn, table, rows)
    for submission in accepted:
        if submission.after is not None:
            submission.after(conn, submission)
    return accepted


def _domain_error(exc: Exception) -> Exception:
    if isinstance(exc, IntegrityError):
        return Conflict("an object with this id already exists")
    if isinstance(exc, DomainError):  # a check refused the rows: the caller's answer, not a fault
        return exc
    log.exception("write failed", exc_info=exc)
    return exc
