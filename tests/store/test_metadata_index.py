"""The metadata index answers what reading each log's JSON answers, through new logs,
metadata edits, deletes and a log that completes later; a rebuild finds what was kept."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core import annotations, lifecycle, queries
from llmtrail.core.deletes import delete_logs
from llmtrail.core.filters import parse_filters
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store import metadata_index
from llmtrail.store.filtering import json_text
from llmtrail.store.tables import log_metadata, logs
from llmtrail.store.writer import GroupCommitWriter
from tests.helpers import in_writer

VALUES = ["acme", "globex", "", 5, 7, True, False, 0.5, "x" * 300, {"nested": 1}, [1], None]
ASKED = ["acme", "globex", "", "5", "7", "true", "false", "0.5"]


@pytest.fixture
def principal(engine: Engine) -> Principal:
    _, key = create_key(engine, org=f"index-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key)


def through_index(engine: Engine, org_id: int, key: str, value: str) -> set[str]:
    query = select(logs.c.unique_id).where(
        logs.c.org_id == org_id, metadata_index.matching(org_id, key, [value])
    )
    with engine.connect() as conn:
        return set(conn.scalars(query))


def through_json(engine: Engine, org_id: int, key: str, value: str) -> set[str]:
    query = select(logs.c.unique_id).where(
        logs.c.org_id == org_id, json_text(logs.c.metadata, key) == value
    )
    with engine.connect() as conn:
        return set(conn.scalars(query))


def indexed(engine: Engine, org_id: int) -> list[tuple]:
    query = select(log_metadata).where(log_metadata.c.org_id == org_id)
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


def test_the_index_answers_what_the_json_answers(engine: Engine, principal: Principal) -> None:
    rng = random.Random(3)
    now = utcnow()
    new = [
        LogData(
            unique_id=f"m{n}",
            metadata={"tenant": rng.choice(VALUES), "tier": rng.choice(VALUES)},
            timestamp=now - timedelta(minutes=n),
        )
        for n in range(120)
    ]
    new.append(LogData(unique_id="running", log_type="workflow", log_status="incomplete"))
    new[-1].metadata = {"tenant": "acme"}
    in_writer(engine, lambda writer: write_logs(writer, principal, new))

    edits = [
        annotations.Annotation(f"m{n}", {"metadata": {"tenant": rng.choice(VALUES[:8])}})
        for n in range(0, 40, 3)
    ]
    edits.append(annotations.Annotation("m1", {"metadata": {"tier": None}}))  # removes the key
    edits.append(annotations.Annotation("m1", {"metadata": {"tenant": "globex"}}))  # twice

    async def change(writer: GroupCommitWriter) -> None:
        await annotations.annotate(writer, principal, edits, "test")
        await delete_logs(writer, principal, [f"m{n}" for n in range(50, 70)])
        await lifecycle.update_log(
            writer,
            principal,
            "running",
            {"input": {"q": 1}, "output": "a", "log_status": "complete"},
            source="test",
        )

    in_writer(engine, change)

    for key in ("tenant", "tier"):
        for value in ASKED:
            found = through_index(engine, principal.org_id, key, value)
            assert found == through_json(engine, principal.org_id, key, value), (key, value)
    assert "running" in through_index(engine, principal.org_id, "tenant", "acme")

    kept = indexed(engine, principal.org_id)
    with engine.begin() as conn:
        metadata_index.rebuild(conn)
    assert indexed(engine, principal.org_id) == kept


def test_what_is_not_indexed_is_still_found_through_the_json(
    engine: Engine, principal: Principal
) -> None:
    long_value = "y" * 300
    logs = [LogData(unique_id="long", metadata={"k": long_value})]
    in_writer(engine, lambda writer: write_logs(writer, principal, logs))
    assert not metadata_index.indexable([long_value])
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).where(log_metadata.c.org_id == principal.org_id))
    assert stored == 0
    page = queries.LogQuery(
        filters=parse_filters({"metadata__k": {"operator": "", "value": long_value}}),
        start_time=utcnow() - timedelta(hours=1),
    )
    total, rows, _ = queries.list_logs(engine, principal, page)
    assert total == 1 and rows[0].unique_id == "long"
