"""PostgreSQL restarted under load: while it is away requests are refused with 503 and
`Retry-After` in each dialect's shape (never a 500), the server, its writer process and its
job worker reconnect by themselves once it is back, and nothing acknowledged is lost.

The restart is of a PostgreSQL of the test's own (`initdb` into a temporary directory, on a
port of its own): the machine's cluster is shared by other suites and is never touched. One
run, on PostgreSQL only (SQLite does not go away under a running server)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core.keys import create_key
from llmtrail.store.tables import jobs
from tests.api.keywords.test_evaluation import automation, condition, rule_evaluator
from tests.api.test_shutdown_and_crashes import Load, Store, assert_stored_once, children
from tests.conftest import free_port, migrated, start_server, stop_server

START_SECONDS = 60


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, which it may stop and start at will."""

    bindir: Path
    directory: Path
    port: int
    as_owner: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        command = [*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data")]
        subprocess.run([*command, *args], check=True, capture_output=True, timeout=START_SECONDS)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "postgres.log")
        self._ctl("-w", "-t", str(START_SECONDS), "-l", log, "-o", options, "start")

    def stop(self, mode: str) -> None:
        """`fast`: every session is ended and the cluster shut down cleanly; `immediate`: the
        server processes are killed, and the next start recovers from the WAL."""
        self._ctl("-w", "-m", mode, "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    bindir = found[-1].parent if found else None
    if bindir is None and (initdb := shutil.which("initdb")):
        bindir = Path(initdb).parent
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) to run a private cluster")
    directory = Path(tempfile.mkdtemp(prefix="llmtrail-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to own a private cluster")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    initdb = [*as_owner, str(bindir / "initdb"), "-D", str(directory / "data")]
    subprocess.run([*initdb, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    cluster = PrivatePostgres(bindir, directory, free_port(), as_owner)
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def wait_until(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done(), what


def jobs_by_state(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all())


def unfinished(engine: Engine) -> bool:
    return bool({"pending", "running"} & set(jobs_by_state(engine)))


def assert_refused_cleanly(refused: list[httpx.Response]) -> None:
    """Every refusal is a 503 with `Retry-After`, in the shape of the route's dialect."""
    statuses = Counter(response.status_code for response in refused)
    assert set(statuses) == {503}, statuses
    for response in refused:
        assert int(response.headers["Retry-After"]) >= 1
        body = response.json()
        if response.request.url.path == "/v1/traces":  # OTLP: a google.rpc.Status
            assert body["code"] == 14 and body["message"], body  # UNAVAILABLE
        else:  # Keywords AI and Humanloop: {"detail": ...}
            assert "not answering" in body["detail"] or "overloaded" in body["detail"], body


@pytest.mark.integration
def test_postgresql_restart_under_load_refuses_with_503_then_recovers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with private_postgres() as postgres, migrated(postgres.url) as engine:
        _, key = create_key(engine, org=f"org-{uuid.uuid4().hex[:10]}")
        store = Store(postgres.url, engine, tmp_path_factory.mktemp("restart"), key)
        # Leases that lapse soon: a job whose outcome the outage kept from being written runs
        # again within the test.
        server = start_server(
            postgres.url,
            store.data_dir,
            LLMTRAIL_OTLP_GRPC_PORT="0",
            LLMTRAIL_JOB_LEASE_SECONDS="5",
        )
        try:
            helpers = set(children(server.process.pid))
            assert len(helpers) >= 2, "the writer and the job worker run beside the server"
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=server.base_url, headers=headers) as api:
                # Online evaluation of a sample of the logs: the job worker has work all along.
                evaluator = rule_evaluator(api)["id"]
                automation(api, condition(api), [evaluator], configuration={"sampling_rate": 0.05})
            load = Load(server.base_url, key).start()
            reads: list[httpx.Response] = []
            for mode in ("fast", "immediate"):
                load.wait_for(len(load.acknowledged) + 300)
                before = len(load.refused)
                postgres.stop(mode)
                # Each of the four clients (KW single, KW bulk, HL log, OTLP) is refused.
                wait_until(lambda b=before: len(load.refused) >= b + 8, 30, "no refusals")
                read = httpx.get(f"{server.base_url}/api/request-logs/list/", headers=headers)
                reads.append(read)  # a read PostgreSQL cannot answer is refused alike
                postgres.start()
                load.wait_for(len(load.acknowledged) + 300, seconds=60)  # no server restart
            load.stop()
            assert_refused_cleanly(load.refused + reads)
            assert {
                "/api/request-logs/",
                "/api/request-logs/bulk/",
                "/v5/prompts/log",
                "/v1/traces",
            } == {r.request.url.path for r in load.refused}
            assert helpers <= set(children(server.process.pid)), "the writer or worker died"
            assert server.process.poll() is None
            assert_stored_once(store, load.acknowledged)
            # The job worker claims again once PostgreSQL is back, and no job died of it.
            wait_until(lambda: not unfinished(engine), 120, "evaluation jobs left unfinished")
            states = jobs_by_state(engine)
            assert states.get("done") and "dead" not in states, states
            one = next(iter(load.acknowledged))
            fetched = httpx.get(f"{server.base_url}/v5/logs/{one}", headers=headers)
            assert fetched.status_code == 200, fetched.text
        finally:
            stop_server(server)
            engine.dispose()
