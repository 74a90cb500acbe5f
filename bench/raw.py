"""The raw baseline: the same rows inserted straight through the database driver.

Rows come from llmtrail's own pipeline (validation, translation, pricing), done before the
clock starts; what is timed is the driver alone, by its fastest way in: one `executemany`
(SQLite) or one COPY (PostgreSQL) and one commit per 500 rows, the unit a bulk request
commits. It is also how the read benchmark fills the store.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON
from sqlalchemy.engine import make_url

from llmtrail.api.keywords.schemas import CreateLog
from llmtrail.api.keywords.translate import to_log_data
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import finalize, to_row
from llmtrail.store.tables import logs

JSON_COLUMNS = {c.name for c in logs.columns if isinstance(c.type, JSON)}
BATCH = 500


def rows_for(bodies: list[dict], principal: Principal) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        to_row(finalize(to_log_data(CreateLog.model_validate(b)), now), principal, now)
        for b in bodies
    ]


class Driver:
    """A plain DB-API connection to the server's database, with the matching placeholders."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.sqlite = url.drivername.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.database, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA busy_timeout=30000")
        else:
            self.conn = psycopg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False)
            )

    def insert(self, rows: list[dict[str, Any]]) -> float:
        """Insert in 500-row transactions; returns the seconds it took."""
        columns = list(rows[0])
        sql = f"INSERT INTO logs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        prepared = [tuple(self._value(c, row[c]) for c in columns) for row in rows]
        began = time.perf_counter()
        for start in range(0, len(prepared), BATCH):
            chunk = prepared[start : start + BATCH]
            if self.sqlite:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany(sql, chunk)
                self.conn.execute("COMMIT")
            else:  # COPY: PostgreSQL's fastest way in, as llmtrail's writer uses it
                quoted = ", ".join(f'"{c}"' for c in columns)
                cursor = self.conn.cursor()
                with cursor, cursor.copy(f"COPY logs ({quoted}) FROM STDIN") as copy:
                    for values in chunk:
                        copy.write_row(values)
                self.conn.commit()
        return time.perf_counter() - began

    def _value(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in JSON_COLUMNS:
            return orjson.dumps(value).decode()
        if self.sqlite and isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def scalar(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def spread(
    templates: list[dict[str, Any]], count: int, days: float, seed: int
) -> Iterator[list[dict[str, Any]]]:
    """`count` rows cloned from `templates`, with fresh ids and timestamps over the last `days`,
    oldest first, in chunks: how a store looks after `days` of traffic."""
    rng = random.Random(seed)
    now = utcnow()
    step = timedelta(days=days) / count
    chunk: list[dict[str, Any]] = []
    for n in range(count):
        row = dict(rng.choice(templates))
        at = now - timedelta(days=days) + step * n
        row["unique_id"] = uuid.uuid4().hex
        row["timestamp"] = row["created_at"] = at
        row["start_time"] = at - timedelta(seconds=row["latency"] or 0)
        row["end_time"] = at
        row["trace_unique_id"] = row["span_unique_id"] = row["span_parent_id"] = None
        row["metadata"] = {**row["metadata"], "tenant": f"tenant-{rng.randrange(50)}"}
        chunk.append(row)
        if len(chunk) == 50_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
