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
