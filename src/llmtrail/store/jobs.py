"""Queries over `jobs`: enqueue with the change that causes the work, claim with a lease,
finish, retry or bury.

A claim sets a lease (owner and expiry) in one statement: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent workers take different jobs without waiting on each other; an
`UPDATE ... RETURNING` on SQLite, whose single write lock makes it atomic. A job whose lease
ran out (its worker died) is claimable again. Finishing checks the lease, in the transaction
that also writes the job's result: a worker that lost its lease writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.driver import execute_many, fetch
from llmtrail.store.tables import jobs

PENDING, RUNNING, DONE, DEAD, CANCELLED = "pending", "running", "done", "dead", "cancelled"
STATES = (PENDING, RUNNING, DONE, DEAD, CANCELLED)
_GIVEN = ("org_id", "kind", "origin", "dedupe_key", "payload", "max_attempts", "run_after")
_NEW = {name: bindparam(name) for name in (*_GIVEN, "state", "attempts", "created_at")}
_NEW["updated_at"] = bindparam("created_at")
# A job already queued under the same key stays as it is: the same work is not done twice.
_ENQUEUE = {
    "sqlite": sqlite.insert(jobs).values(_NEW).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(jobs).values(_NEW).on_conflict_do_nothing(),
}


def enqueue(conn: Connection, new: Sequence[dict[str, Any]], now: datetime) -> None:
    """Queue jobs (mappings of `_GIVEN`; `origin` and `dedupe_key` may be None)."""
    fresh = {"state": PENDING, "attempts": 0, "created_at": now}
    execute_many(conn, _ENQUEUE[conn.dialect.name], [{**job, **fresh} for job in new])


def _due(now: datetime, kinds: Sequence[str]) -> Any:
    return and_(
        or_(
            and_(jobs.c.state == PENDING, jobs.c.run_after <= now),
            and_(jobs.c.state == RUNNING, jobs.c.lease_until < now),
        ),
        jobs.c.kind.in_(list(kinds)),
    )


def any_due(conn: Connection, now: datetime, kinds: Sequence[str]) -> bool:
    """Whether a claim would find work: a read, so an idle worker takes no write lock."""
    return conn.execute(select(jobs.c.id).where(_due(now, kinds)).limit(1)).first() is not None


def claim(
    conn: Connection, owner: str, now: datetime, lease: timedelta, limit: int, kinds: Sequence[str]
) -> list[Row]:
    """Lease up to `limit` due jobs of these kinds to `owner`, oldest due first."""
    chosen = (
        select(jobs.c.id).where(_due(now, kinds)).order_by(jobs.c.run_after, jobs.c.id).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    claimed = (
        update(jobs)
        .where(jobs.c.id.in_(chosen.scalar_subquery()))
        .values(
            state=RUNNING,
            lease_owner=owner,
            lease_until=now + lease,
            attempts=jobs.c.attempts + 1,
            updated_at=now,
        )
        .returning(*jobs.c)
    )
    return sorted(conn.execute(claimed).all(), key=lambda job: (job.run_after, job.id))


def _leased(job_id: int, owner: str) -> Any:
    return and_(jobs.c.id == job_id, jobs.c.state == RUNNING, jobs.c.lease_owner == owner)


# Built once and run through the driver: a worker finishes every job it runs.
_FINISH = (
    update(jobs)
    .where(
        jobs.c.id == bindparam("job_id"),
        jobs.c.state == bindparam("running"),
        jobs.c.lease_owner == bindparam("owner"),
    )
    .values(
        state=bindparam("done"),
        lease_owner=bindparam("nobody"),
        lease_until=bindparam("never"),
        updated_at=bindparam("now"),
    )
    .returning(jobs.c.id)
)
_DONE = {"running": RUNNING, "done": DONE, "nobody": None, "never": None}


def finish(conn: Connection, job_id: int, owner: str, now: datetime) -> bool:
    """Mark a leased job done; False when `owner` no longer holds its lease."""
    return bool(fetch(conn, _FINISH, {"job_id": job_id, "owner": owner, "now": now, **_DONE}))


def cancel(conn: Connection, job_id: int, owner: str, now: datetime) -> bool:
    """End a leased job as cancelled (what asked for it is gone)."""
    result = conn.execute(
        update(jobs)
        .where(_leased(job_id, owner))
        .values(state=CANCELLED, lease_owner=None, lease_until=None, updated_at=now)
    )
    return result.rowcount == 1


def fail(
    conn: Connection, job_id: int, owner: str, error: str, now: datetime, retry_at: datetime | None
) -> bool:
    """Record a failed attempt: pending again from `retry_at`, or dead when it is None."""
    result = conn.execute(
        update(jobs)
        .where(_leased(job_id, owner))
        .values(
            state=PENDING if retry_at is not None else DEAD,
            run_after=retry_at if retry_at is not None else jobs.c.run_after,
            last_error=error,
            lease_owner=None,
            lease_until=None,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def release(conn: Connection, owner: str, now: datetime) -> int:
    """Hand back every job `owner` holds (a worker stopping): claimable at once, the attempt
    not counted."""
    result = conn.execute(
        update(jobs)
        .where(jobs.c.state == RUNNING, jobs.c.lease_owner == owner)
        .values(
            state=PENDING,
            attempts=jobs.c.attempts - 1,
            lease_owner=None,
            lease_until=None,
            run_after=now,
            updated_at=now,
        )
    )
    return result.rowcount


def ended_early(conn: Connection, org_id: int, origins: Sequence[str]) -> dict[str, int]:
    """origin -> how many of its jobs gave up or were cancelled (for those with any)."""
    if not origins:
        return {}
    query = (
        select(jobs.c.origin, func.count())
        .where(
            jobs.c.org_id == org_id,
            jobs.c.origin.in_(list(origins)),
            jobs.c.state.in_(("dead", "cancelled")),
        )
        .group_by(jobs.c.origin)
    )
    return {key: n for key, n in conn.execute(query)}


def ended_by_key(conn: Connection, org_id: int, keys: Sequence[str]) -> dict[str, str]:
    """dedupe key -> the last error of those of these jobs that gave up or were cancelled."""
    if not keys:
        return {}
    query = select(jobs.c.dedupe_key, jobs.c.state, jobs.c.last_error).where(
        jobs.c.org_id == org_id,
        jobs.c.dedupe_key.in_(list(keys)),
        jobs.c.state.in_((DEAD, CANCELLED)),
    )
    return {key: error or f"the job was {state}" for key, state, error in conn.execute(query)}


def counts(conn: Connection, org_id: int) -> list[Row]:
    """(origin, state, n) of an organization's jobs."""
    query = (
        select(jobs.c.origin, jobs.c.state, func.count().label("n"))
        .where(jobs.c.org_id == org_id)
        .group_by(jobs.c.origin, jobs.c.state)
    )
    return conn.execute(query).all()


def page(
    conn: Connection, org_id: int, offset: int, limit: int, state: str | None
) -> tuple[int, list[Row]]:
    """(total, a page newest first) of an organization's jobs, of one state if given."""
    where = jobs.c.org_id == org_id
    if state is not None:
        where = and_(where, jobs.c.state == state)
    total = conn.scalar(select(func.count()).select_from(jobs).where(where)) or 0
    query = select(jobs).where(where).order_by(jobs.c.id.desc())  # stable while jobs run
    return total, conn.execute(query.offset(offset).limit(limit)).all()
