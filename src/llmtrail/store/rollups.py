"""Hourly rollups of the logs per organization, environment and model, kept with the logs.

A list page answers with the total of its matches and the summary with sums and averages,
and computing either over a week of logs reads every one of them (a million on SQLite: 35
ms to count, 640 ms to sum). These rows hold, per hour, the count and the sums the
summary is made of, written in the transaction that stores, deletes or changes logs: over
whole hours a total is a sum over at most 24 rows a day, and only the partial hours at the
edges of a window are read log by log. Rows are striped by writer process (`slot`) so
that concurrent writers on PostgreSQL do not queue for the same row.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.driver import execute_many
from llmtrail.store.tables import log_rollups, logs

HOUR = timedelta(hours=1)
SLOTS = 16

# What each log adds to its hour: (rollup column, log column, how). "one" counts the log,
# "value" adds the column's value (null as 0), "present" counts the logs that have one.
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("n", "id", "one"),
    ("cost", "cost", "value"),
    ("tokens", "total_request_tokens", "value"),
    ("prompt_tokens", "prompt_tokens", "value"),
    ("completion_tokens", "completion_tokens", "value"),
    ("latency_sum", "latency", "value"),
    ("latency_n", "latency", "present"),
    ("tps_sum", "tokens_per_second", "value"),
    ("tps_n", "tokens_per_second", "present"),
    ("ttft_sum", "time_to_first_token", "value"),
    ("ttft_n", "time_to_first_token", "present"),
)
NAMES = tuple(name for name, _, _ in MEASURES)
# Log columns that decide a log's hour, its group, or what it adds.
DEPENDS_ON = tuple(
    dict.fromkeys(
        ("timestamp", "environment", "model", *(c for _, c, how in MEASURES if how != "one"))
    )
)

Totals = tuple[float, ...]  # one value per name in NAMES, as floats
# (environment, model or "", hour) -> what came or went.
Deltas = dict[tuple[str, str, datetime], list[float]]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _measures(row: Mapping[str, Any]) -> list[float]:
    out: list[float] = []
    for _, column, how in MEASURES:
        if how == "one":
            out.append(1)
        elif how == "value":
            out.append(row[column] or 0)
        else:
            out.append(0 if row[column] is None else 1)
    return out


def deltas(rows: Iterable[Any], sign: int = 1, into: Deltas | None = None) -> Deltas:
    """What logs (rows, or mappings of log columns) add to their hours, or take away."""
    found: Deltas = {} if into is None else into
    for row in rows:
        fields = row if isinstance(row, Mapping) else row._mapping
        key = (fields["environment"], fields["model"] or "", hour_of(fields["timestamp"]))
        total = found.setdefault(key, [0] * len(MEASURES))
        for i, value in enumerate(_measures(fields)):
            total[i] += sign * value
    return found


def moved(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> Deltas:
    """The changes for logs that may have changed hour, group or measures: (before, after)."""
    changes: Deltas = {}
    for before, after in pairs:
        if any(before[c] != after[c] for c in DEPENDS_ON if c in before):
            deltas([before], -1, changes)
            deltas([after], 1, changes)
    return changes


def _upsert(dialect_name: str) -> Any:
    keys = ("org_id", "hour", "environment", "model", "slot")
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(log_rollups)
    statement = insert.values({name: bindparam(name) for name in (*keys, *NAMES)})
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: log_rollups.c[name] + statement.excluded[name] for name in NAMES},
    )


# Built once per dialect: the driver module compiles each once (the writer runs it per commit).
_UPSERTS = {name: _upsert(name) for name in ("sqlite", "postgresql")}


def add(conn: Connection, org_id: int, changes: Deltas) -> None:
    """Apply changes, in this process's stripe."""
    slot = os.getpid() % SLOTS
    params = [
        {
            "org_id": org_id,
            "hour": hour,
            "environment": env,
            "model": model,
            "slot": slot,
            **dict(zip(NAMES, values, strict=True)),
        }
        for (env, model, hour), values in sorted(changes.items())
        if any(values)
    ]
    execute_many(conn, _UPSERTS[conn.dialect.name], params)


def totals(
    conn: Connection,
    org_id: int,
    first: datetime,
    last: datetime,
    environments: Sequence[str] | None,
    models: Sequence[str] | None,
) -> Totals:
    """The measures of the logs in the whole hours from `first` up to (not including) `last`."""
    query = select(*(func.coalesce(func.sum(log_rollups.c[name]), 0) for name in NAMES)).where(
        log_rollups.c.org_id == org_id, log_rollups.c.hour >= first, log_rollups.c.hour < last
    )
    if environments is not None:
        query = query.where(log_rollups.c.environment.in_(environments))
    if models is not None:
        query = query.where(log_rollups.c.model.in_(models))
    return _floats(conn.execute(query).one())


def _floats(values: Iterable[Any]) -> Totals:
    """PostgreSQL sums integers as `numeric` (Decimal); the measures are added as floats."""
    return tuple(float(v) for v in values)


def _aggregates() -> list[ColumnElement[Any]]:
    """The measures as SQL aggregates over `logs`, in the order of NAMES."""
    columns: list[ColumnElement[Any]] = []
    for _, column, how in MEASURES:
        if how == "one":
            columns.append(func.count())
        elif how == "value":
            columns.append(func.coalesce(func.sum(logs.c[column]), 0))
        else:
            columns.append(func.count(logs.c[column]))
    return columns


def of_logs(conn: Connection, where: ColumnElement[bool]) -> Totals:
    """The same measures, read from the logs themselves."""
    return _floats(conn.execute(select(*_aggregates()).select_from(logs).where(where)).one())


def rebuild(conn: Connection) -> None:
    """Roll up every organization's logs from scratch (migrations, and stores filled outside
    the write path)."""
    if conn.dialect.name == "postgresql":
        hour = func.date_trunc("hour", logs.c.timestamp)
    else:  # the text form SQLite's DateTime columns hold
        hour = func.strftime("%Y-%m-%d %H:00:00.000000", logs.c.timestamp)
    group = (logs.c.org_id, hour, logs.c.environment, func.coalesce(logs.c.model, ""))
    rolled = select(*group, literal(0), *_aggregates()).group_by(*group)
    keys = ("org_id", "hour", "environment", "model", "slot")
    conn.execute(log_rollups.delete())
    conn.execute(log_rollups.insert().from_select([*keys, *NAMES], rolled))
