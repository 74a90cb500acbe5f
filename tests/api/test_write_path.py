"""The write path under load: acknowledged means committed, a request lands whole, in order."""

from __future__ import annotations

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from humanloop import Humanloop
from sqlalchemy import Engine, func, select

from llmtrail.core.keys import authenticate
from llmtrail.store import rollups
from llmtrail.store.database import make_engine
from llmtrail.store.tables import logs
from tests.api.test_list_totals import stored_rollups
from tests.conftest import Tenant, start_server


def bulk(count: int, tag: str, **fields: object) -> dict:
    return {
        "logs": [
            {"model": "gpt-4o", "metadata": {"tag": tag, "n": n}, **fields} for n in range(count)
        ]
    }


def test_rows_are_stored_in_request_order(api: httpx.Client) -> None:
    same_moment = datetime.now(UTC).isoformat()
    for part in ("first", "second"):
        assert (
            api.post(
                "/api/request-logs/bulk/", json=bulk(50, part, timestamp=same_moment)
            ).status_code
            == 201
        )
    listed = api.post("/api/request-logs/list/?page_size=100&sort_by=id", json={}).json()["results"]
    assert [(r["metadata"]["tag"], r["metadata"]["n"]) for r in listed] == [
        (part, n) for part in ("first", "second") for n in range(50)
    ]


def test_single_creates_sharing_commits_are_each_followed_up(
    tenant: Tenant, engine: Engine
) -> None:
    """Single-log creates from 8 clients share group commits, and the writer follows up all
    the logs of a commit at once: every rollup still equals a recount, the metadata index
    finds each log, and each Prompt version counts its own logs."""
    hl = Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")
    prompts = [hl.prompts.log(path=f"followup/{name}", prompt={"model": "gpt-4o"}) for name in "ab"]
    api = tenant.client()

    def send(n: int) -> None:
        if n % 2:  # odd: a Prompt log, of the first Prompt or the second in turn
            hl.prompts.log(
                path=f"followup/{'ab'[n % 4 // 2]}",
                prompt={"model": "gpt-4o"},
                output="y",
                metadata={"tag": f"t{n}"},
            )
            return
        created = api.post(
            "/api/request-logs/",
            json={"model": "o3-mini", "latency": n / 10, "metadata": {"tag": f"t{n}"}},
        )
        assert created.status_code == 201, created.text

    with api, ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(64)))
        for n in range(64):
            tagged = {"metadata__tag": {"operator": "", "value": f"t{n}"}}
            found = api.post("/api/request-logs/list/", json={"filters": tagged})
            assert found.json()["count"] == 1, (n, found.text)
    for prompt in prompts:  # its first log and 16 of the 64
        version = hl.prompts.get(id=prompt.prompt_id, version_id=prompt.version_id)
        assert version.version_logs_count == 17

    org = authenticate(engine, tenant.key).org_id
    kept = stored_rollups(engine, org)
    with engine.begin() as conn:
        rollups.rebuild(conn)
    recounted = stored_rollups(engine, org)
    assert recounted.keys() == kept.keys()
    for group, measures in kept.items():
        assert recounted[group] == pytest.approx(measures), group


def test_concurrent_requests_land_whole_and_a_conflict_fails_alone(tenant: Tenant) -> None:
    """Requests sharing group commits: each bulk lands entirely, each conflicting
    client-chosen id is refused with 409 and takes none of its neighbours down."""
    taken = f"log_{uuid.uuid4().hex}"
    with tenant.client() as client:
        first = client.post("/v5/tools/log", json={"path": "t/x", "tool": {}, "log_id": taken})
        assert first.status_code == 200, first.text

        def send(n: int) -> int:
            if n % 4 == 3:
                body = {"path": "t/x", "tool": {}, "log_id": taken}
                return client.post("/v5/tools/log", json=body).status_code
            return client.post("/api/request-logs/bulk/", json=bulk(100, f"b{n}")).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(send, range(24)))

        assert statuses.count(201) == 18 and statuses.count(409) == 6
        counted = client.post("/api/request-logs/list/?page_size=1", json={}).json()["count"]
        assert counted == 18 * 100 + 1


def test_an_acknowledged_write_survives_the_server_being_killed(
    database_url: str, tmp_path, tenant_factory
) -> None:
    """SIGKILL to the server and its writer process right after the 201: no shutdown, no
    flush; the rows must already be on disk."""
    own = start_server(database_url, tmp_path)
    tenant: Tenant = tenant_factory()
    try:
        tag = uuid.uuid4().hex
        with httpx.Client(
            base_url=own.base_url, headers={"Authorization": f"Bearer {tenant.key}"}
        ) as c:
            assert c.post("/api/request-logs/bulk/", json=bulk(300, tag)).status_code == 201
    finally:
        pid = own.process.pid
        writers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert writers, "the server writes through a writer process of its own"
        for process in (pid, *map(int, writers)):
            os.kill(process, signal.SIGKILL)
        own.process.wait()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = conn.scalar(
                select(func.count()).where(logs.c.metadata["tag"].as_string() == tag)
            )
    finally:
        engine.dispose()
    assert stored == 300
