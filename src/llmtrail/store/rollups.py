"""Hourly rollups of the logs per organization, kept with the logs.

A list page answers with the total of its matches and the summary with sums and averages,
and computing either over a week of logs reads every one of them (a million on SQLite: 35
ms to count, 640 ms to sum); so does a dashboard. These tables hold, per hour, counts and
sums, written in the transaction that stores, deletes or changes logs: over whole hours a
total is a sum over a few rows an hour, and only the partial hours at the edges of a window
are read log by log. Three rollups:

- `log_rollups`, by environment and model: list totals and summaries, the dashboard's series;
- `log_facet_rollups`, by one value of model, customer or log type: the dashboard's breakdowns;
- `log_latency_rollups`, by latency bucket on a log scale: the dashboard's percentiles, to
  within `LATENCY_ACCURACY` of the value.

Rows are striped by writer process (`slot`) so that concurrent writers on PostgreSQL do not
queue for the same row.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Table,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import CompoundSelect, Select

from llmtrail.store.driver import among, execute_many
from llmtrail.store.tables import log_facet_rollups, log_latency_rollups, log_rollups, logs

HOUR = timedelta(hours=1)
SLOTS = 16
FAILED = "failed"  # a log's `status` when its call failed

# A measure: (rollup column, log column, how). "one" counts the log, "value" adds the
# column's value (null as 0), "present" counts the logs that have one, "failed" counts the
# logs whose status is FAILED.
Measure = tuple[str, str, str]
MEASURES: tuple[Measure, ...] = (
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
    ("errors", "status", "failed"),
)
NAMES = tuple(name for name, _, _ in MEASURES)
FACETS = ("model", "customer_identifier", "log_type")
FACET_NAMES = ("n", "errors", "cost", "tokens", "latency_sum", "latency_n")

# Latency buckets as in DDSketch: bucket i holds (g^(i-1), g^i] seconds (g = _GAMMA), and its
# representative value is off by at most LATENCY_ACCURACY from any latency in it.
LATENCY_ACCURACY = 0.01
_GAMMA = (1 + LATENCY_ACCURACY) / (1 - LATENCY_ACCURACY)
_LN_GAMMA = math.log(_GAMMA)
_LATENCY_RANGE = (1e-4, 1e6)  # seconds; latencies outside are counted at the ends


def latency_bucket(latency: float) -> int:
    low, high = _LATENCY_RANGE
    return math.ceil(math.log(min(max(latency, low), high)) / _LN_GAMMA)


def bucket_latency(bucket: int) -> float:
    """The value a bucket stands for: within LATENCY_ACCURACY of every latency in it."""
    return 2 * _GAMMA**bucket / (_GAMMA + 1)


def _measure(how: str, value: Any) -> float:
    if how == "one":
        return 1
    if how == "value":
        return value or 0
    if how == "present":
        return 0 if value is None else 1
    return 1 if value == FAILED else 0


@dataclass(frozen=True)
class Rollup:
    """A table of hourly sums: the groups (key values after org_id and hour) a log counts
    in, and what it adds to each."""

    table: Table
    keys: tuple[str, ...]
    measures: tuple[Measure, ...]
    groups: Callable[[Mapping[str, Any]], Iterable[tuple[Any, ...]]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.measures)


def _facet_groups(fields: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    return ((facet, fields[facet] or "") for facet in FACETS)


def _latency_groups(fields: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    latency = fields["latency"]
    return () if latency is None else ((latency_bucket(latency),),)


BY_MODEL = Rollup(
    log_rollups,
    ("environment", "model"),
    MEASURES,
    lambda fields: ((fields["environment"], fields["model"] or ""),),
)
BY_FACET = Rollup(
    log_facet_rollups,
    ("facet", "value"),
    tuple(m for m in MEASURES if m[0] in FACET_NAMES),
    _facet_groups,
)
BY_LATENCY = Rollup(log_latency_rollups, ("bucket",), (("n", "id", "one"),), _latency_groups)
ROLLUPS = (BY_MODEL, BY_FACET, BY_LATENCY)

# Per rollup, where its measures are in MEASURES.
_PICKS = tuple((rollup, tuple(map(MEASURES.index, rollup.measures))) for rollup in ROLLUPS)

# Log columns that decide a log's hour, its groups, or what it adds.
DEPENDS_ON = tuple(
    dict.fromkeys(
        (
            "timestamp",
            "environment",
            "model",
            *FACETS,
            *(c for _, c, how in MEASURES if how != "one"),
        )
    )
)

Totals = tuple[float, ...]  # one value per name in NAMES, as floats
# (table name, group, hour) -> what came or went, one value per measure of the rollup.
Deltas = dict[tuple[str, tuple[Any, ...], datetime], list[float]]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _vector(fields: Mapping[str, Any], sign: int) -> list[float]:
    """What one log adds to each measure of MEASURES."""
    return [sign * _measure(how, fields[column]) for _, column, how in MEASURES]


def deltas(rows: Iterable[Any], sign: int = 1, into: Deltas | None = None) -> Deltas:
    """What logs (rows, or mappings of log columns) add to their hours, or take away."""
    found: Deltas = {} if into is None else into
    for row in rows:
        fields = row if isinstance(row, Mapping) else row._mapping
        hour = hour_of(fields["timestamp"])
        vector = _vector(fields, sign)
        for rollup, picks in _PICKS:
            for group in rollup.groups(fields):
                key = (rollup.table.name, group, hour)
                total = found.get(key)
                if total is None:
                    found[key] = [vector[i] for i in picks]
                else:
                    for j, i in enumerate(picks):
                        total[j] += vector[i]
    return found


def moved(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> Deltas:
    """The changes for logs that may have changed hour, group or measures: (before, after)."""
    changes: Deltas = {}
    for before, after in pairs:
        if any(before[c] != after[c] for c in DEPENDS_ON if c in before):
            deltas([before], -1, changes)
            deltas([after], 1, changes)
    return changes


def _insert(rollup: Rollup, dialect_name: str) -> Any:
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(rollup.table)


def _adding(rollup: Rollup, statement: Any) -> Any:
    """The insert `statement` into a rollup's table, adding to a row already there."""
    return statement.on_conflict_do_update(
        index_elements=["org_id", "hour", *rollup.keys, "slot"],
        set_={name: rollup.table.c[name] + statement.excluded[name] for name in rollup.names},
    )


def _upsert(rollup: Rollup, dialect_name: str) -> Any:
    names = ("org_id", "hour", *rollup.keys, "slot", *rollup.names)
    rows = _insert(rollup, dialect_name).values({n: bindparam(n) for n in names})
    return _adding(rollup, rows)


# Built once per dialect: the driver module compiles each once (the writer runs them per commit).
_UPSERTS = {
    (rollup.table.name, name): (rollup, _upsert(rollup, name))
    for rollup in ROLLUPS
    for name in ("sqlite", "postgresql")
}


def add(conn: Connection, org_id: int, changes: Deltas) -> None:
    """Apply changes, in this process's stripe."""
    slot = os.getpid() % SLOTS
    params: dict[str, list[dict[str, Any]]] = {rollup.table.name: [] for rollup in ROLLUPS}
    for (table, group, hour), values in sorted(changes.items()):
        if any(values):
            rollup, _ = _UPSERTS[(table, conn.dialect.name)]
            params[table].append(
                {
                    "org_id": org_id,
                    "hour": hour,
                    "slot": slot,
                    **dict(zip(rollup.keys, group, strict=True)),
                    **dict(zip(rollup.names, values, strict=True)),
                }
            )
    for table, rows in params.items():
        execute_many(conn, _UPSERTS[(table, conn.dialect.name)][1], rows)


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


def _aggregates(measures: Sequence[Measure] = MEASURES) -> list[ColumnElement[Any]]:
    """Measures as SQL aggregates over `logs`, in their order."""
    columns: list[ColumnElement[Any]] = []
    for _, column, how in measures:
        if how == "one":
            columns.append(func.count())
        elif how == "value":
            columns.append(func.coalesce(func.sum(logs.c[column]), 0))
        elif how == "present":
            columns.append(func.count(logs.c[column]))
        else:
            columns.append(func.count(case((logs.c[column] == FAILED, 1))))
    return columns


def of_logs(conn: Connection, where: ColumnElement[bool]) -> Totals:
    """The same measures, read from the logs themselves."""
    return _floats(conn.execute(select(*_aggregates()).select_from(logs).where(where)).one())


def _sql_latency_bucket() -> ColumnElement[int]:
    """`latency_bucket` in SQL (`ln` and `ceil` are in SQLite's math functions and in
    PostgreSQL), so a rebuild files every log where the writer would have."""
    low, high = _LATENCY_RANGE
    latency = logs.c.latency
    clamped = case((latency < low, low), (latency > high, high), else_=latency)
    return cast(func.ceil(func.ln(clamped) / _LN_GAMMA), Integer)


def _hour(dialect_name: str) -> ColumnElement[Any]:
    if dialect_name == "postgresql":
        return func.date_trunc("hour", logs.c.timestamp)
    return func.strftime("%Y-%m-%d %H:00:00.000000", logs.c.timestamp)  # SQLite's text form


def _grouped(
    dialect_name: str, slot: ColumnElement[int], which: ColumnElement[bool] | None = None
) -> list[tuple[Rollup, Select | CompoundSelect]]:
    """Per rollup, the query that sums the logs `which` picks (all of them if None) into its
    rows; the facets' sums are one query, a UNION ALL of a SELECT per facet (their keys
    differ by the facet, so no two of its rows update the same rollup row)."""
    hour = _hour(dialect_name)

    def picked(query: Select) -> Select:
        return query if which is None else query.where(which)

    by_model = (logs.c.environment, func.coalesce(logs.c.model, ""))
    model_sums = select(logs.c.org_id, hour, *by_model, slot, *_aggregates())
    facet_sums = []
    for facet in FACETS:
        value = func.coalesce(logs.c[facet], "")
        query = select(logs.c.org_id, hour, literal(facet), value, slot)
        query = picked(query.add_columns(*_aggregates(BY_FACET.measures)))
        facet_sums.append(query.group_by(logs.c.org_id, hour, value))
    bucket = _sql_latency_bucket()
    latency = picked(select(logs.c.org_id, hour, bucket, slot, func.count()))
    return [
        (BY_MODEL, picked(model_sums).group_by(logs.c.org_id, hour, *by_model)),
        (BY_FACET, union_all(*facet_sums)),
        (
            BY_LATENCY,
            latency.where(logs.c.latency.is_not(None)).group_by(logs.c.org_id, hour, bucket),
        ),
    ]


def _columns(rollup: Rollup) -> list[str]:
    return ["org_id", "hour", *rollup.keys, "slot", *rollup.names]


def _upserts_of_stored(dialect_name: str) -> list[Any]:
    """Every rollup's sums over the logs whose ids are `:ids`, added to its rows: one text
    for any number of logs (a commit's follow-up takes them all at once), run straight
    through the driver. On PostgreSQL the three upserts are one statement (each a
    data-modifying WITH): a commit of one log paid a round trip and a statement's overhead
    for each, most of its follow-up."""
    ids = among(logs.c.id, "ids", dialect_name)
    statements = []
    for rollup, query in _grouped(dialect_name, bindparam("slot", type_=Integer), ids):
        rows = _insert(rollup, dialect_name).from_select(_columns(rollup), query)
        statements.append(_adding(rollup, rows))
    if dialect_name == "postgresql":
        ctes = [statement.cte(f"add_{i}") for i, statement in enumerate(statements)]
        return [select(literal(1)).add_cte(*ctes)]
    return statements


_STORED = {name: _upserts_of_stored(name) for name in ("sqlite", "postgresql")}


def add_stored(conn: Connection, ids: Sequence[int]) -> None:
    """What newly stored logs add to every rollup, summed by the database from the rows
    just inserted (in C, not per row in Python: the facet and latency rollups cost the
    writer three times less so), in this process's stripe."""
    if not ids:
        return
    params = [{"ids": list(ids), "slot": os.getpid() % SLOTS}]
    for statement in _STORED[conn.dialect.name]:
        execute_many(conn, statement, params)


def rebuild(conn: Connection) -> None:
    """Roll up every organization's logs from scratch (migrations, and stores filled outside
    the write path)."""
    for rollup in ROLLUPS:
        conn.execute(rollup.table.delete())
    for rollup, query in _grouped(conn.dialect.name, literal(0)):
        conn.execute(rollup.table.insert().from_select(_columns(rollup), query))
