"""The group-commit writer: shared transactions, acknowledgement only after commit, isolation."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import pytest
from sqlalchemy import Engine, select, text

from llmtrail.errors import Conflict
from llmtrail.store.database import make_engine
from llmtrail.store.statistics import MINIMUM_ROWS
from llmtrail.store.tables import logs
from llmtrail.store.writer import GroupCommitWriter, Submission
from tests.store.conftest import count, row


def test_acknowledged_rows_are_committed_and_visible_to_another_connection(
    engine: Engine, database_url: str, org_id: int
) -> None:
    writer = GroupCommitWriter(engine)
    other = make_engine(database_url)
    try:
        futures = [writer.submit(Submission([(logs, [row(org_id)])])) for _ in range(50)]
        for future in futures:
            future.result(timeout=10)
            # every acknowledged submission is already readable from a separate connection
        assert count(other, org_id) == 50
    finally:
        writer.close()
        other.dispose()


def test_concurrent_submitters_share_transactions(engine: Engine, org_id: int) -> None:
    writer = GroupCommitWriter(engine)
    errors: list[BaseException] = []

    def client() -> None:
        try:
            for _ in range(20):
                writer.submit(Submission([(logs, [row(org_id) for _ in range(5)])])).result(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert not errors
    assert count(engine, org_id) == 8 * 20 * 5


@pytest.mark.parametrize("size", [1, 100], ids=["insert", "copy"])  # PostgreSQL COPYs from 64
def test_a_failing_submission_does_not_fail_its_neighbours(
    engine: Engine, org_id: int, size: int
) -> None:
    taken = uuid.uuid4().hex
    writer = GroupCommitWriter(engine)
    writer.submit(Submission([(logs, [row(org_id, taken)])])).result(10)
    # queue them together so they land in one batch
    good_before = Submission([(logs, [row(org_id) for _ in range(size)])])
    bad = Submission([(logs, [*(row(org_id) for _ in range(size)), row(org_id, taken)])])
    good_after = Submission([(logs, [row(org_id) for _ in range(size)])])
    for s in (good_before, bad, good_after):
        writer.submit(s)
    good_before.future.result(10)
    good_after.future.result(10)
    with pytest.raises(Conflict):
        bad.future.result(10)
    writer.close()
    assert count(engine, org_id) == 1 + 2 * size, "the bad submission is all-or-nothing"
    sent = {r["unique_id"]: r["id"] for r in good_before.inserts[0][1]}
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(logs.c.unique_id, logs.c.id).where(logs.c.unique_id.in_(list(sent)))
            ).all()
        )
    assert stored == sent, "each written row knows the id it was stored under"


def test_after_hook_runs_in_the_same_transaction(engine: Engine, org_id: int) -> None:
    writer = GroupCommitWriter(engine)

    def explode(_tx, _submission) -> None:
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError):
        writer.submit(Submission([(logs, [row(org_id)])], after=explode)).result(10)
    writer.close()
    assert count(engine, org_id) == 0, "a failed hook rolls the rows back"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_writer_keeps_postgresql_statistics_fresh(engine: Engine, org_id: int) -> None:
    """Past 10,000 new rows the writer runs VACUUM (ANALYZE), so plans never rest on an empty
    table's estimates (this machine's PostgreSQL runs without autovacuum, as some do; SQLite
    needs no statistics to pick the unique index)."""
    with engine.connect() as conn:
        before = conn.scalar(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'logs'")
        )
    writer = GroupCommitWriter(engine)
    writer.submit(Submission([(logs, [row(org_id) for _ in range(MINIMUM_ROWS)])])).result(30)
    writer.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            after = conn.scalar(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'logs'")
            )
        if after > before:
            return
        time.sleep(0.2)
    pytest.fail("no VACUUM (ANALYZE) ran after 10,000 new rows")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_writer_copies_its_log_into_the_database_file(
    engine: Engine, database_url: str, org_id: int
) -> None:
    """SQLite's own checkpoints are off on the writer's connection: the writer must do them,
    or the write-ahead log would only grow. Opened `immutable`, the database file shows
    only what was checkpointed into it."""
    writer = GroupCommitWriter(engine)
    try:
        for _ in range(6):
            writer.submit(Submission([(logs, [row(org_id) for _ in range(1_000)])])).result(30)
    finally:
        writer.close()
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as file_only:
        (in_file,) = file_only.execute(
            "SELECT count(*) FROM logs WHERE org_id = ?", (org_id,)
        ).fetchone()
    assert in_file >= 5_000


class _Seen:
    """An after-hook that records the unique ids of the rows it is handed."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, _tx: object, submission: Submission) -> None:
        self.ids += [r["unique_id"] for _, rows in submission.inserts for r in rows]


@pytest.mark.parametrize("size", [1, 100], ids=["few", "many"])
def test_skip_existing_writes_only_new_rows_and_follows_up_only_those(
    engine: Engine, org_id: int, size: int
) -> None:
    stored = [uuid.uuid4().hex for _ in range(size)]
    writer = GroupCommitWriter(engine)
    try:
        writer.submit(Submission([(logs, [row(org_id, u) for u in stored])])).result(10)
        fresh = [uuid.uuid4().hex for _ in range(size)]
        # Old rows, new ones, and a new one twice (in two submissions of one batch).
        twice = uuid.uuid4().hex
        seen = [_Seen() for _ in range(3)]
        mixed = [row(org_id, u) for u in [*stored, *fresh, twice]]
        subs = [
            Submission([(logs, mixed)], after=seen[0], skip_existing=("org_id", "unique_id")),
            Submission(
                [(logs, [row(org_id, twice)])], after=seen[1], skip_existing=("org_id", "unique_id")
            ),
            Submission(
                [(logs, [row(org_id, stored[0])])],
                after=seen[2],
                skip_existing=("org_id", "unique_id"),
            ),
        ]
        for sub in subs:
            writer.submit(sub)
        for sub in subs:
            sub.future.result(10)
    finally:
        writer.close()
    assert count(engine, org_id) == 2 * size + 1
    assert sorted(seen[0].ids) == sorted([*fresh, twice])
    assert seen[1].ids == [] and seen[2].ids == [], "no follow-up for rows already stored"
    assert all("id" in r for r in subs[0].inserts[0][1])
