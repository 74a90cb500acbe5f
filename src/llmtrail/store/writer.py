"""Group commit: concurrent requests share one transaction, and each is answered after it commits.

A single thread owns the write side and one connection for its whole life. It takes every
submission waiting in its queue and, in one transaction, lets each check itself against the
database and complete its rows (`prepare`), inserts the rows with one executemany per
table, runs the follow-up work (`after`), applies the changes to stored rows (`work`, each
in a savepoint of its own), hands the events they published to the dispatcher, commits
once, and only then resolves each submission's future. Under load many requests ride on one
fsync; at rest a submission is written at once. The server runs this writer in a process of
its own (`writer_process`), so every change to logs commits, and publishes its events, here.

A submission whose `prepare` or `work` refuses it (a `DomainError`) is answered with that
refusal and left out; the rest of the batch goes on. When the batch itself fails (say, one
request reuses a taken id), each submission is retried alone, so one bad request never fails
its neighbours.

When PostgreSQL goes away (restarted, or the connection cut) the connection is dropped and
the next batch takes a fresh one from the pool, which pings it first. A batch that lost its
connection before COMMIT was sent did not commit: it is tried once more on a fresh
connection (the one it had may have gone stale while the writer sat idle). One that lost it
during COMMIT may or may not have committed; it is never retried (that could store its rows
twice) and, like any batch the database refused to take, each submission is answered
`Unavailable`: a 503, never a 2xx for a commit nobody saw succeed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import IntegrityError

from llmtrail.errors import Conflict, DomainError, Unavailable
from llmtrail.store.checkpoints import Checkpoints
from llmtrail.store.database import DOWN_RETRY_SECONDS, lost_database
from llmtrail.store.driver import insert_new_rows, insert_rows
from llmtrail.store.statistics import Analyzer
from llmtrail.store.tables import metadata_obj

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 20_000


class WriteTx:
    """The shared transaction of one group commit, as the work in it sees it: the connection,
    and the events the work publishes, handed to the dispatcher before the commit."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.published: list[object] = []

    def publish(self, event: object) -> None:
        self.published.append(event)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what the block wrote, and the events it published, if it raises."""
        mark = len(self.published)
        nested = self.conn.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del self.published[mark:]
            raise
        nested.commit()


# Work a submission does inside the shared transaction. `prepare` runs before any insert: it
# reads (it must not write), refuses the submission by raising a DomainError, and returns
# column values to set on each of its rows (or None). `after` runs after the inserts, with
# the submission, whose rows then carry their new ids. `work` changes stored rows and
# returns the submission's result (plain data); it runs in a savepoint, so a refusal undoes
# only its own writes. All three cross to the writer process: use picklable objects, not
# closures. `Dispatch` receives every event the batch published, once, before the commit.
Prepare = Callable[[Connection], dict[str, Any] | None]
After = Callable[[WriteTx, "Submission"], None]


@runtime_checkable
class Together(Protocol):
    """An `After` that follows up many submissions at once: the writer calls `together` once
    with every submission of the batch whose hook is of its class (in batch order), in place
    of each hook on its own submission, so that a commit of many small requests runs one
    statement per table for all of them, not one each."""

    def __call__(self, tx: WriteTx, submission: Submission) -> None: ...

    def together(self, tx: WriteTx, submissions: list[Submission]) -> None: ...


Work = Callable[[WriteTx], Any]
Dispatch = Callable[[WriteTx, list[object]], None]


@dataclass
class Submission:
    """Rows for one or more tables, or a change to stored rows, written atomically, plus what
    to do in the same transaction."""

    inserts: list[tuple[Table, Sequence[dict]]] = field(default_factory=list)
    after: After | None = None
    prepare: Prepare | None = None
    work: Work | None = None
    # Unique columns on which a row that matches a stored one is skipped, not refused (a
    # re-delivered span): `inserts` then keeps only the rows written, and `after` sees those.
    skip_existing: tuple[str, ...] = ()
    # The values `prepare` set on the rows, once it has run, and what `work` returned.
    prepared: dict[str, Any] | None = None
    result: Any = None
    future: Future[None] = field(default_factory=Future)
    # With `skip_existing`, the rows offered, back in `inserts` if the transaction fails.
    offered: list[tuple[Table, Sequence[dict]]] | None = None

    @property
    def size(self) -> int:
        """Rows it writes, for the batch bound; a change counts as one."""
        return sum(len(rows) for _, rows in self.inserts) + (self.work is not None)

    def complete(self, values: dict[str, Any] | None) -> None:
        """Set what `prepare` found on every row."""
        self.prepared = values
        for _, rows in self.inserts if values else ():
            for row in rows:
                row.update(values)

    def keep_written(self) -> None:
        """Only the rows that went in (those `insert_new_rows` gave an id); tables left with
        none are dropped, so a submission made only of rows already stored has no inserts."""
        self.offered = self.inserts
        kept = []
        for table, rows in self.inserts:
            key = table.autoincrement_column
            assert key is not None
            if written := [row for row in rows if key.name in row]:
                kept.append((table, written))
        self.inserts = kept

    def rolled_back(self) -> None:
        """Forget the ids a transaction that failed gave the rows (and offer again those it
        found stored: the rows it had written before them are gone too)."""
        if self.offered is not None:
            self.inserts, self.offered = self.offered, None
        for table, rows in self.inserts:
            if (key := table.autoincrement_column) is not None:
                for row in rows:
                    row.pop(key.name, None)

    def __getstate__(self) -> dict[str, Any]:
        """Tables by name and no future: what the writer process needs of a submission."""
        inserts = [(table.name, rows) for table, rows in self.inserts]
        hooks = {"after": self.after, "prepare": self.prepare, "work": self.work}
        return {"inserts": inserts, **hooks, "skip_existing": self.skip_existing}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.inserts = [(metadata_obj.tables[name], rows) for name, rows in state["inserts"]]
        self.after, self.prepare, self.work = state["after"], state["prepare"], state["work"]
        self.skip_existing = state["skip_existing"]
        self.prepared, self.result, self.future, self.offered = None, None, Future(), None


class Writer(Protocol):
    """Where the write path sends its submissions: this thread, or the writer process."""

    async def write(self, submission: Submission) -> None:
        """Returns once the submission is committed (its `result` set); raises why it was not."""


async def apply(writer: Writer, work: Work) -> Any:
    """Run `work` in the writer's transaction; returns its result once that has committed."""
    submission = Submission(work=work)
    await writer.write(submission)
    return submission.result


def _no_subscribers(_tx: WriteTx, _events: list[object]) -> None:
    """The dispatcher of a writer that nothing subscribes to."""


class GroupCommitWriter:
    def __init__(self, engine: Engine, dispatch: Dispatch = _no_subscribers) -> None:
        self._engine = engine
        self._dispatch = dispatch
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

    def _disconnect(self, lost: bool = False) -> None:
        """Drop the connection after a failure: the next batch starts on a fresh one. A lost
        connection is invalidated, not handed back to the pool."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                if lost:
                    conn.invalidate()
                conn.close()
            except Exception:  # a broken connection may fail to roll back; it is gone anyway
                log.debug("closing the writer's connection failed", exc_info=True)

    def _write(self, batch: list[Submission], fresh: bool = False) -> None:
        """Write `batch` in one transaction (`fresh`: on a connection just opened for it)."""
        refused: dict[int, DomainError] = {}
        committing = False
        try:
            conn = self._connection()
            with conn.begin() as transaction:
                written = _apply(WriteTx(conn), batch, self._dispatch, refused)
                committing = True
                transaction.commit()
        except Exception as exc:
            lost = lost_database(exc)
            self._disconnect(lost)
            for submission in batch:
                submission.rolled_back()
            if lost and not committing and not fresh:
                self._write(batch, fresh=True)  # certainly not committed: once more, afresh
            elif lost:
                log.warning(
                    "the database is not answering (%s); %d writes refused", exc, len(batch)
                )
                unknown = " and may or may not be stored" if committing else ""
                refusal = Unavailable(
                    f"The database is not answering: the write was not acknowledged{unknown}. "
                    f"Retry in {DOWN_RETRY_SECONDS} second.",
                    DOWN_RETRY_SECONDS,
                )
                for submission in batch:
                    submission.future.set_exception(refusal)
            elif len(batch) == 1:
                batch[0].future.set_exception(_domain_error(exc))
            else:
                # Isolate the culprit: each alone, in a transaction. Refusals are decided
                # again, as they were decided on rows the failed transaction had written.
                for submission in batch:
                    self._write([submission])
            return
        # Answered only now: a refusal, too, stands only once the transaction holds.
        for index, submission in enumerate(batch):
            if index in refused:
                submission.future.set_exception(refused[index])
            else:
                submission.future.set_result(None)
        rows = sum(submission.size for submission in written)
        self._analyzer.wrote(rows)
        if self._checkpoints is not None:
            self._checkpoints.wrote(conn, rows, idle=self._queue.empty())


def _apply(
    tx: WriteTx, batch: list[Submission], dispatch: Dispatch, refused: dict[int, DomainError]
) -> list[Submission]:
    """Prepare each submission, insert table by table in first-seen order (parents before
    children), run the follow-up hooks, apply the changes, then dispatch what was published.
    Returns the submissions written; `refused` gets the others' refusals by batch index."""
    accepted = []
    for index, submission in enumerate(batch):
        if submission.prepare is not None:
            try:
                submission.complete(submission.prepare(tx.conn))
            except DomainError as exc:
                refused[index] = exc
                continue
        accepted.append((index, submission))
    by_table: dict[tuple[Table, tuple[str, ...]], list[dict]] = {}
    for _, submission in accepted:
        for table, rows in submission.inserts:
            by_table.setdefault((table, submission.skip_existing), []).extend(rows)
    for (table, unique), rows in by_table.items():
        if unique:
            insert_new_rows(tx.conn, table, rows, unique)
        else:
            insert_rows(tx.conn, table, rows)
    followed: dict[object, list[Submission]] = {}  # by the class of a `Together` hook
    for _, submission in accepted:
        if submission.skip_existing:
            submission.keep_written()
            if not submission.inserts:
                continue  # every row was stored already: nothing new to follow up
        if (after := submission.after) is not None:
            key = type(after) if _follows_together(type(after)) else id(submission)
            followed.setdefault(key, []).append(submission)
    for group in followed.values():
        first = group[0].after
        assert first is not None
        if _follows_together(type(first)):
            first.together(tx, group)
        else:
            first(tx, group[0])
    written = []
    for index, submission in accepted:
        if submission.work is not None:
            try:
                with tx.savepoint():
                    submission.result = submission.work(tx)
            except DomainError as exc:
                refused[index] = exc
                continue
        written.append(submission)
    if tx.published:
        dispatch(tx, tx.published)
    return written


@cache
def _follows_together(hook: type) -> bool:
    """Whether hooks of this class are `Together` ones: asked once a class, as a protocol's
    isinstance check walks its members every time (20 µs a commit)."""
    return issubclass(hook, Together)


def _domain_error(exc: Exception) -> Exception:
    if isinstance(exc, IntegrityError):
        return Conflict("an object with this id already exists")
    if isinstance(exc, DomainError):  # a check refused the rows: the caller's answer, not a fault
        return exc
    log.exception("write failed", exc_info=exc)
    return exc
