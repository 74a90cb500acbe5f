"""Domain events: published inside the writer's transaction, delivered once per group commit,
and a handler that fails or overruns costs nobody else anything and loses nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, Select, func, literal, select, update

from llmtrail.core import annotations, events, lifecycle, queries
from llmtrail.core.deletes import delete_logs
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import LogsStored, write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.errors import Invalid
from llmtrail.store.tables import jobs, logs
from llmtrail.store.writer import GroupCommitWriter, Submission
from llmtrail.worker.engine import JobEngine
from tests.helpers import in_writer


@pytest.fixture
def engine(quiet_engine: Engine) -> Engine:
    """Jobs are claimed here by the test alone."""
    return quiet_engine


@pytest.fixture
def principal(engine: Engine) -> Principal:
    _, key = create_key(engine, org=f"events-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key)


class Seen:
    """The events a handler received, per type, for one organization."""

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self.events: list[events.LogEvent] = []

    def __call__(self, _tx: events.HandlerTx, event: events.LogEvent) -> None:
        if event.org_id == self.org_id:
            self.events.append(event)

    def of(self, kind: type[events.LogEvent]) -> list[tuple[str, ...]]:
        return [e.unique_ids for e in self.events if type(e) is kind]


@pytest.fixture
def seen(principal: Principal) -> Iterator[Seen]:
    received = Seen(principal.org_id)

    def record(tx: events.HandlerTx, event: events.LogEvent) -> None:
        received(tx, event)

    off = [events.subscribe(kind, record) for kind in events.LogEvent.types.values()]
    yield received
    for unsubscribe in off:
        unsubscribe()


def write(engine: Engine, principal: Principal, *new: LogData) -> None:
    in_writer(engine, lambda writer: write_logs(writer, principal, list(new)))


def queued(engine: Engine, principal: Principal) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(jobs).where(jobs.c.org_id == principal.org_id)).mappings()
        return [dict(row) for row in rows]


def test_new_logs_are_created_and_those_not_left_incomplete_completed(
    engine: Engine, principal: Principal, seen: Seen
) -> None:
    write(
        engine,
        principal,
        LogData(unique_id="done", log_type="workflow", input={"a": 1}, output="b"),
        LogData(unique_id="running", log_type="workflow"),
        LogData(unique_id="plain", model="gpt-4o"),
    )
    assert seen.of(events.LogsCreated) == [("done", "running", "plain")]
    assert seen.of(events.LogsCompleted) == [("done", "plain")]
    assert queries.get_log(engine, principal, "running").log_status == "incomplete"


def test_a_group_commit_delivers_each_event_type_once(
    engine: Engine, principal: Principal, seen: Seen
) -> None:
    holding, queued_all = threading.Event(), threading.Event()

    def hold(_conn: object) -> None:
        holding.set()
        queued_all.wait(10)  # the writer waits here while the others queue up behind

    writer = GroupCommitWriter(engine, events.dispatch)
    try:
        first = writer.submit(_submission(principal, LogData(unique_id="g-first"), prepare=hold))
        assert holding.wait(10)
        rest = [
            writer.submit(_submission(principal, LogData(unique_id=f"g{n}"))) for n in range(20)
        ]
        queued_all.set()
        for future in [first, *rest]:
            future.result(10)
    finally:
        writer.close()
    created = seen.of(events.LogsCreated)
    assert created[0] == ("g-first",)
    assert created[1:] == [tuple(f"g{n}" for n in range(20))], "one commit, one delivery"


def _submission(principal: Principal, log: LogData, prepare=None) -> Submission:  # type: ignore[no-untyped-def]
    """What `write_logs` submits for one log."""
    lifecycle.start(log)
    now = utcnow()
    row = to_row(finalize(log, now), principal, now)
    return Submission([(logs, [row])], after=LogsStored(principal.org_id, now), prepare=prepare)


def test_changes_publish_annotated_completed_and_deleted(
    engine: Engine, principal: Principal, seen: Seen
) -> None:
    write(engine, principal, LogData(unique_id="f", log_type="workflow", input={"q": 1}))

    async def change(writer: GroupCommitWriter) -> None:
        await annotations.annotate(
            writer, principal, [annotations.Annotation("f", {"note": "look"})], "test"
        )
        await lifecycle.update_log(
            writer, principal, "f", {"output": "x", "log_status": "complete"}, source="test"
        )
        await delete_logs(writer, principal, ["f"])

    in_writer(engine, change)
    annotated = [e for e in seen.events if isinstance(e, events.LogsAnnotated)]
    assert [(e.unique_ids, e.fields) for e in annotated] == [
        (("f",), ("note",)),
        (("f",), ("end_time", "log_status", "output", "timestamp")),
    ]
    assert seen.of(events.LogsCompleted) == [("f",)]
    assert seen.of(events.LogsDeleted) == [("f",)]


def test_a_log_created_without_status_is_finished_once(
    engine: Engine, principal: Principal, seen: Seen
) -> None:
    write(engine, principal, LogData(unique_id="call", model="gpt-4o"))
    ended = queries.get_log(engine, principal, "call").end_time

    async def complete(writer: GroupCommitWriter, status: str) -> dict:
        return await lifecycle.update_log(
            writer, principal, "call", {"log_status": status}, source="test"
        )

    row = in_writer(engine, lambda writer: complete(writer, "complete"))
    assert row["log_status"] == "complete" and row["end_time"] == ended, "ended when stored"
    with pytest.raises(Invalid) as refused:
        in_writer(engine, lambda writer: complete(writer, "incomplete"))
    assert refused.value.errors[0].loc == ("log_status",)
    assert seen.of(events.LogsCompleted) == [("call",)], "published when stored, not again"


def test_a_failing_handler_is_retried_later_and_the_change_commits(
    engine: Engine, principal: Principal
) -> None:
    calls: list[tuple[str, ...]] = []
    failing = {"now": True}

    def flaky(tx: events.HandlerTx, event: events.LogsCompleted) -> None:
        if event.org_id != principal.org_id:
            return
        if failing["now"]:
            raise RuntimeError("follow-up work could not be queued")
        calls.append(event.unique_ids)

    unsubscribe = events.subscribe(events.LogsCompleted, flaky)
    try:
        write(engine, principal, LogData(unique_id="x1"))
        assert queries.get_log(engine, principal, "x1"), "the log is stored all the same"
        [job] = queued(engine, principal)
        assert job["kind"] == "event" and job["payload"]["event"] == "LogsCompleted"
        assert calls == []

        failing["now"] = False
        assert JobEngine(engine).run_due() >= 1
        assert calls == [("x1",)], "delivered again by a worker, once"
        assert queued(engine, principal)[0]["state"] == "done"
    finally:
        unsubscribe()
        events._cooling.clear()


def test_a_slow_handler_costs_one_budget_then_its_events_wait_for_a_worker(
    engine: Engine, principal: Principal
) -> None:
    calls: list[tuple[str, ...]] = []

    def slow(tx: events.HandlerTx, event: events.LogsCreated) -> None:
        if event.org_id == principal.org_id:
            calls.append(event.unique_ids)
            time.sleep(0.3)

    unsubscribe = events.subscribe(events.LogsCreated, slow, budget=0.05)
    try:
        started = time.monotonic()
        for n in range(5):
            write(engine, principal, LogData(unique_id=f"s{n}"))
        elapsed = time.monotonic() - started
        assert calls == [("s0",)], "after one overrun the handler is not run inside commits"
        assert elapsed < 0.3 * 5, "the other commits did not wait for it"
        waiting = [j for j in queued(engine, principal) if j["state"] == "pending"]
        assert sorted(j["payload"]["data"]["unique_ids"][0] for j in waiting) == [
            f"s{n}" for n in range(1, 5)
        ]
        JobEngine(engine).run_due()
        assert sorted(calls) == [(f"s{n}",) for n in range(5)], "every event delivered once"
    finally:
        unsubscribe()
        events._cooling.clear()


def test_a_handler_query_past_its_budget_is_stopped_by_the_database(
    engine: Engine, principal: Principal
) -> None:
    counter = select(literal(1).label("x")).cte("counter", recursive=True)
    endless = counter.union_all(select(counter.c.x + 1))

    def greedy(tx: events.HandlerTx, event: events.LogsCreated) -> None:
        if event.org_id == principal.org_id:
            tx.read(select(func.max(endless.c.x)))

    unsubscribe = events.subscribe(events.LogsCreated, greedy, budget=0.1)
    try:
        started = time.monotonic()
        write(engine, principal, LogData(unique_id="q1"))
        assert time.monotonic() - started < 5, "the endless query was interrupted"
        assert queries.get_log(engine, principal, "q1")
        assert [j["kind"] for j in queued(engine, principal)] == ["event"]
    finally:
        unsubscribe()
        events._cooling.clear()


def test_a_handler_may_only_read_and_queue_jobs(engine: Engine, principal: Principal) -> None:
    def vandal(tx: events.HandlerTx, event: events.LogsCreated) -> None:
        if event.org_id == principal.org_id:
            tx.read(update(logs).where(logs.c.org_id == event.org_id).values(note="defaced"))

    unsubscribe = events.subscribe(events.LogsCreated, vandal)
    try:
        write(engine, principal, LogData(unique_id="v1", note="original"))
        assert queries.get_log(engine, principal, "v1").note == "original"
    finally:
        unsubscribe()
        events._cooling.clear()


def test_a_gated_handler_runs_only_for_organizations_its_gate_finds(
    engine: Engine, principal: Principal
) -> None:
    """The gate reads the committing transaction: a log whose own note opens it is seen."""
    _, other_key = create_key(engine, org=f"events-{uuid.uuid4().hex[:8]}")
    other = authenticate(engine, other_key)
    calls: list[tuple[int, tuple[str, ...]]] = []

    def gated(_tx: events.HandlerTx, event: events.LogsCompleted) -> None:
        calls.append((event.org_id, event.unique_ids))

    def has_open_note(org_id: Any) -> Select:
        return select(logs.c.id).where(logs.c.org_id == org_id, logs.c.note == "open")

    unsubscribe = events.subscribe(events.LogsCompleted, gated, gate=has_open_note)
    try:
        write(engine, principal, LogData(unique_id="g1", note="shut"))
        write(engine, other, LogData(unique_id="g2", note="open"))
        write(engine, principal, LogData(unique_id="g3"))
        assert calls == [(other.org_id, ("g2",))], "called for the one organization it finds"
        write(engine, principal, LogData(unique_id="g4", note="open"))
        assert calls[-1] == (principal.org_id, ("g4",)), "opened by a row of this very commit"
    finally:
        unsubscribe()
