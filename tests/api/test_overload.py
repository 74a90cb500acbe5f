"""Overload: with the writer held up, ingest is refused with 503 and Retry-After once the
bound is full, what was acknowledged is stored exactly once, what was refused not at all,
and the server takes writes again once the writer moves."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from llmtrail.core.keys import authenticate
from llmtrail.store.database import begin_write
from llmtrail.store.tables import logs
from tests.api.test_write_path import bulk
from tests.conftest import Tenant, start_server, stop_server

BULK = 50
CLIENTS = 8


@contextmanager
def writes_held(engine: Engine) -> Iterator[None]:
    """The database's write lock, held by the test: the server's writer waits behind it."""
    with begin_write(engine) as conn:  # on SQLite, BEGIN IMMEDIATE: the write lock itself
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE logs IN EXCLUSIVE MODE")  # reads still go
        yield


def test_a_held_up_writer_refuses_with_503_and_loses_nothing_acknowledged(
    database_url: str, engine: Engine, tenant_factory, tmp_path: Path
) -> None:
    own = start_server(
        database_url,
        tmp_path,
        LLMTRAIL_WRITER_QUEUE_ROWS=str(2 * BULK),
        LLMTRAIL_WRITER_WAIT_SECONDS="0.3",
    )
    tenant: Tenant = tenant_factory()
    headers = {"Authorization": f"Bearer {tenant.key}"}
    answered: dict[str, httpx.Response] = {}
    released = threading.Event()

    def flood(client_id: int) -> None:
        with httpx.Client(base_url=own.base_url, headers=headers, timeout=30) as client:
            while not released.is_set():
                tag = f"{client_id}-{uuid.uuid4().hex}"
                answered[tag] = client.post("/api/request-logs/bulk/", json=bulk(BULK, tag))

    def tool_log(client: httpx.Client, tag: str) -> httpx.Response:
        answered[tag] = client.post(
            "/v5/tools/log", json={"path": "t/overload", "tool": {}, "metadata": {"tag": tag}}
        )
        return answered[tag]

    try:
        with httpx.Client(base_url=own.base_url, headers=headers, timeout=30) as humanloop:
            tool_log(humanloop, "tool-before")  # the File is created before the lock is held
            with ThreadPoolExecutor(CLIENTS) as pool:
                try:
                    with writes_held(engine):
                        flooding = [pool.submit(flood, n) for n in range(CLIENTS)]
                        time.sleep(0.5)  # the bound is full by now: this one waits its turn
                        tool_log(humanloop, "tool-refused")
                        time.sleep(1)
                finally:
                    released.set()
            for future in flooding:
                future.result()
            after = humanloop.post("/api/request-logs/bulk/", json=bulk(BULK, "after"))
        assert after.status_code == 201, "the server recovers once the writer moves"
    finally:
        stop_server(own)

    assert answered["tool-refused"].status_code == 503, "Humanloop routes are refused too"
    statuses = [response.status_code for response in answered.values()]
    assert set(statuses) == {200, 201, 503}, statuses
    refused = [r for r in answered.values() if r.status_code == 503]
    for response in refused:
        assert int(response.headers["Retry-After"]) >= 1
        assert "overloaded" in response.json()["detail"]
    tag = logs.c.metadata["tag"].as_string()
    org_id = authenticate(engine, tenant.key).org_id
    with engine.connect() as conn:
        query = select(tag, func.count()).where(logs.c.org_id == org_id).group_by(tag)
        stored = dict(conn.execute(query).all())
    accepted = {t for t, r in answered.items() if r.status_code // 100 == 2} | {"after"}
    assert set(stored) == accepted, "no refused log is stored, every acknowledged one is"
    assert stored.pop("tool-before") == 1
    assert set(stored.values()) == {BULK}, "each acknowledged bulk is stored once, whole"
