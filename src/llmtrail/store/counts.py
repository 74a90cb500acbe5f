"""Hourly log counts per organization, environment and model, kept with the logs themselves.

A list page answers with the total of its matches, and counting a week of logs row by row
reads every one of them (35 ms at a million on SQLite, more on PostgreSQL). These counters
are written in the transaction that stores, deletes or re-times logs, so a count over
whole hours is a sum over at most 24 rows a day; only the partial hours at the edges of a
window are counted from the logs. Rows are striped by writer process (`slot`) so that
concurrent writers on PostgreSQL do not queue for the same counter row.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.driver import execute_many
from llmtrail.store.tables import log_counts

HOUR = timedelta(hours=1)
SLOTS = 16
# (environment, model or "", hour) -> how many logs came or went.
Deltas = dict[tuple[str, str, datetime], int]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def deltas(rows: Iterable[Any], sign: int = 1) -> Deltas:
    """The counter changes for logs (rows or mappings with environment, model, timestamp)."""
    found: Counter[tuple[str, str, datetime]] = Counter()
    for row in rows:
        get = row.get if isinstance(row, dict) else row._mapping.get
        found[(get("environment"), get("model") or "", hour_of(get("timestamp")))] += sign
    return dict(found)


def moved(pairs: Iterable[tuple[Any, Any]]) -> Deltas:
    """The changes for logs that may have moved hour (or environment, or model): (before,
    after) of each."""
    changes: Counter[tuple[str, str, datetime]] = Counter()
    for before, after in pairs:
        if any(before[c] != after[c] for c in ("timestamp", "environment", "model")):
            changes.update(deltas([before], -1))
            changes.update(deltas([after]))
    return dict(changes)


def _upsert(dialect_name: str) -> Any:
    values = {
        "org_id": bindparam("org_id"),
        "hour": bindparam("hour"),
        "environment": bindparam("environment"),
        "model": bindparam("model"),
        "slot": bindparam("slot"),
        "n": bindparam("n"),
    }
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(log_counts)
    statement = insert.values(values)
    return statement.on_conflict_do_update(
        index_elements=["org_id", "hour", "environment", "model", "slot"],
        set_={"n": log_counts.c.n + statement.excluded.n},
    )


# Built once per dialect: the driver module compiles each once (the writer runs it per commit).
_UPSERTS = {name: _upsert(name) for name in ("sqlite", "postgresql")}


def add(conn: Connection, org_id: int, changes: Deltas) -> None:
    """Apply counter changes, in this process's stripe."""
    slot = os.getpid() % SLOTS
    params = [
        {"org_id": org_id, "hour": hour, "environment": env, "model": model, "slot": slot, "n": n}
        for (env, model, hour), n in sorted(changes.items())
        if n
    ]
    execute_many(conn, _UPSERTS[conn.dialect.name], params)


def total(
    conn: Connection,
    org_id: int,
    first: datetime,
    last: datetime,
    environments: Sequence[str] | None,
    models: Sequence[str] | None,
) -> int:
    """Logs in the whole hours from `first` up to (not including) `last`."""
    query = select(func.coalesce(func.sum(log_counts.c.n), 0)).where(
        log_counts.c.org_id == org_id, log_counts.c.hour >= first, log_counts.c.hour < last
    )
    if environments is not None:
        query = query.where(log_counts.c.environment.in_(environments))
    if models is not None:
        query = query.where(log_counts.c.model.in_(models))
    return int(conn.scalar(query) or 0)


def rebuild(conn: Connection) -> None:
    """Recount every organization's logs from scratch (migrations, and stores filled outside
    the write path)."""
    hour = (
        "date_trunc('hour', timestamp)"
        if conn.dialect.name == "postgresql"
        else "strftime('%Y-%m-%d %H:00:00.000000', timestamp)"
    )
    conn.execute(log_counts.delete())
    conn.execute(
        text(
            "INSERT INTO log_counts (org_id, hour, environment, model, slot, n) "
            f"SELECT org_id, {hour}, environment, coalesce(model, ''), 0, count(*) "
            f"FROM logs GROUP BY org_id, {hour}, environment, coalesce(model, '')"
        )
    )
