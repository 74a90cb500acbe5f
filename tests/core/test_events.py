"""`LogsCompleted`: the monitoring hook, published inside the transaction that completes logs."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Connection, Engine

from llmtrail.core import events, lifecycle, queries
from llmtrail.core.errors import Invalid
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store.writer import GroupCommitWriter

NAMES = {
    "input": "inputs",
    "output": "output",
    "error_message": "error",
    "completion_message": "output_message",
    "log_status": "log_status",
}


@pytest.fixture
def principal(engine: Engine) -> Principal:
    _, key = create_key(engine, org=f"events-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key)


@pytest.fixture
def seen():
    received: list[events.LogsCompleted] = []
    unsubscribe = events.subscribe(lambda _conn, event: received.append(event))
    yield received
    unsubscribe()


def write(engine: Engine, principal: Principal, *logs: LogData) -> None:
    writer = GroupCommitWriter(engine)
    try:
        asyncio.run(write_logs(writer, principal, list(logs)))
    finally:
        writer.close()


def test_new_logs_not_left_incomplete_are_published_once(engine, principal, seen) -> None:
    write(
        engine,
        principal,
        LogData(
            unique_id="done", log_type="workflow", log_status="complete", input={"a": 1}, output="b"
        ),
        LogData(unique_id="running", log_type="workflow", log_status="incomplete"),
        LogData(unique_id="plain", model="gpt-4o"),
    )
    assert [e.unique_ids for e in seen if e.org_id == principal.org_id] == [("done", "plain")]


def test_completing_publishes_and_a_failing_handler_rolls_the_completion_back(
    engine, principal, seen
) -> None:
    write(
        engine,
        principal,
        LogData(unique_id="flow", log_type="workflow", log_status="incomplete", input={"q": 1}),
    )

    def refuse(_conn: Connection, _event: events.LogsCompleted) -> None:
        raise RuntimeError("follow-up work could not be queued")

    unsubscribe = events.subscribe(refuse)
    with pytest.raises(RuntimeError):
        lifecycle.update_log(
            engine,
            principal,
            "flow",
            {"output": "x", "log_status": "complete"},
            names=NAMES,
            source="test",
        )
    unsubscribe()
    assert queries.get_log(engine, principal, "flow").log_status == "incomplete"

    row = lifecycle.update_log(
        engine,
        principal,
        "flow",
        {"output": "x", "log_status": "complete"},
        names=NAMES,
        source="test",
    )
    assert row.log_status == "complete" and row.end_time is not None
    lifecycle.update_log(
        engine, principal, "flow", {"log_status": "complete"}, names=NAMES, source="test"
    )
    mine = [e.unique_ids for e in seen if e.org_id == principal.org_id]
    assert mine.count(("flow",)) == 2, "published by the rolled-back try and the real one only"


def test_a_log_created_without_status_is_finished_once(engine, principal, seen) -> None:
    write(engine, principal, LogData(unique_id="call", model="gpt-4o"))
    ended = queries.get_log(engine, principal, "call").end_time

    row = lifecycle.update_log(
        engine, principal, "call", {"log_status": "complete"}, names=NAMES, source="test"
    )
    assert row.log_status == "complete" and row.end_time == ended, "already ended when stored"
    with pytest.raises(Invalid) as refused:
        lifecycle.update_log(
            engine, principal, "call", {"log_status": "incomplete"}, names=NAMES, source="test"
        )
    assert refused.value.errors[0].loc == ("log_status",)
    mine = [e.unique_ids for e in seen if e.org_id == principal.org_id]
    assert mine == [("call",)], "published when stored, not again"
