"""The `retention` job kind run by a job engine: a batch per job, the next batch queued at
once while batches come back full, then a sweep at the next hour; turned off, the chain ends."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, func, select

from llmtrail import plugins
from llmtrail.core import jobs, privacy, retention
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store import jobs as job_store
from llmtrail.store import privacy as privacy_store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import jobs as jobs_table
from llmtrail.store.tables import logs
from llmtrail.worker.engine import JobEngine
from tests.helpers import in_writer


def _pending(engine: Engine, org_id: int) -> list[tuple[str, bool]]:
    """(dedupe key, due now) of the organization's pending retention jobs."""
    query = select(jobs_table.c.dedupe_key, jobs_table.c.run_after).where(
        jobs_table.c.org_id == org_id,
        jobs_table.c.kind == retention.KIND,
        jobs_table.c.state == "pending",
    )
    with engine.connect() as conn:
        return [(key, due <= utcnow()) for key, due in conn.execute(query)]


def _stored(engine: Engine, org_id: int) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(logs.c.org_id == org_id)) or 0


def test_a_chain_of_batches_then_an_hourly_sweep(quiet_engine: Engine) -> None:
    plugins.load_workers()
    _, key = create_key(quiet_engine, org=f"retention-{uuid.uuid4().hex[:8]}")
    who: Principal = authenticate(quiet_engine, key)  # type: ignore[assignment]
    old = utcnow() - timedelta(days=10)
    made = [LogData(model="m", output=f"old {i}", timestamp=old) for i in range(5)]
    made.append(LogData(model="m", output="new"))

    async def write(writer) -> None:  # type: ignore[no-untyped-def]
        await write_logs(writer, who, made)

    in_writer(quiet_engine, write)
    with begin_write(quiet_engine) as conn:
        retention.queue(conn, who.org_id, utcnow(), batch=2)
        privacy_store.put(
            conn, who.org_id, maskers=[], custom_patterns=[], retention_days=7, updated_at=utcnow()
        )
    engine = JobEngine(quiet_engine)
    left = []
    for _ in range(3):  # 2, 2, then 1 of the 5 old logs
        [job] = [j for j in _claim(engine) if j.org_id == who.org_id]
        engine.run(job)
        left.append(_stored(quiet_engine, who.org_id))
        pending = _pending(quiet_engine, who.org_id)
        assert len(pending) == 1
    assert left == [4, 2, 1]
    [(dedupe, due)] = _pending(quiet_engine, who.org_id)
    assert dedupe.startswith("retention:20") and not due, "the next sweep is at the next hour"

    # Turned off: the next sweep deletes nothing and queues nothing.
    privacy.update(
        quiet_engine, Principal.operator(who.org_id), privacy.Changes(retention_days=None)
    )
    with begin_write(quiet_engine) as conn:
        conn.execute(
            jobs_table.update()
            .where(jobs_table.c.org_id == who.org_id, jobs_table.c.state == "pending")
            .values(run_after=utcnow())
        )
    [job] = [j for j in _claim(engine) if j.org_id == who.org_id]
    engine.run(job)
    assert _pending(quiet_engine, who.org_id) == [] and _stored(quiet_engine, who.org_id) == 1


def _claim(engine: JobEngine) -> list:  # type: ignore[type-arg]
    """Due jobs leased to `engine`, as its loop claims them."""
    with begin_write(engine.engine) as conn:
        return job_store.claim(
            conn, engine.owner, utcnow(), timedelta(seconds=60), 16, jobs.kinds()
        )
