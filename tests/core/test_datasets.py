"""The dataset model in process, on a database no server uses: filling a chunk a job with
progress between them, and versions that stay as they were committed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from llmtrail.core import dataset_jobs, datasets
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store.database import begin_write
from llmtrail.store.tables import dataset_logs, jobs
from llmtrail.worker.engine import JobEngine
from tests.helpers import in_writer


@pytest.fixture
def who(quiet_engine: Engine) -> Principal:
    _, key = create_key(quiet_engine, org=f"datasets-{uuid.uuid4().hex[:8]}")
    found = authenticate(quiet_engine, key)
    assert found is not None
    return found


def test_a_fill_commits_chunk_by_chunk(
    quiet_engine: Engine, who: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset_jobs, "CHUNK", 5)
    logs = [LogData(output=f"o{n}", customer_identifier="a" if n % 4 else "b") for n in range(31)]
    in_writer(quiet_engine, lambda writer: write_logs(writer, who, logs))
    now = utcnow()
    filters = {"customer_identifier": {"operator": "", "value": ["a"]}}  # 23 of the 31
    fill = datasets.Window(now - timedelta(hours=1), now + timedelta(hours=1), filters, 100.0)
    made = datasets.create(quiet_engine, who, name="chunks", fill=fill)
    assert (made.status, made.running_status, made.running_progress) == ("loading", "pending", 0)
    worker, seen = JobEngine(quiet_engine), []
    while worker.run_due(limit=1):
        row = datasets.get(quiet_engine, who, made.id)
        seen.append((row.running_status, row.running_progress))
    assert seen == [("running", p) for p in (21.74, 43.48, 65.22, 86.96)] + [("completed", 100)]
    assert datasets.get(quiet_engine, who, made.id).status == "ready"
    assert datasets.log_counts(quiet_engine, [made])[made.id] == 23
    with quiet_engine.connect() as conn:
        done = select(func.count()).where(jobs.c.org_id == who.org_id, jobs.c.state == "done")
        assert conn.scalar(done) == 5, "a job a chunk"


def test_a_fill_that_gives_up_says_so(
    quiet_engine: Engine, who: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_writer(quiet_engine, lambda writer: write_logs(writer, who, [LogData(output="x")]))
    now = utcnow()
    fill = datasets.Window(now - timedelta(hours=1), now + timedelta(hours=1), {}, 100.0)
    made = datasets.create(quiet_engine, who, name="doomed", fill=fill)

    def broken(*_: object) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(dataset_jobs.store, "copy_logs", broken)
    worker = JobEngine(quiet_engine)
    assert worker.run_due() == 1
    assert datasets.get(quiet_engine, who, made.id).status == "loading", "retried first"
    with begin_write(quiet_engine) as conn:  # its last attempt, due now
        conn.execute(
            update(jobs)
            .where(jobs.c.org_id == who.org_id)
            .values(max_attempts=2, run_after=utcnow() - timedelta(seconds=1))
        )
    assert worker.run_due() == 1
    gave_up = datasets.get(quiet_engine, who, made.id)
    assert (gave_up.status, gave_up.running_status) == ("failed", "failed")
    assert datasets.log_counts(quiet_engine, [made])[made.id] == 0


def direct(engine: Engine, who: Principal, dataset_id: str, name: str) -> str:
    return datasets.create_log(engine, who, dataset_id, LogData(input=name, output=name)).unique_id


def test_versions_keep_what_they_committed(quiet_engine: Engine, who: Principal) -> None:
    dataset = datasets.create(quiet_engine, who, name="versioned").id
    a, b = (direct(quiet_engine, who, dataset, name) for name in ("a", "b"))
    scratch = direct(quiet_engine, who, dataset, "scratch")
    datasets.delete_log(quiet_engine, who, dataset, scratch)  # no version held it: gone
    with begin_write(quiet_engine) as conn:
        first = datasets.commit_version(conn, who, dataset, "v1", "two rows")
    assert (first.number, first.version_name) == (1, "v1")

    datasets.change_log(quiet_engine, who, dataset, a, {"output": "a2"})
    datasets.delete_log(quiet_engine, who, dataset, b)
    c = direct(quiet_engine, who, dataset, "c")
    with begin_write(quiet_engine) as conn:
        assert datasets.commit_version(conn, who, dataset).number == 2

    def held(number: int) -> dict[str, str]:
        rows = datasets.version_logs(quiet_engine, who, dataset, number)
        return {row.unique_id: row.output for row in rows}

    assert held(1) == {a: "a", b: "b"}
    assert held(2) == {a: "a2", c: "c"}
    _, current = datasets.list_logs(quiet_engine, who, dataset, None, 1, 10)
    assert {row.unique_id: row.output for row in current} == held(2)
    datasets.change_log(quiet_engine, who, dataset, c, {"output": "c2"})
    assert held(2) == {a: "a2", c: "c"}, "a committed row is copied, not changed"
    _, current = datasets.list_logs(quiet_engine, who, dataset, None, 1, 10)
    assert {row.unique_id: row.output for row in current} == {a: "a2", c: "c2"}
    with quiet_engine.connect() as conn:
        rows = select(func.count()).where(dataset_logs.c.dataset_id == dataset)
        assert conn.scalar(rows) == 5, "a, a2, b (removed in 2), c and c2; scratch is gone"
