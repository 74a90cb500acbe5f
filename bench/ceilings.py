"""The machine's own ceilings, measured in the same run as llmtrail's figures.

Machines of one kind differ by 2x from day to day, so a target is a ratio to what this
machine does without llmtrail: the storage with the least a log store needs (the minimal
raw insert), the HTTP stack with nothing behind it (an empty route on the same uvicorn
setup), and the raw reads and updates of the rows a request touches.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy.engine import make_url

from bench import load
from bench.load import Request, percentile
from bench.raw import BATCH, Driver
from bench.server import Server, free_port

MINIMAL_TABLE = "bench_minimal_logs"
MINIMAL_SCHEMA = {
    "sqlite": (
        f"CREATE TABLE {MINIMAL_TABLE} (id INTEGER PRIMARY KEY, unique_id TEXT NOT NULL,"
        " timestamp TEXT, model TEXT, body TEXT NOT NULL)"
    ),
    "postgresql": (
        f"CREATE TABLE {MINIMAL_TABLE} (id BIGSERIAL PRIMARY KEY, unique_id TEXT NOT NULL,"
        " timestamp TEXT, model TEXT, body JSONB NOT NULL)"
    ),
}
MINIMAL_INDEXES = (
    f"CREATE UNIQUE INDEX bench_minimal_unique ON {MINIMAL_TABLE} (unique_id)",
    f"CREATE INDEX bench_minimal_time ON {MINIMAL_TABLE} (timestamp)",
    f"CREATE INDEX bench_minimal_model ON {MINIMAL_TABLE} (model)",
)


def _minimal_rows(batch: bytes) -> list[tuple[Any, ...]]:
    return [
        (uuid.uuid4().hex, log.get("timestamp"), log.get("model"), orjson.dumps(log).decode())
        for log in orjson.loads(batch)["logs"]
    ]


def minimal_insert(srv: Server, bodies: list[dict]) -> float:
    """Logs/s of the bulk bodies parsed from JSON and inserted through the bare driver into a
    table with three indexes, 500 to a transaction: SQLite in WAL with `synchronous=FULL`
    (as the server runs it), COPY on PostgreSQL."""
    batches = [orjson.dumps({"logs": bodies[i : i + BATCH]}) for i in range(0, len(bodies), BATCH)]
    if srv.backend == "sqlite":
        conn: Any = sqlite3.connect(srv.data_dir / "ceiling.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    else:
        url = make_url(srv.database_url).set(drivername="postgresql")
        conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    try:
        for statement in (MINIMAL_SCHEMA[srv.backend], *MINIMAL_INDEXES):
            conn.execute(statement)
        insert = f"INSERT INTO {MINIMAL_TABLE} (unique_id, timestamp, model, body) VALUES (?,?,?,?)"
        copy = f"COPY {MINIMAL_TABLE} (unique_id, timestamp, model, body) FROM STDIN"
        began = time.perf_counter()
        for batch in batches:
            rows = _minimal_rows(batch)
            if srv.backend == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, rows)
                conn.execute("COMMIT")
            else:
                with conn.transaction(), conn.cursor() as cursor, cursor.copy(copy) as out:
                    for row in rows:
                        out.write_row(row)
        seconds = time.perf_counter() - began
        if srv.backend == "postgresql":
            conn.execute(f"DROP TABLE {MINIMAL_TABLE}")
    finally:
        conn.close()
    return len(bodies) / seconds


class EmptyRoute:
    """An app with one route that reads the body and answers `{}`, served by uvicorn as
    `llmtrail serve` serves llmtrail (uvloop, httptools, one process, no access log)."""

    def __enter__(self) -> EmptyRoute:
        self.port = free_port()
        app, port = "bench.empty_app:app", str(self.port)
        options = ("--loop", "uvloop", "--http", "httptools", "--log-level", "warning")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--port", port, *options, "--no-access-log"],
            cwd=Path(__file__).parent.parent,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.post(f"http://127.0.0.1:{self.port}/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("the empty route did not answer within 30 s")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def requests_per_s(self, plans: list[list[Request]]) -> float:
        """The same requests a single-log scenario sends, as fast as the route answers them."""
        result = load.closed_loop("127.0.0.1", self.port, "none", plans)
        seconds = time.time() - result.started
        if result.errors:
            raise RuntimeError(f"the empty route failed: {result.first_error}")
        return result.requests / seconds


def raw_read_ms(srv: Server, trace_id: str, repeat: int = 5) -> float:
    """Median time to read every row of a trace straight through the driver."""
    driver = Driver(srv.database_url)
    placeholder = "?" if driver.sqlite else "%s"
    sql = f"SELECT * FROM logs WHERE trace_unique_id = {placeholder} ORDER BY id"
    try:
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            driver.conn.execute(sql, (trace_id,)).fetchall()
            times.append((time.perf_counter() - began) * 1000)
    finally:
        driver.close()
    return percentile(times, 50)


def raw_update_ms(srv: Server, unique_ids: list[str]) -> float:
    """One `UPDATE ... WHERE unique_id IN (...)` of these rows' metadata and note, committed."""
    driver = Driver(srv.database_url)
    mark = "?" if driver.sqlite else "%s"
    marks = ", ".join(mark for _ in unique_ids)
    json_mark = mark if driver.sqlite else "%s::jsonb"
    sql = f"UPDATE logs SET metadata = {json_mark}, note = {mark} WHERE unique_id IN ({marks})"
    metadata = orjson.dumps({"reviewed": "raw"}).decode()
    try:
        began = time.perf_counter()
        if driver.sqlite:
            driver.conn.execute("BEGIN IMMEDIATE")
            driver.conn.execute(sql, (metadata, "raw", *unique_ids))
            driver.conn.execute("COMMIT")
        else:
            driver.conn.execute(sql, (metadata, "raw", *unique_ids))
            driver.conn.commit()
        return (time.perf_counter() - began) * 1000
    finally:
        driver.close()
