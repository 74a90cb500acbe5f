"""Shared fixtures: every storage and API test runs on SQLite and on PostgreSQL.

Each backend gets its own throwaway database and one real `llmtrail serve` process on a free
loopback port. Tests stay independent by working in an organization of their own, which is
also how the product isolates tenants.

Tests are sorted into two tiers: `integration` (anything that needs a database, hence also a
server or a tenant) and `unit` (in-process, no database, server or network). `make unit` runs
the second alone, with no PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from llmtrail.config import normalise_database_url
from llmtrail.core.keys import create_key
from llmtrail.core.users import create_user
from llmtrail.store.database import make_engine
from llmtrail.store.migrate import upgrade
from tests.fakes.openai_server import FakeOpenAI

PG_ADMIN_URL = normalise_database_url(
    os.environ.get("LLMTRAIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test `integration` when it needs a database, directly or through a fixture
    (`engine`, `server`, `tenant`, `api`, ...), or is marked so by hand; `unit` otherwise."""
    for item in items:
        needs_database = "database_url" in getattr(item, "fixturenames", ())
        if needs_database or item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


@contextmanager
def new_database(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a fresh, empty database of this kind, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'llmtrail.db'}"
        return
    name = f"llmtrail_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database of each kind, dropped at the end of the session."""
    with new_database(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated schema, for tests that read or seed the store directly."""
    with migrated(database_url) as engine:
        yield engine


@pytest.fixture(scope="module")
def quiet_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on a database of the same kind that no server uses: no job worker but the
    test's own claims its jobs."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with new_database(kind, tmp_path_factory) as url, migrated(url) as engine:
        yield engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    database_url: str
    data_dir: Path
    process: subprocess.Popen
    grpc_port: int = 0  # its OTLP/gRPC receiver's; 0 when off

    @property
    def log(self) -> str:
        return (self.data_dir / "server.log").read_text()


# Three processes (server, writer, worker) import the app and migrate; on a machine loaded by
# other suites that has taken over 30 s, and a session fixture that gives up fails every test.
SERVE_START_SECONDS = 120


def start_server(database_url: str, data_dir: Path, **env: str) -> Server:
    """Run `llmtrail serve` as users do, and wait until it answers. Its OTLP/gRPC receiver
    listens on a free port of its own (servers of other tests must not share 4317)."""
    port = free_port()
    environ = {
        **os.environ,
        "LLMTRAIL_DATA_DIR": str(data_dir),
        "LLMTRAIL_DATABASE_URL": database_url,
        "LLMTRAIL_OTLP_GRPC_PORT": str(free_port()),
        **env,
    }
    cli = Path(sys.executable).with_name("llmtrail")
    # The server's log goes to a file, not a pipe nobody drains (a full pipe would block it).
    log = data_dir / "server.log"
    process = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVE_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llmtrail serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                grpc_port = int(environ["LLMTRAIL_OTLP_GRPC_PORT"])
                return Server(base_url, database_url, data_dir, process, grpc_port)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"llmtrail serve did not answer within {SERVE_START_SECONDS} s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def llm_provider() -> Iterator[FakeOpenAI]:
    """The LLM provider the servers' LLM judges call: a local server speaking OpenAI's
    chat-completions protocol, scripted by the tests (`script_for`)."""
    with FakeOpenAI() as provider:
        yield provider


@pytest.fixture(scope="session")
def server(
    database_url: str,
    engine: Engine,
    llm_provider: FakeOpenAI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    srv = start_server(
        database_url,
        tmp_path_factory.mktemp("data"),
        LLMTRAIL_LLM_BASE_URL=llm_provider.base_url,
        LLMTRAIL_LLM_API_KEY="test-judge-key",
        LLMTRAIL_LLM_TIMEOUT_SECONDS="1",
        LLMTRAIL_CODE_TIMEOUT_SECONDS="2",
    )
    yield srv
    stop_server(srv)


@dataclass
class Tenant:
    """An organization with a live key, and clients speaking each dialect's auth header."""

    org: str
    key: str
    base_url: str

    def client(self, style: str = "bearer") -> httpx.Client:
        header = (
            {"Authorization": f"Bearer {self.key}"}
            if style == "bearer"
            else {"X-API-KEY": self.key}
        )
        return httpx.Client(base_url=self.base_url, headers=header, timeout=30)


@pytest.fixture(scope="session")
def tenant_factory(server: Server, engine: Engine):  # type: ignore[no-untyped-def]
    """A new organization with a key at each call (each test's own, or a module's)."""

    def make(environment: str = "prod") -> Tenant:
        org = f"org-{uuid.uuid4().hex[:10]}"
        _, key = create_key(engine, org=org, environment=environment)
        return Tenant(org, key, server.base_url)

    return make


PASSWORD = "correct horse battery"


def sign_in(base_url: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{base_url}/auth/jwt/create/", json={"email": email, "password": password}, timeout=30
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Person:
    """A user of a tenant's organization, signed in: `access` and `refresh` are its tokens."""

    email: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access)


@pytest.fixture
def person_factory(server: Server, engine: Engine):  # type: ignore[no-untyped-def]
    """`make(org, role)`: a new user with that role in the organization, signed in."""

    def make(org: str, role: str = "member") -> Person:
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        create_user(engine, email=email, password=PASSWORD, org=org, role=role)
        tokens = sign_in(server.base_url, email)
        assert tokens.status_code == 200, tokens.text
        return Person(email, tokens.json()["access"], tokens.json()["refresh"])

    return make


@pytest.fixture
def tenant(tenant_factory) -> Tenant:  # type: ignore[no-untyped-def]
    return tenant_factory()


@pytest.fixture
def api(tenant: Tenant) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as a fresh organization, Keywords AI style."""
    with tenant.client() as client:
        yield client
