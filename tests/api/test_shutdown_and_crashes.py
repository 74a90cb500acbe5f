"""Nothing acknowledged is lost: not on SIGTERM, not when the server and its writer are
SIGKILLed mid-stream. Several clients write at once (single creates, bulks, Humanloop logs,
OTLP spans), each log with an id of the client's choosing; every log whose request got a 2xx
must be stored exactly once afterwards, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from llmtrail.api.otlp.mapping.spans import log_id
from llmtrail.core.keys import create_key
from llmtrail.store.tables import logs
from tests.api.otlp.examples import attr
from tests.conftest import BACKENDS, Server, migrated, new_database, start_server, stop_server

SHUTDOWN_SECONDS = 3.0


@dataclass
class Load:
    """Clients writing until stopped; `acknowledged` holds the ids of the logs of every 2xx,
    `last_ack` when the last one came, `refused` every other answer."""

    base_url: str
    key: str
    acknowledged: set[str] = field(default_factory=set)
    last_ack: float = 0.0
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refused: list[httpx.Response] = field(default_factory=list)

    def start(self) -> Load:
        for send in (self._single, self._bulk, self._humanloop, self._otlp):
            thread = threading.Thread(target=self._run, args=(send,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def wait_for(self, count: int, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.acknowledged) >= count, "the server acknowledged too little"

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

    def _run(self, send: Callable[[httpx.Client], tuple[httpx.Response, list[str]]]) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            while not self.stopping.is_set():
                try:
                    response, ids = send(client)
                except httpx.TransportError:  # the server is gone: nothing acknowledged
                    time.sleep(0.01)
                    continue
                with self.lock:
                    if response.is_success:
                        self.acknowledged.update(ids)
                        self.last_ack = time.monotonic()
                    else:
                        self.refused.append(response)
                if not response.is_success:
                    time.sleep(0.05)  # as a client honouring Retry-After would, only sooner

    @staticmethod
    def _single(client: httpx.Client) -> tuple[httpx.Response, list[str]]:
        uid = uuid.uuid4().hex
        body = {"unique_id": uid, "model": "gpt-4o", "prompt_messages": [], "cost": 0.1}
        return client.post("/api/request-logs/", json=body), [uid]

    @staticmethod
    def _bulk(client: httpx.Client) -> tuple[httpx.Response, list[str]]:
        uids = [uuid.uuid4().hex for _ in range(50)]
        body = {"logs": [{"unique_id": uid, "model": "gpt-4o"} for uid in uids]}
        return client.post("/api/request-logs/bulk/", json=body), uids

    @staticmethod
    def _humanloop(client: httpx.Client) -> tuple[httpx.Response, list[str]]:
        uid = uuid.uuid4().hex
        body = {"path": "durability/prompt", "log_id": uid, "output": "x"}
        return client.post("/v5/prompts/log", json=body), [uid]

    @staticmethod
    def _otlp(client: httpx.Client) -> tuple[httpx.Response, list[str]]:
        trace = uuid.uuid4().hex
        spans = [
            {
                "traceId": trace,
                "spanId": os.urandom(8).hex(),
                "name": "chat gpt-4o",
                "startTimeUnixNano": "1544712660000000000",
                "endTimeUnixNano": "1544712661250000000",
                "attributes": [attr("gen_ai.request.model", "gpt-4o")],
            }
            for _ in range(10)
        ]
        body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
        ids = [log_id(trace, span["spanId"]) for span in spans]
        return client.post("/v1/traces", json=body), ids


@dataclass
class Store:
    url: str
    engine: Engine
    data_dir: Path
    key: str

    def serve(self) -> Server:
        return start_server(
            self.url,
            self.data_dir,
            LLMTRAIL_OTLP_GRPC_PORT="0",
            LLMTRAIL_JOB_CONCURRENCY="0",
            LLMTRAIL_SHUTDOWN_TIMEOUT_SECONDS=str(SHUTDOWN_SECONDS),
        )

    def copies(self, ids: set[str]) -> dict[str, int]:
        """How many times each of `ids` is stored."""
        query = select(logs.c.unique_id, func.count()).group_by(logs.c.unique_id)
        with self.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {uid: found.get(uid, 0) for uid in ids}


@contextmanager
def fresh_store(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with new_database(kind, tmp_path_factory) as url, migrated(url) as engine:
        _, key = create_key(engine, org=f"org-{uuid.uuid4().hex[:10]}")
        yield Store(url, engine, tmp_path_factory.mktemp("durability"), key)


def children(pid: int) -> list[int]:
    """Every process descended from `pid` (its writer and job worker), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def assert_stored_once(store: Store, acknowledged: set[str]) -> None:
    copies = store.copies(acknowledged)
    missing = [uid for uid, n in copies.items() if n == 0]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged logs lost"
    assert set(copies.values()) == {1}


@pytest.mark.integration
@pytest.mark.parametrize("kind", BACKENDS)
def test_sigkill_of_server_and_writer_loses_nothing_acknowledged(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with fresh_store(kind, tmp_path_factory) as store:
        server = store.serve()
        load = Load(server.base_url, store.key).start()
        load.wait_for(300)
        processes = [server.process.pid, *children(server.process.pid)]
        assert len(processes) >= 2, "the writer process runs beside the server"
        for pid in processes:  # all at once: the writer gets no chance to finish
            os.kill(pid, signal.SIGKILL)
        server.process.wait(10)
        load.stop()
        restarted = store.serve()
        try:
            assert_stored_once(store, load.acknowledged)
            one = next(iter(load.acknowledged))
            headers = {"Authorization": f"Bearer {store.key}"}
            fetched = httpx.get(f"{restarted.base_url}/v5/logs/{one}", headers=headers)
            assert fetched.status_code == 200, fetched.text
        finally:
            stop_server(restarted)


@pytest.mark.integration
@pytest.mark.parametrize("kind", BACKENDS)
def test_sigterm_finishes_what_is_in_flight_and_exits_in_bounded_time(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with fresh_store(kind, tmp_path_factory) as store:
        server = store.serve()
        load = Load(server.base_url, store.key).start()
        load.wait_for(300)
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(3 * SHUTDOWN_SECONDS + 10)  # each step of stopping is bounded
        stopped = time.monotonic()
        load.stop()
        assert server.process.returncode == 0, server.log  # stopped, not killed
        assert signalled < load.last_ack <= stopped, "requests in flight were answered"
        assert not children(server.process.pid)
        assert_stored_once(store, load.acknowledged)
