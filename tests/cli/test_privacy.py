"""`llmtrail privacy show | set` and `llmtrail retention run` as an operator runs them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import orjson
from sqlalchemy import Engine, select

from llmtrail.core.keys import create_key
from llmtrail.store.tables import logs, organizations
from tests.cli.test_people import run
from tests.cli.test_transfer import seeded


def test_privacy_set_show_and_a_retention_run(database_url: str, engine: Engine, tmp_path: Path):
    org = f"acme-{uuid.uuid4().hex[:8]}"
    create_key(engine, org=org)
    setting = ("privacy", "set", "--org", org, "--mask", "email", "--mask", "card")
    made = run(database_url, tmp_path, *setting, "--pattern", r"ACME-\d+", "--retention-days", "30")
    assert made.returncode == 0, made.stderr
    shown = json.loads(run(database_url, tmp_path, "privacy", "show", "--org", org).stdout)
    assert shown["maskers"] == ["email", "card"] and shown["custom_patterns"] == [r"ACME-\d+"]
    assert shown["retention_days"] == 30

    unsafe = run(database_url, tmp_path, "privacy", "set", "--org", org, "--pattern", "(a+)+")
    assert unsafe.returncode == 2 and "custom_patterns.0" in unsafe.stderr
    unknown = run(database_url, tmp_path, "privacy", "set", "--org", org, "--mask", "ssn")
    assert unknown.returncode == 2 and "maskers.0" in unknown.stderr
    kept = json.loads(run(database_url, tmp_path, "privacy", "show", "--org", org).stdout)
    assert kept == shown, "a refused change changes nothing"

    swept = run(database_url, tmp_path, "retention", "run", "--org", org, "--batch-size", "5")
    assert swept.returncode == 0, swept.stderr
    assert f"{org}: 0 deleted" in swept.stderr
    assert "0 logs deleted in 1 organizations" in swept.stdout
    forever = run(database_url, tmp_path, "privacy", "set", "--org", org, "--keep-forever")
    assert json.loads(forever.stdout)["retention_days"] is None


def test_an_import_into_an_organization_that_masks_is_masked(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org, _ = seeded(engine, 2)
    dump = tmp_path / "logs.jsonl"
    exported = run(database_url, tmp_path, "logs", "export", "--org", org, "-o", str(dump))
    assert exported.returncode == 0, exported.stderr
    first, second = (orjson.loads(line) for line in dump.read_bytes().splitlines())
    first["output"] = {"text": "write to jo@example.com"}
    dump.write_bytes(orjson.dumps(first) + b"\n" + orjson.dumps(second) + b"\n")
    target = f"masked-{uuid.uuid4().hex[:8]}"
    create_key(engine, org=target)
    masking = run(database_url, tmp_path, "privacy", "set", "--org", target, "--mask", "email")
    assert masking.returncode == 0, masking.stderr
    imported = run(database_url, tmp_path, "logs", "import", str(dump), "--org", target)
    assert imported.returncode == 0, imported.stderr
    with engine.connect() as conn:
        org_id = conn.scalar(select(organizations.c.id).where(organizations.c.name == target))
        rows = conn.execute(
            select(logs.c.unique_id, logs.c.output, logs.c.blurred).where(logs.c.org_id == org_id)
        ).all()
    stored = {row.unique_id: (row.output, row.blurred) for row in rows}
    assert stored[first["unique_id"]] == ({"text": "write to [email]"}, True)
    assert stored[second["unique_id"]] == (second["output"], False)
