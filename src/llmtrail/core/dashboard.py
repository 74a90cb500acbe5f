"""The dashboard: requests, errors, cost, tokens and latency percentiles over time, and
the busiest models, customers and log types, for a range of whole hours up to now.

Everything is aggregated by the database (`store.dashboard`); what is added up here are
at most a few hundred rollup rows, never logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.store import dashboard as store
from llmtrail.store import rollups


@dataclass(frozen=True)
class Range:
    span: timedelta
    width: int  # seconds a point of the charts covers


RANGES = {
    "24h": Range(timedelta(days=1), 3600),
    "7d": Range(timedelta(days=7), 6 * 3600),
    "30d": Range(timedelta(days=30), 24 * 3600),
}
DEFAULT_RANGE = "24h"
TOP = 10


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _seconds(buckets: tuple[int | None, ...]) -> tuple[float | None, ...]:
    return tuple(None if b is None else rollups.bucket_latency(b) for b in buckets)


def overview(engine: Engine, principal: Principal, range_name: str) -> dict[str, Any]:
    """The charts' series (one value per point, `times` in seconds since the epoch), the
    range's totals and its breakdowns. Latency percentiles are within
    `rollups.LATENCY_ACCURACY` of the exact ones."""
    chosen = RANGES.get(range_name)
    if chosen is None:
        raise Invalid.at("range", f"must be one of {', '.join(RANGES)}")
    end = rollups.hour_of(utcnow()) + rollups.HOUR
    start = end - chosen.span
    width, org_id = chosen.width, principal.org_id
    with engine.connect() as conn:
        points = {int(row.point): row for row in store.series(conn, org_id, start, end, width)}
        latency = store.percentiles(conn, org_id, start, end, width)
        overall = store.percentiles(conn, org_id, start, end, None).get(0, (None,) * 3)
        breakdowns = {
            facet: store.breakdown(conn, org_id, start, end, facet, TOP)
            for facet in store.BREAKDOWNS
        }
    times = list(range(_epoch(start) // width * width, _epoch(end), width))
    rows = [points.get(t) for t in times]
    series = {
        "times": times,
        **{
            name: [0 if row is None else kind(row._mapping[name]) for row in rows]
            for name, kind in (("requests", int), ("errors", int), ("tokens", int))
        },
        "cost": [0 if row is None else round(float(row.cost), 6) for row in rows],
        **{
            name: [_seconds(latency.get(t, (None,) * 3))[i] for t in times]
            for i, name in enumerate(("p50", "p95", "p99"))
        },
    }
    p50, p95, p99 = _seconds(overall)
    totals = {
        "requests": sum(series["requests"]),
        "errors": sum(series["errors"]),
        "cost": sum(float(row.cost) for row in points.values()),
        "tokens": sum(series["tokens"]),
        "p50": p50,
        "p95": p95,
        "p99": p99,
    }
    return {"series": series, "totals": totals, "breakdowns": breakdowns, "start": start}
