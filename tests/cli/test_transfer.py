"""`llmtrail logs export | import` as an operator runs them: a store moved between SQLite and
PostgreSQL field for field, and an import killed halfway then run again."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core import datasets
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store.tables import logs, organizations
from tests.cli.test_cli import CLI, run
from tests.conftest import migrated, new_database
from tests.helpers import in_writer

T0 = datetime(2025, 3, 1, 9, 30, 15, 123456)
# Every kind of value a column holds: JSON of each shape, text a CSV must quote, unicode.
AWKWARD = 'a, "quoted" word\nand a line break; ünïcødé ✓'


def varied_logs(count: int) -> list[LogData]:
    made = []
    for i in range(count):
        made.append(
            LogData(
                unique_id=f"log-{i:05d}",
                log_type=("chat", "workflow", "tool")[i % 3],
                log_status="incomplete" if i % 7 == 0 else None,
                timestamp=T0 + timedelta(seconds=i, microseconds=i),
                start_time=T0 + timedelta(seconds=i - 1),
                model="gpt-4o" if i % 2 else None,
                prompt_tokens=i,
                completion_tokens=2 * i,
                cost=0.1 * i if i % 2 else None,
                latency=1.5,
                customer_identifier=f"c-{i % 4}",
                error_message=AWKWARD if i % 5 == 0 else None,
                positive_feedback=bool(i % 2) if i % 3 else None,
                note=AWKWARD if i % 2 else None,
                trace_unique_id=f"t-{i // 3}",
                input=[AWKWARD, i, {"nested": [True, None, 1.25]}] if i % 2 else "plain text",
                output={"text": AWKWARD, "n": i} if i % 3 else 42,
                prompt_messages=[{"role": "user", "content": AWKWARD}],
                completion_message={"role": "assistant", "content": "ok"},
                metadata={"env": "ci", "n": i, "flag": i % 2 == 0},
                extra={"temperature": 0.2, "tools": [{"name": "f"}]} if i % 4 else None,
            )
        )
    return made


def seeded(engine: Engine, count: int, org: str | None = None) -> tuple[str, Principal]:
    """An organization of its own holding `count` varied logs."""
    org = org or f"org-{uuid.uuid4().hex[:10]}"
    _, key = create_key(engine, org=org)
    who = authenticate(engine, key)
    assert who is not None

    async def write(writer: Any) -> None:
        await write_logs(writer, who, varied_logs(count))

    in_writer(engine, write)
    return org, who


def stored(engine: Engine, org: str) -> dict[str, dict[str, Any]]:
    """The organization's logs by unique_id, every column but the store's keys."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(logs).where(logs.c.org_id == _org_id(conn, org)).order_by(logs.c.id)
        ).all()
    found = {}
    for row in rows:
        values = dict(row._mapping)
        del values["id"], values["org_id"]
        found[values["unique_id"]] = values
    return found


def _org_id(conn: Any, org: str) -> int | None:
    return conn.scalar(select(organizations.c.id).where(organizations.c.name == org))


@pytest.fixture
def two_stores(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    source_kind, target_kind = request.param
    with (
        new_database(source_kind, tmp_path_factory) as source,
        new_database(target_kind, tmp_path_factory) as target,
    ):
        yield source, target


@pytest.mark.integration
@pytest.mark.parametrize(
    "two_stores", [("sqlite", "postgresql"), ("postgresql", "sqlite")], indirect=True
)
def test_a_store_moves_between_databases_field_for_field(
    two_stores: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = two_stores
    with migrated(source_url) as source:
        org, _ = seeded(source, 40)
        before = stored(source, org)
    dump = tmp_path / "logs.jsonl"
    exported = run(source_url, tmp_path, "logs", "export", "--org", org, "-o", str(dump))
    assert exported.returncode == 0, exported.stderr
    assert "40 logs exported" in exported.stderr
    assert len(dump.read_bytes().splitlines()) == 40

    imported = run(target_url, tmp_path, "logs", "import", str(dump), "--org", "moved")
    assert imported.returncode == 0, imported.stderr
    assert "40 logs imported, 0 already stored" in imported.stderr
    with migrated(target_url) as target:
        after = stored(target, "moved")
    assert list(after) == list(before), "the same logs, in the same order"
    for unique_id, row in before.items():
        assert after[unique_id] == row, unique_id

    again = run(target_url, tmp_path, "logs", "import", str(dump), "--org", "moved")
    assert again.returncode == 0 and "0 logs imported, 40 already stored" in again.stderr


def test_an_import_killed_halfway_and_run_again_stores_each_log_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    org, _ = seeded(engine, 1200)
    dump = tmp_path / "logs.jsonl"
    assert (
        run(database_url, tmp_path, "logs", "export", "--org", org, "-o", str(dump)).returncode == 0
    )
    lines = dump.read_bytes().splitlines(keepends=True)
    target = f"copy-{uuid.uuid4().hex[:8]}"

    # The importer reads a pipe: it gets 700 lines (a batch of 500 and part of the next),
    # and is killed while it waits for more.
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    env = {**os.environ, "LLMTRAIL_DATABASE_URL": database_url, "LLMTRAIL_DATA_DIR": str(tmp_path)}
    importer = subprocess.Popen(
        [CLI, "logs", "import", str(fifo), "--org", target],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with fifo.open("wb") as pipe:
            pipe.writelines(lines[:700])
            pipe.flush()
            assert _eventually(lambda: _count(engine, target) == 500), _count(engine, target)
            importer.send_signal(signal.SIGKILL)
            importer.wait(10)
    except BrokenPipeError:
        pass
    finally:
        if importer.poll() is None:
            importer.kill()
    assert _count(engine, target) == 500, "the committed batch stays, the one half-read does not"

    rerun = run(database_url, tmp_path, "logs", "import", str(dump), "--org", target)
    assert rerun.returncode == 0, rerun.stderr
    assert "700 logs imported, 500 already stored" in rerun.stderr
    with engine.connect() as conn:
        per_id = conn.execute(
            select(logs.c.unique_id, func.count())
            .where(logs.c.org_id == _org_id(conn, target))
            .group_by(logs.c.unique_id)
        ).all()
    assert len(per_id) == 1200 and {n for _, n in per_id} == {1}


def test_a_line_that_is_no_exported_log_is_refused_naming_line_and_field(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    org, _ = seeded(engine, 2)
    dump = tmp_path / "logs.jsonl"
    assert (
        run(database_url, tmp_path, "logs", "export", "--org", org, "-o", str(dump)).returncode == 0
    )
    good, other = dump.read_bytes().splitlines()
    broken = orjson.loads(other)
    broken["cost"] = "cheap"
    del broken["status"]
    dump.write_bytes(good + b"\n" + orjson.dumps(broken) + b"\n")
    target = f"copy-{uuid.uuid4().hex[:8]}"
    result = run(database_url, tmp_path, "logs", "import", str(dump), "--org", target)
    assert result.returncode == 1
    assert "line[2].cost" in result.stderr and "line[2].status" in result.stderr
    assert "Traceback" not in result.stderr
    assert _count(engine, target) == 0, "the batch holding the bad line is not written"


def test_export_filters_and_csv(engine: Engine, database_url: str, tmp_path: Path) -> None:
    org, _ = seeded(engine, 12)
    args = ["logs", "export", "--org", org, "--format", "csv"]
    filters = [
        "--filter",
        "customer_identifier=c-1",
        "--filter",
        '{"cost": {"operator": "gt", "value": 0.3}}',
    ]
    result = run(database_url, tmp_path, *args, *filters)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # c-1 are logs 1, 5 and 9; a cost over 0.3 (0.1 * i) leaves 5 and 9.
    assert [r["unique_id"] for r in rows] == ["log-00005", "log-00009"]
    bad = run(
        database_url, tmp_path, "logs", "export", "--org", org, "--filter", "cost[operator]=bogus"
    )
    assert bad.returncode == 1 and "unknown operator" in bad.stderr


def _export(database_url: str, tmp_path: Path, org: str, dump: Path) -> Any:
    return run(database_url, tmp_path, "logs", "export", "--org", org, "-o", str(dump))


def _count(engine: Engine, org: str) -> int:
    with engine.connect() as conn:
        org_id = _org_id(conn, org)
        if org_id is None:
            return 0
        return conn.scalar(select(func.count()).select_from(logs).where(logs.c.org_id == org_id))


def _eventually(check: Any, within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_datasets_export_writes_a_datasets_logs(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    org, who = seeded(engine, 1)
    dataset = datasets.create(engine, who, name="golden")
    for n in range(3):
        datasets.create_log(engine, who, dataset.id, LogData(input=f"q{n}"), {"answer": n})
    out = tmp_path / "golden.jsonl"
    args = ("datasets", "export", dataset.id, "--org", org, "-o", str(out))
    result = run(database_url, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert "3 dataset logs exported" in result.stderr
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    expected = [(f"q{n}", {"answer": n}) for n in range(3)]
    assert [(r["input"], r["target"]) for r in records] == expected
    missing = run(database_url, tmp_path, "datasets", "export", "ds_none", "--org", org)
    assert missing.returncode == 1 and "Dataset not found" in missing.stderr
