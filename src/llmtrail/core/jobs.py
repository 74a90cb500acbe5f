"""Kinds of background work and how to queue them.

A kind names two steps: `run`, outside any transaction, for what is slow (a call to an LLM),
and `commit`, inside the transaction that marks the job done, for what it writes. `run` takes
the jobs of a worker's batch together, so that what they read is read once. A worker
that lost its lease commits nothing, so what a job writes is written once. Modules that
define kinds register them when imported (`llmtrail.plugins.JOB_KINDS` lists them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core.keys import Principal
from llmtrail.store import jobs as store

STATES = store.STATES

MAX_ATTEMPTS = 5


class Cancelled(Exception):
    """Raised by a job's `run` step: what asked for the job is gone; it ends cancelled."""


@dataclass(frozen=True)
class JobKind:
    name: str
    commit: Callable[[Connection, Row, Any], None]
    run: Callable[[Engine, list[Row]], list[Any]] | None = None


_kinds: dict[str, JobKind] = {}


def register(
    name: str,
    commit: Callable[[Connection, Row, Any], None],
    run: Callable[[Engine, list[Row]], list[Any]] | None = None,
) -> None:
    """Make `name` runnable: `run(engine, jobs)` (optional; it may read) computes each job's
    outcome, in order (an exception instance for a job that failed), and `commit(conn, job,
    outcome)` writes one in the transaction that finishes its job."""
    _kinds[name] = JobKind(name, commit, run)


def kind(name: str) -> JobKind:
    return _kinds[name]


def kinds() -> tuple[str, ...]:
    return tuple(_kinds)


@dataclass(frozen=True)
class NewJob:
    org_id: int
    kind: str
    payload: dict[str, Any]
    origin: str | None = None
    dedupe_key: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    delay: timedelta = timedelta()


def enqueue(conn: Connection, new: list[NewJob], now: datetime) -> None:
    """Queue jobs in the caller's transaction: they exist exactly when its change does."""
    store.enqueue(
        conn,
        [
            {
                "org_id": job.org_id,
                "kind": job.kind,
                "origin": job.origin,
                "dedupe_key": job.dedupe_key,
                "payload": job.payload,
                "max_attempts": job.max_attempts,
                "run_after": now + job.delay,
            }
            for job in new
        ],
        now,
    )


def summary(engine: Engine, principal: Principal) -> dict[str, Any]:
    """How many of the organization's jobs are in each state, overall and by origin (an
    automation, say)."""
    with engine.connect() as conn:
        rows = store.counts(conn, principal.org_id)
    overall = dict.fromkeys(STATES, 0)
    by_origin: dict[str, dict[str, int]] = {}
    for row in rows:
        overall[row.state] += row.n
        per = by_origin.setdefault(row.origin or "", dict.fromkeys(STATES, 0))
        per[row.state] += row.n
    return {
        "total": sum(overall.values()),
        "by_state": overall,
        "by_origin": [{"origin": k, "by_state": v} for k, v in sorted(by_origin.items())],
    }


def listed(
    engine: Engine, principal: Principal, page: int, page_size: int, *, state: str | None = None
) -> tuple[int, list[Row]]:
    with engine.connect() as conn:
        return store.page(conn, principal.org_id, (page - 1) * page_size, page_size, state)
