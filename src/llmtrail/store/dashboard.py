"""The dashboard's aggregates, all computed by the database.

Requests, cost, tokens and mean latency by hour and model come from the hourly rollups; the
rest (errors, breakdowns by customer and log type, latency percentiles) is aggregated over
the window's logs, found through the (org_id, timestamp) index, in one statement each. The
percentiles are nearest-rank, from window functions both SQLite and PostgreSQL have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Numeric,
    Row,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)

from llmtrail.store.tables import log_rollups, logs, scores

FAILED = "failed"  # a log's `status` when its call failed
PERCENTILES = (0.5, 0.95, 0.99)
BREAKDOWNS = ("model", "customer_identifier", "log_type")


def _bucket(conn: Connection, width: int | None) -> ColumnElement[Any]:
    """The start of the `width`-second bucket a log falls in, as seconds since the epoch
    (one bucket for the whole window when None)."""
    if width is None:
        return literal(0)
    if conn.dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", logs.c.timestamp), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", logs.c.timestamp)), BigInteger)
    return (seconds // width) * width


def _window(org_id: int, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(logs.c.org_id == org_id, logs.c.timestamp >= start, logs.c.timestamp < end)


def hourly(conn: Connection, org_id: int, first: datetime, last: datetime) -> Sequence[Row]:
    """(hour, model, n, cost, tokens, latency_sum, latency_n) over the hours from `first` up
    to `last`, from the rollups."""
    r = log_rollups.c
    query = (
        select(
            r.hour,
            r.model,
            func.sum(r.n).label("n"),
            func.sum(r.cost).label("cost"),
            func.sum(r.tokens).label("tokens"),
            func.sum(r.latency_sum).label("latency_sum"),
            func.sum(r.latency_n).label("latency_n"),
        )
        .where(r.org_id == org_id, r.hour >= first, r.hour < last)
        .group_by(r.hour, r.model)
        .order_by(r.hour)
    )
    return conn.execute(query).all()


def errors(
    conn: Connection, org_id: int, start: datetime, end: datetime, width: int
) -> dict[int, int]:
    """Failed logs per bucket (seconds since the epoch -> count)."""
    bucket = _bucket(conn, width).label("bucket")
    query = (
        select(bucket, func.count())
        .where(_window(org_id, start, end), logs.c.status == FAILED)
        .group_by(bucket)
    )
    return {int(b): int(n) for b, n in conn.execute(query)}


def percentiles(
    conn: Connection, org_id: int, start: datetime, end: datetime, width: int | None
) -> dict[int, tuple[float | None, ...]]:
    """Latency p50, p95 and p99 per bucket (one bucket, 0, for the window when None)."""
    bucket = _bucket(conn, width)
    ranked = (
        select(
            bucket.label("bucket"),
            logs.c.latency,
            func.row_number().over(partition_by=bucket, order_by=logs.c.latency).label("r"),
            func.count().over(partition_by=bucket).label("c"),
        )
        .where(_window(org_id, start, end), logs.c.latency.is_not(None))
        .subquery()
    )
    picks = [func.min(case((ranked.c.r >= ranked.c.c * p, ranked.c.latency))) for p in PERCENTILES]
    query = select(ranked.c.bucket, *picks).group_by(ranked.c.bucket)
    return {int(row[0]): tuple(row[1:]) for row in conn.execute(query)}


def breakdown(
    conn: Connection, org_id: int, start: datetime, end: datetime, column: str, limit: int
) -> Sequence[Row]:
    """The `limit` busiest values of a column: (value, n, errors, cost, tokens, latency)."""
    if column not in BREAKDOWNS:
        raise ValueError(column)
    value = logs.c[column]
    n = func.count().label("n")
    query = (
        select(
            value.label("value"),
            n,
            func.sum(case((logs.c.status == FAILED, 1), else_=0)).label("errors"),
            func.coalesce(func.sum(logs.c.cost), 0).label("cost"),
            func.coalesce(func.sum(logs.c.total_request_tokens), 0).label("tokens"),
            func.avg(logs.c.latency).label("latency"),
        )
        .where(_window(org_id, start, end))
        .group_by(value)
        .order_by(n.desc())
        .limit(limit)
    )
    return conn.execute(query).all()


def score_counts(conn: Connection, org_id: int) -> Sequence[Row]:
    """(evaluator_name, value, n): how often each evaluator gave each value, numbers to
    one decimal; categorical and JSON values count under None."""
    s = scores.c
    valued = (
        select(
            s.evaluator_name,
            case(
                (s.boolean_value.is_(True), "true"),
                (s.boolean_value.is_(False), "false"),
                else_=func.coalesce(
                    cast(func.round(cast(s.numerical_value, Numeric), 1), String), s.string_value
                ),
            ).label("value"),
        )
        .where(s.org_id == org_id, s.error.is_(None))
        .subquery()
    )
    query = (
        select(valued.c.evaluator_name, valued.c.value, func.count().label("n"))
        .group_by(valued.c.evaluator_name, valued.c.value)
        .order_by(valued.c.evaluator_name, valued.c.value)
    )
    return conn.execute(query).all()
