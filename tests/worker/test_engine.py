"""The job engine: a job's writes commit exactly when it is marked done, failures retry with
backoff until the job is dead, a lost lease writes nothing, and workers never share a job."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, Row, select, update

from llmtrail.core import jobs
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import authenticate, create_key
from llmtrail.store import jobs as store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import jobs as jobs_table
from llmtrail.store.tables import organizations
from llmtrail.worker.engine import JobEngine, retry_delay

KIND = "test.mark"


@pytest.fixture
def engine(quiet_engine: Engine) -> Engine:
    """Jobs are claimed here by the test alone."""
    return quiet_engine


@pytest.fixture
def org_id(engine: Engine) -> int:
    _, key = create_key(engine, org=f"jobs-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key).org_id


class Marks:
    """A job kind whose commit renames the job's organization: a write that must happen once
    per job, in the job's own transaction. It fails for the names in `failing`."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.failing: set[str] = set()

    def commit(self, conn: Connection, job: Row, _outcome: object) -> None:
        name = job.payload["name"]
        if name in self.failing:
            raise RuntimeError(f"{name} is not ready")
        conn.execute(
            update(organizations).where(organizations.c.id == job.org_id).values(name=name)
        )
        self.done.append(name)


@pytest.fixture
def marks() -> Marks:
    kind = Marks()
    jobs.register(KIND, commit=kind.commit)
    return kind


def queue(engine: Engine, org_id: int, *names: str, max_attempts: int = 3) -> None:
    with begin_write(engine) as conn:
        jobs.enqueue(
            conn,
            [jobs.NewJob(org_id, KIND, {"name": n}, max_attempts=max_attempts) for n in names],
            utcnow(),
        )


def states(engine: Engine, org_id: int) -> dict[str, tuple[str, int, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(jobs_table).where(jobs_table.c.org_id == org_id)).all()
    return {r.payload["name"]: (r.state, r.attempts, r.last_error) for r in rows}


def org_name(engine: Engine, org_id: int) -> str:
    with engine.connect() as conn:
        return conn.scalar(select(organizations.c.name).where(organizations.c.id == org_id))


def test_a_job_runs_once_and_its_writes_commit_with_it(
    engine: Engine, org_id: int, marks: Marks
) -> None:
    name = f"renamed-{uuid.uuid4().hex[:6]}"
    queue(engine, org_id, name)
    worker = JobEngine(engine)
    assert worker.run_due() == 1
    assert worker.run_due() == 0, "a done job is not claimed again"
    assert marks.done == [name] and org_name(engine, org_id) == name
    assert states(engine, org_id)[name] == ("done", 1, None)


def test_a_failing_job_retries_with_backoff_then_dies_with_its_error(
    engine: Engine, org_id: int, marks: Marks
) -> None:
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    marks.failing.add(name)
    queue(engine, org_id, name, max_attempts=2)
    worker = JobEngine(engine)
    worker.run_due()
    state, attempts, error = states(engine, org_id)[name]
    assert (state, attempts) == ("pending", 1) and "is not ready" in error
    assert worker.run_due() == 0, "not due again before its backoff"

    with begin_write(engine) as conn:  # the backoff has passed
        conn.execute(update(jobs_table).values(run_after=utcnow() - timedelta(seconds=1)))
    worker.run_due()
    assert states(engine, org_id)[name][:2] == ("dead", 2), "dead after its last attempt"
    assert worker.run_due() == 0 and marks.done == []


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    for attempts in range(1, 12):
        ceiling = min(300.0, 2.0 ** (attempts - 1))
        delays = [retry_delay(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "jittered"


def test_a_worker_whose_lease_ran_out_writes_nothing(
    engine: Engine, org_id: int, marks: Marks
) -> None:
    name = f"leased-{uuid.uuid4().hex[:6]}"
    queue(engine, org_id, name)
    slow, fast = JobEngine(engine, lease=timedelta(seconds=-1)), JobEngine(engine)
    with begin_write(engine) as conn:  # the slow worker claims it; its lease is already over
        [job] = store.claim(conn, slow.owner, utcnow(), timedelta(seconds=-1), 1, [KIND])
    assert fast.run_due() == 1, "an expired lease is claimable"
    slow.run(job)  # finishes late
    assert marks.done == [name], "the job's write happened once, by the worker holding the lease"
    assert states(engine, org_id)[name][:2] == ("done", 2)


def test_stopping_hands_back_the_jobs_not_started(
    engine: Engine, org_id: int, marks: Marks
) -> None:
    name = f"handed-{uuid.uuid4().hex[:6]}"
    queue(engine, org_id, name)
    worker = JobEngine(engine)
    with begin_write(engine) as conn:
        store.claim(conn, worker.owner, utcnow(), timedelta(minutes=5), 1, [KIND])
    worker.stop()
    assert states(engine, org_id)[name][:2] == ("pending", 0), "claimable at once, not counted"


def test_concurrent_workers_run_each_job_exactly_once(
    engine: Engine, org_id: int, marks: Marks
) -> None:
    names = [f"race-{n}-{uuid.uuid4().hex[:4]}" for n in range(60)]
    queue(engine, org_id, *names)
    workers = [JobEngine(engine) for _ in range(3)]

    def drain(worker: JobEngine) -> None:
        while worker.run_due(limit=4):
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ours = [name for name in marks.done if name in names]  # not another test's leftovers
    assert sorted(ours) == sorted(names), "every job ran, none twice"
    assert {state for state, _, _ in states(engine, org_id).values()} == {"done"}
