"""`llmtrail users ...`, `keys create --role` and `llmtrail audit` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import httpx

from tests.cli.test_cli import CLI
from tests.conftest import Server, sign_in

PASSWORD = "a long enough password"


def run(database_url: str, data_dir: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    """`llmtrail ARGS`, its tables wide enough not to be cut."""
    env = {
        **os.environ,
        "LLMTRAIL_DATABASE_URL": database_url,
        "LLMTRAIL_DATA_DIR": str(data_dir),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def cell(output: str, needle: str, column: int) -> str:
    """A column of the first table row that holds `needle`."""
    row = next(line for line in output.splitlines() if needle in line)
    return row.split("│")[column].strip()


def test_users_create_list_set_role_disable(
    database_url: str, server: Server, tmp_path: Path
) -> None:
    org = f"acme-{uuid.uuid4().hex[:8]}"
    email = f"Ada-{uuid.uuid4().hex[:8]}@Example.com"
    create = ("users", "create", "--email", email, "--org", org, "--role", "admin")
    mistyped = run(database_url, tmp_path, *create, stdin=f"{PASSWORD}\nanother\n" * 3)
    assert mistyped.returncode != 0, "the password is asked twice, and both must match"
    created = run(database_url, tmp_path, *create, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    assert PASSWORD not in created.stdout + created.stderr
    again = run(
        database_url, tmp_path, "users", "create", "--email", email.upper(), "--password", PASSWORD
    )
    assert again.returncode == 1 and "already exists" in again.stderr

    listed = run(database_url, tmp_path, "users", "list")
    assert cell(listed.stdout, org, 4) == "admin" and email.lower() in listed.stdout
    assert sign_in(server.base_url, email, PASSWORD).status_code == 200

    assert (
        run(
            database_url, tmp_path, "users", "set-role", email, "--role", "viewer", "--org", org
        ).returncode
        == 0
    )
    assert cell(run(database_url, tmp_path, "users", "list").stdout, org, 4) == "viewer"
    bad = run(database_url, tmp_path, "users", "set-role", email, "--role", "owner", "--org", org)
    assert bad.returncode == 2

    assert run(database_url, tmp_path, "users", "disable", email).returncode == 0
    assert cell(run(database_url, tmp_path, "users", "list").stdout, org, 6) == "disabled"
    assert sign_in(server.base_url, email, PASSWORD).status_code == 401
    missing = run(database_url, tmp_path, "users", "disable", "nobody@example.com")
    assert missing.returncode == 1 and "no user" in missing.stderr

    trail = run(database_url, tmp_path, "audit", "--org", org, "--limit", "2")
    assert trail.returncode == 0, trail.stderr
    assert '{"disabled": true}' in trail.stdout and '["admin", "viewer"]' in trail.stdout
    assert '{"role": "admin"}' not in trail.stdout, "two rows at most: the newest"


def test_a_viewer_key_reads_and_cannot_write(
    database_url: str, server: Server, tmp_path: Path
) -> None:
    org = f"viewers-{uuid.uuid4().hex[:8]}"
    created = run(database_url, tmp_path, "keys", "create", "--org", org, "--role", "viewer")
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    assert cell(run(database_url, tmp_path, "keys", "list").stdout, org, 5) == "viewer"
    assert (
        httpx.get(f"{server.base_url}/api/request-logs/list/", headers=headers).status_code == 200
    )
    written = httpx.post(
        f"{server.base_url}/api/request-logs/", json={"model": "m"}, headers=headers
    )
    assert written.status_code == 403
    assert run(database_url, tmp_path, "keys", "create", "--role", "admin").returncode == 2
    trail = run(database_url, tmp_path, "audit", "--org", org)
    assert "created" in trail.stdout and "key" in trail.stdout
    assert run(database_url, tmp_path, "audit", "--org", f"no-{org}").returncode == 1
