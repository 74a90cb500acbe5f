"""Search finds every committed log whether the worker's indexer has reached it or not: queued
logs are read by their text, indexed ones through the index, and updates and deletes of
either kind leave no stale match. The indexer waits for ingest to pause, unless the queue
is long."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, insert, select, update

from llmtrail.core.keys import authenticate, create_key
from llmtrail.store import search
from llmtrail.store.database import begin_write
from llmtrail.store.tables import logs
from llmtrail.worker import search_indexer
from llmtrail.worker.search_indexer import SearchIndexer
from tests.store.conftest import row


def found(engine: Engine, org: int, text: str) -> set[str]:
    query = select(logs.c.unique_id).where(logs.c.org_id == org, search.matches(text))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def add(engine: Engine, org: int, output: str) -> str:
    log = {**row(org), "output": output, "input": '"a question"'}
    with begin_write(engine) as conn:
        conn.execute(insert(logs).values(log))
    return log["unique_id"]


def index_all(engine: Engine) -> None:
    """What the worker's indexer does once ingest pauses."""
    with begin_write(engine) as conn:
        search.drain(conn, None)
    with engine.connect() as conn:
        assert search.backlog(conn) == (0, None)


def new_org(engine: Engine) -> int:
    _, key = create_key(engine, org=f"search-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key).org_id


@pytest.fixture
def org(quiet_engine: Engine) -> int:
    return new_org(quiet_engine)


def test_queued_and_indexed_logs_are_found_alike(quiet_engine: Engine, org: int) -> None:
    engine = quiet_engine
    queued = add(engine, org, '"where is my parcel"')
    assert found(engine, org, "PARCEL") == {queued}, "queued: read by its text"
    assert found(engine, org, "my") == {queued}, "shorter than a trigram"
    index_all(engine)
    indexed = add(engine, org, '"a refund for the parcel"')
    assert found(engine, org, "parcel") == {queued, indexed}, "one indexed, one queued"
    index_all(engine)
    assert found(engine, org, "parcel") == {queued, indexed}, "both indexed"

    # An indexed log's new text is queued and its old text leaves the index.
    with begin_write(engine) as conn:
        conn.execute(update(logs).where(logs.c.unique_id == indexed).values(output='"an exchange"'))
    assert found(engine, org, "refund") == set()
    assert found(engine, org, "exchange") == {indexed}
    index_all(engine)
    assert found(engine, org, "exchange") == {indexed} and found(engine, org, "refund") == set()

    # Deleted, indexed or still queued: gone from both.
    fresh = add(engine, org, '"the parcel again"')
    with begin_write(engine) as conn:
        conn.execute(logs.delete().where(logs.c.unique_id.in_([queued, fresh])))
    assert found(engine, org, "parcel") == set()
    index_all(engine)
    assert found(engine, org, "parcel") == set() and found(engine, org, "exchange") == {indexed}
    if engine.dialect.name == "sqlite":  # the contentless index was given back what it held
        with begin_write(engine) as conn:
            conn.exec_driver_sql(
                f"INSERT INTO {search.TABLE}({search.TABLE}, rank) VALUES ('integrity-check', 1)"
            )


def test_the_indexer_waits_for_a_pause_unless_the_queue_is_long(
    quiet_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, indexer = quiet_engine, SearchIndexer(quiet_engine)
    org = new_org(engine)
    add(engine, org, '"one"')
    with engine.connect() as conn:
        _, newest = search.backlog(conn)
    assert indexer.step(None) == newest, "logs came in since the last tick: no indexing"
    with engine.connect() as conn:
        assert search.backlog(conn)[0] == 1
    assert indexer.step(newest) is None, "a pause: the queue is indexed"
    with engine.connect() as conn:
        assert search.backlog(conn) == (0, None)

    monkeypatch.setattr(search_indexer, "FORCE_AT", 3)
    monkeypatch.setattr(search_indexer, "FORCED_CHUNK", 2)
    for i in range(6):
        add(engine, org, f'"many {i}"')
    # Ingest goes on, but the queue is over FORCE_AT: one small chunk a tick, no more, so
    # the writer keeps SQLite's lock; then a pause indexes the rest.
    newest = indexer.step(None)
    with engine.connect() as conn:
        assert search.backlog(conn)[0] == 4
    assert indexer.step(newest) is None
    with engine.connect() as conn:
        assert search.backlog(conn) == (0, None)
