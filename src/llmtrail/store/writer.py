"""Group commit: concurrent requests share one transaction, and each is answered after it commits.

A single thread owns the write side. It takes every submission waiting in its queue, inserts
them in one transaction with one executemany per table, commits once, and only then resolves
each submission's future. Under load many requests ride on one fsync; at rest a submission is
written at once. When a batch fails (say, one request reuses a taken id), each submission is
retried alone, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import IntegrityError

from llmtrail.core.errors import Conflict, DomainError
from llmtrail.store.bulk import insert_rows
from llmtrail.store.database import begin_write
from llmtrail.store.statistics import Analyzer

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 20_000

# Work a submission does inside the shared transaction, after the inserts (e.g. queue jobs).
AfterInsert = Callable[[Connection], None]


@dataclass
class Submission:
    """Rows for one or more tables, written atomically, plus what to do in the same transaction."""

    inserts: list[tuple[Table, Sequence[dict]]]
    after: AfterInsert | None = None
    future: Future[None] = field(default_factory=Future)

    @property
    def size(self) -> int:
        return sum(len(rows) for _, rows in self.inserts)


class GroupCommitWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._analyzer = Analyzer(engine)
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="llmtrail-writer", daemon=True)
        self._thread.start()

    def submit(self, submission: Submission) -> Future[None]:
        """Queue rows; the future resolves once they are committed (or fails with the reason)."""
        self._queue.put(submission)
        return submission.future

    def close(self) -> None:
        """Write what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
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

    def _write(self, batch: list[Submission]) -> None:
        try:
            with begin_write(self._engine) as conn:
                _apply(conn, batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(_domain_error(exc))
                return
            for submission in batch:  # isolate the culprit: each alone, in its own transaction
                self._write([submission])
            return
        for submission in batch:
            submission.future.set_result(None)
        self._analyzer.wrote(sum(submission.size for submission in batch))


def _apply(conn: Connection, batch: list[Submission]) -> None:
    """Insert table by table in first-seen order (parents before children), then run hooks."""
    by_table: dict[Table, list[dict]] = {}
    for submission in batch:
        for table, rows in submission.inserts:
            by_table.setdefault(table, []).extend(rows)
    for table, rows in by_table.items():
        insert_rows(conn, table, rows)
    for submission in batch:
        if submission.after is not None:
            submission.after(conn)


def _domain_error(exc: Exception) -> Exception:
    if isinstance(exc, IntegrityError):
        return Conflict("an object with this id already exists")
    if isinstance(exc, DomainError):  # a check refused the rows: the caller's answer, not a fault
        return exc
    log.exception("write failed", exc_info=exc)
    return exc
