"""`llmtrail privacy show | set` and `llmtrail retention run` as an operator runs them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import Engine

from llmtrail.core.keys import create_key
from tests.cli.test_people import run


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
