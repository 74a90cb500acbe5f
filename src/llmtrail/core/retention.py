"""Retention: an organization's logs older than its `retention_days` are deleted, in the
background, a bounded batch per transaction (the `retention` job kind).

A batch is deleted as `core/deletes` deletes logs, with everything kept beside them (hourly
rollups, File counters, metadata index, the scores evaluator logs gave; the search index,
revisions and scores of the logs follow by trigger, expression index or cascade). Datasets
keep their copies: a dataset is a snapshot. A log's age is its `timestamp`.

Each job deletes one batch, in a transaction of its own, then queues the next: at once while
full batches come back, else in an hour. Changing the settings queues a sweep at once, and every
worker queues one when it starts, so a chain that died (its job dead after its retries) is
picked up again. Hourly jobs are deduplicated by their hour, so chains started apart merge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import events, jobs
from llmtrail.core.deletes import DeleteLogs
from llmtrail.core.ids import utcnow
from llmtrail.store import logs as store_logs
from llmtrail.store import privacy as store
from llmtrail.store.database import begin_write
from llmtrail.store.rollups import hour_of
from llmtrail.store.writer import WriteTx

KIND = "retention"
BATCH = 1000  # logs deleted per transaction
EVERY = timedelta(hours=1)


def sweep(conn: Connection, org_id: int, days: int, now: datetime, batch: int) -> int:
    """Delete up to `batch` of the organization's logs older than `days`, oldest first, in
    the caller's transaction; returns how many."""
    ids = store_logs.older_than(conn, org_id, now - timedelta(days=days), batch)
    if not ids:
        return 0
    tx = WriteTx(conn)
    deleted = DeleteLogs(org_id, tuple(ids))(tx)
    events.dispatch(tx, tx.published)  # LogsDeleted, as the writer would hand it on
    return deleted


def queue(
    conn: Connection,
    org_id: int,
    now: datetime,
    *,
    delay: timedelta = timedelta(),
    dedupe: str | None = None,
    batch: int = BATCH,
) -> None:
    """Queue a sweep of the organization's old logs in the caller's transaction."""
    job = jobs.NewJob(org_id, KIND, {"batch": batch}, KIND, dedupe, delay=delay)
    jobs.enqueue(conn, [job], now)


def _run(engine: Engine, claimed: list[Row]) -> list[Any]:
    """Each job's batch, deleted in a transaction of its own (not the shared one the engine
    finishes its jobs in, where a worker's claim of sixteen organizations' sweeps would hold
    SQLite's write lock for sixteen batches). Deleting what is past retention twice, should
    the lease be lost, deletes nothing more: the step is safe outside the lease. Outcome:
    (deleted, batch), or None when the organization's retention was turned off."""
    outcomes: list[Any] = []
    for job in claimed:
        try:
            with begin_write(engine) as conn:
                found = store.get(conn, job.org_id)
                if found is None or found.retention_days is None:
                    outcomes.append(None)
                    continue
                batch = int(job.payload.get("batch", BATCH))
                deleted = sweep(conn, job.org_id, found.retention_days, utcnow(), batch)
            outcomes.append((deleted, batch))
        except Exception as exc:  # this job fails alone, and is retried
            outcomes.append(exc)
    return outcomes


def _commit(conn: Connection, job: Row, outcome: tuple[int, int] | None) -> None:
    """Queue the next sweep: at once while batches come back full, else at the next hour."""
    if outcome is None:
        return  # retention was turned off: the chain ends
    deleted, batch = outcome
    now = utcnow()
    if deleted >= batch:
        queue(conn, job.org_id, now, dedupe=f"{KIND}:after:{job.id}", batch=batch)
    else:
        due = hour_of(now) + EVERY
        queue(conn, job.org_id, now, delay=due - now, dedupe=f"{KIND}:{due.isoformat()}")


jobs.register(KIND, _commit, _run)


def schedule_all(engine: Engine) -> None:
    """Queue a sweep for every organization with a retention (a worker starting): at most
    one an hour each, however often workers start."""
    now = utcnow()
    with begin_write(engine) as conn:
        for row in store.with_retention(conn):
            queue(conn, row.org_id, now, dedupe=f"{KIND}:start:{hour_of(now).isoformat()}")


def run_once(
    engine: Engine,
    batch: int = BATCH,
    org_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, int]:
    """Sweep now, in this process (`llmtrail retention run`): every organization with a
    retention (or the one given), a batch per transaction until none is left. Calls
    `progress(org_id, deleted so far)` after each batch; returns what was deleted by org."""
    with engine.connect() as conn:
        chosen = [r for r in store.with_retention(conn) if org_id in (None, r.org_id)]
    deleted: dict[int, int] = {}
    for row in chosen:
        deleted[row.org_id] = 0
        while True:
            with begin_write(engine) as conn:
                n = sweep(conn, row.org_id, row.retention_days, utcnow(), batch)
            deleted[row.org_id] += n
            if progress is not None:
                progress(row.org_id, deleted[row.org_id])
            if n < batch:
                break
    return deleted
