"""The job engine: claims due jobs with a lease and runs them, in any number of processes.

Each slot is a thread that claims a few due jobs at a time and runs them one by one: the
kind's `run` step outside any transaction, then its `commit` step in the transaction that
marks the job done, which commits only while this engine still holds the lease. A job that
raises is retried with exponential backoff and jitter, and after its last attempt it is
dead, its last error kept. A worker that dies leaves its jobs leased; once the lease runs
out another claims them. Stopping hands back the jobs not started.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import traceback
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, Row

from llmtrail.core import jobs
from llmtrail.core.ids import utcnow
from llmtrail.store import jobs as store
from llmtrail.store.database import begin_write, lost_database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
POLL_SECONDS = 0.2
CLAIM = 16  # jobs a slot leases at a time
BACKOFF_BASE = 1.0  # seconds before the first retry, doubling each time
BACKOFF_CAP = 300.0
DOWN_WAIT_CAP = 5.0  # seconds between claims at most while the database is not answering


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow or thought dead)."""


def retry_delay(attempts: int) -> float:
    """Seconds before the next try, after `attempts` tries: exponential, half of it random so
    that jobs that failed together do not all come back together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _by_kind(claimed: tuple[Row, ...]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for job in claimed:
        grouped.setdefault(job.kind, []).append(job)
    return grouped


class JobEngine:
    def __init__(
        self,
        engine: Engine,
        *,
        concurrency: int = 1,
        lease: timedelta = LEASE,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._concurrency = concurrency
        self._lease = lease
        self._poll = poll
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for slot in range(self._concurrency):
            thread = threading.Thread(target=self._loop, name=f"llmtrail-jobs-{slot}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Let running jobs finish (up to `timeout` in all), then hand back every job still
        held: those not started, and those still running (another worker runs them again)."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        try:
            with begin_write(self.engine) as conn:
                store.release(conn, self.owner, utcnow())
        except Exception as exc:
            if not lost_database(exc):
                raise
            log.warning("could not hand back this worker's jobs (%s); their leases lapse", exc)

    def _loop(self) -> None:
        """Run due jobs until stopped. While the database is away (PostgreSQL restarting) a
        slot waits, longer each time up to DOWN_WAIT_CAP, and tries again: the pool pings a
        connection before lending it, so the first claim after the database is back works.
        A job whose outcome could not be written keeps its lease and runs again once it
        lapses."""
        down = 0
        while not self._stopping.is_set():
            try:
                ran = self.run_due()
                down = 0
            except Exception as exc:
                if lost_database(exc):
                    down += 1
                    if down == 1:
                        log.warning("the database is not answering (%s); retrying", exc)
                    self._stopping.wait(min(DOWN_WAIT_CAP, self._poll * 2**down))
                    continue
                log.exception("claiming jobs failed")
                ran = 0
            if not ran:
                self._stopping.wait(self._poll)

    def run_due(self, limit: int = CLAIM) -> int:
        """Claim up to `limit` due jobs and run them; returns how many were claimed."""
        kinds = jobs.kinds()
        if not kinds:
            return 0
        with self.engine.connect() as conn:
            if not store.any_due(conn, utcnow(), kinds):
                return 0
        with begin_write(self.engine) as conn:
            claimed = store.claim(conn, self.owner, utcnow(), self._lease, limit, kinds)
        self.run(*claimed)
        return len(claimed)

    def run(self, *claimed: Row) -> None:
        """Run each job's slow step, then commit the outcomes together: one transaction (and
        one fsync) for the batch, each job in a savepoint of its own, so that one whose
        commit fails is retried alone and the others still count."""
        outcomes: list[tuple[Row, Any]] = []
        for name, batch in _by_kind(claimed).items():
            if self._stopping.is_set():
                break  # the rest is handed back by `stop`
            kind = jobs.kind(name)
            try:
                results = kind.run(self.engine, batch) if kind.run else [None] * len(batch)
            except Exception as exc:  # the batch as a whole could not run
                results = [exc] * len(batch)
            for job, result in zip(batch, results, strict=True):
                if isinstance(result, Exception):
                    self._ended(job, result)
                else:
                    outcomes.append((job, result))
        if not outcomes:
            return
        failed: list[tuple[Row, Exception]] = []
        with begin_write(self.engine) as conn:
            now = utcnow()
            for job, outcome in outcomes:
                try:
                    with conn.begin_nested():
                        if not store.finish(conn, job.id, self.owner, now):
                            raise LeaseLost(job.id)
                        jobs.kind(job.kind).commit(conn, job, outcome)
                except Exception as exc:
                    failed.append((job, exc))
        for job, exc in failed:
            self._ended(job, exc)

    def _ended(self, job: Row, exc: Exception) -> None:
        """A job that did not complete: taken over, cancelled, or failed (retried or dead)."""
        if isinstance(exc, LeaseLost):
            log.warning("job %s was taken over by another worker; its result is dropped", job.id)
            return
        now = utcnow()
        if isinstance(exc, jobs.Cancelled):
            with begin_write(self.engine) as conn:
                store.cancel(conn, job.id, self.owner, now)
            return
        error = "".join(traceback.format_exception_only(exc)).strip()
        retry = job.attempts < job.max_attempts
        retry_at = now + timedelta(seconds=retry_delay(job.attempts)) if retry else None
        with begin_write(self.engine) as conn:
            store.fail(conn, job.id, self.owner, error, now, retry_at)
        log.log(logging.INFO if retry else logging.ERROR, "job %s failed: %s", job.id, error)
