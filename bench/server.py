"""A real `llmtrail serve` for the benchmark, on a fresh SQLite data dir or PostgreSQL database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

CLI = str(Path(sys.executable).with_name("llmtrail"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(backend: str, data_dir: Path, pg_url: str) -> tuple[str, str | None]:
    """The database URL to serve from, and the PostgreSQL database to drop afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{data_dir / 'llmtrail.db'}", None
    name = f"llmtrail_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(pg_url).set(database=name)
    return url.render_as_string(hide_password=False), name


def drop_database(pg_url: str, name: str) -> None:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Server:
    """A running server, its database, and a way to read its memory."""

    backend: str
    database_url: str
    host: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    data_dir: Path
    grpc_port: int = 0
    workers: int = 1  # serving processes

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def create_key(self, org: str) -> str:
        """A key of a new organization, made with the CLI as an operator would."""
        out = subprocess.run(
            [CLI, "keys", "create", "--org", org, "--name", "bench"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return out.strip().splitlines()[-1]

    def processes(self) -> list[int]:
        """The server and every process under it (its writer process)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        return found

    def memory_mb(self) -> tuple[float, float]:
        """Resident memory of the server's processes now, and the sum of their high-water
        marks since start (an upper bound of their peak together), from /proc."""
        now = peak = 0.0
        for pid in self.processes():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name == "VmRSS":
                    now += int(value.split()[0]) / 1024
                elif name == "VmHWM":
                    peak += int(value.split()[0]) / 1024
        return now, peak

    def reset_peak(self) -> None:
        """Start the processes' high-water marks afresh, so the next peak is one scenario's."""
        for pid in self.processes():
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(backend: str, pg_url: str, workers: int = 1) -> tuple[Server, str | None]:
    """A fresh `llmtrail serve` (with `workers` serving processes) on a fresh database."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"llmtrail-bench-{backend}-"))
    database_url, pg_name = fresh_database(backend, data_dir, pg_url)
    grpc_port = free_port()
    env = {
        **os.environ,
        "LLMTRAIL_DATA_DIR": str(data_dir),
        "LLMTRAIL_DATABASE_URL": database_url,
        "LLMTRAIL_OTLP_GRPC_PORT": str(grpc_port),
    }
    port = free_port()
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=log,
    )
    server = Server(
        backend, database_url, "127.0.0.1", port, env, process, data_dir, grpc_port, workers
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text())
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server, pg_name
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("llmtrail serve did not answer within 60 s")
