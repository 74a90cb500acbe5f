"""The dashboard's aggregates, all computed by the database from the rollups
(`store/rollups.py`): the series and totals from the hourly rollups by model, the
breakdowns from the rollups by facet, the latency percentiles from the latency histograms
(nearest rank over the buckets, with window functions both SQLite and PostgreSQL have). A
week is a few thousand rollup rows whatever the number of logs.
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
    Table,
    case,
    cast,
    func,
    literal,
    select,
)

from llmtrail.store.rollups import FACETS
from llmtrail.store.tables import log_facet_rollups, log_latency_rollups, log_rollups, scores

PERCENTILES = (0.5, 0.95, 0.99)
BREAKDOWNS = FACETS


def _point(conn: Connection, table: Table, width: int | None) -> ColumnElement[Any]:
    """The start of the `width`-second point an hour's row falls in, as seconds since the
    epoch (one point for the whole range when None)."""
    if width is None:
        return literal(0)
    if conn.dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", table.c.hour), Integer)
    else:
        seconds = cast(func.extract("epoch", table.c.hour), BigInteger)
    return (seconds // width) * width


def _in_range(table: Table, org_id: int, start: datetime, end: datetime) -> ColumnElement[bool]:
    return (table.c.org_id == org_id) & (table.c.hour >= start) & (table.c.hour < end)


def series(
    conn: Connection, org_id: int, start: datetime, end: datetime, width: int
) -> Sequence[Row]:
    """(point, requests, errors, cost, tokens) per point of the range."""
    r = log_rollups.c
    point = _point(conn, log_rollups, width).label("point")
    query = (
        select(
            point,
            func.sum(r.n).label("requests"),
            func.sum(r.errors).label("errors"),
            func.sum(r.cost).label("cost"),
            func.sum(r.tokens).label("tokens"),
        )
        .where(_in_range(log_rollups, org_id, start, end))
        .group_by(point)
    )
    return conn.execute(query).all()


def percentiles(
    conn: Connection, org_id: int, start: datetime, end: datetime, width: int | None
) -> dict[int, tuple[int | None, ...]]:
    """The latency buckets of p50, p95 and p99 per point (one point, 0, when None)."""
    h = log_latency_rollups
    point = _point(conn, h, width).label("point")
    counts = (
        select(point, h.c.bucket, func.sum(h.c.n).label("n"))
        .where(_in_range(h, org_id, start, end))
        .group_by(point, h.c.bucket)
        .subquery()
    )
    ranked = select(
        counts.c.point,
        counts.c.bucket,
        func.sum(counts.c.n)
        .over(partition_by=counts.c.point, order_by=counts.c.bucket)
        .label("up_to"),
        func.sum(counts.c.n).over(partition_by=counts.c.point).label("total"),
    ).subquery()
    picks = [
        func.min(case((ranked.c.up_to >= ranked.c.total * p, ranked.c.bucket))) for p in PERCENTILES
    ]
    query = select(ranked.c.point, *picks).group_by(ranked.c.point)
    return {int(row[0]): tuple(row[1:]) for row in conn.execute(query)}


def breakdown(
    conn: Connection, org_id: int, start: datetime, end: datetime, facet: str, limit: int
) -> Sequence[Row]:
    """The `limit` busiest values of a facet: (value, n, errors, cost, tokens, latency)."""
    if facet not in BREAKDOWNS:
        raise ValueError(facet)
    f = log_facet_rollups.c
    n = func.sum(f.n).label("n")
    latency_n = func.sum(f.latency_n)
    query = (
        select(
            f.value,
            n,
            func.sum(f.errors).label("errors"),
            func.sum(f.cost).label("cost"),
            func.sum(f.tokens).label("tokens"),
            (func.sum(f.latency_sum) / case((latency_n > 0, latency_n))).label("latency"),
        )
        .where(_in_range(log_facet_rollups, org_id, start, end), f.facet == facet)
        .group_by(f.value)
        .having(n != 0)
        .order_by(n.desc(), f.value)
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
