"""The `llmtrail` command as an operator uses it: migrate, and key management."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = str(Path(sys.executable).with_name("llmtrail"))


def run(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LLMTRAIL_DATABASE_URL": database_url, "LLMTRAIL_DATA_DIR": str(data_dir)}
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60)


def test_keys_create_list_revoke(database_url: str, server, tmp_path: Path) -> None:
    created = run(
        database_url,
        tmp_path,
        "keys",
        "create",
        "--name",
        "ci",
        "--org",
        "acme-cli",
        "--environment",
        "test",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("lt_") and len(key) > 40

    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.post(
        server.base_url + "/api/request-logs/", json={"model": "m"}, headers=headers
    )
    assert response.status_code == 201 and response.json()["environment"] == "test"

    listed = run(database_url, tmp_path, "keys", "list")
    assert listed.returncode == 0
    row = next(line for line in listed.stdout.splitlines() if "acme-cli" in line)
    assert key not in listed.stdout, "the secret is never shown again"
    key_id = row.split("│")[1].strip()

    revoked = run(database_url, tmp_path, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    # A verified key is trusted for LLMTRAIL_KEY_CACHE_SECONDS (1 s), then looked up again.
    time.sleep(1.1)
    after = httpx.get(server.base_url + "/api/request-logs/list/", headers=headers)
    assert after.status_code == 401
    assert run(database_url, tmp_path, "keys", "revoke", key_id).returncode == 1


def test_keys_create_refuses_unknown_environment(database_url: str, server, tmp_path) -> None:
    result = run(database_url, tmp_path, "keys", "create", "--environment", "staging")
    assert result.returncode != 0


@pytest.mark.integration  # a subprocess and a SQLite database, without the `database_url` fixture
def test_migrate_on_the_default_sqlite_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LLMTRAIL_DATABASE_URL"}
    env["LLMTRAIL_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([CLI, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "llmtrail.db").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLMTRAIL_WRITER_QUEUE_ROWS", "lots"),
        ("LLMTRAIL_WRITER_QUEUE_BYTES", "0"),
        ("LLMTRAIL_WRITER_WAIT_SECONDS", "-1"),
    ],
)
def test_serve_refuses_a_bad_setting_naming_it(name: str, value: str, tmp_path: Path) -> None:
    env = {**os.environ, "LLMTRAIL_DATA_DIR": str(tmp_path), name: value}
    result = subprocess.run([CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert name in result.stderr and repr(value) in result.stderr
    assert "Traceback" not in result.stderr


def _children(pid: int) -> dict[int, str]:
    """The processes `pid` started, by id, with their command lines."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        found[int(child)] = cmdline
    return found


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "Z" in _state(pid):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return "X"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_runs_a_job_worker_that_dies_with_it(database_url: str, tmp_path: Path) -> None:
    from tests.conftest import start_server

    srv = start_server(database_url, tmp_path)
    try:
        workers = [pid for pid, cmd in _children(srv.process.pid).items() if "worker" in cmd]
        assert len(workers) == 1, _children(srv.process.pid)
    finally:
        srv.process.kill()  # not a clean stop: the worker must not outlive the server anyway
        srv.process.wait(10)
    assert _gone(workers[0], within=10), "the worker stopped when its server died"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_worker_when_jobs_run_elsewhere(database_url: str, tmp_path: Path) -> None:
    from tests.conftest import start_server, stop_server

    srv = start_server(database_url, tmp_path, LLMTRAIL_JOB_CONCURRENCY="0")
    try:
        assert not [cmd for cmd in _children(srv.process.pid).values() if "worker" in cmd]
    finally:
        stop_server(srv)
