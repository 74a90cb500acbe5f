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
from llmtrail.store.rollups import HOUR, hour_of


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


def overview(engine: Engine, principal: Principal, range_name: str) -> dict[str, Any]:
    """The charts' series (one value per bucket, `times` in seconds since the epoch), the
    range's totals and its breakdowns."""
    chosen = RANGES.get(range_name)
    if chosen is None:
        raise Invalid.at("range", f"must be one of {', '.join(RANGES)}")
    end = hour_of(utcnow()) + HOUR
    start = end - chosen.span
    width, org_id = chosen.width, principal.org_id
    with engine.connect() as conn:
        hours = store.hourly(conn, org_id, start, end)
        failed = store.errors(conn, org_id, start, end, width)
        latency = store.percentiles(conn, org_id, start, end, width)
        overall = store.percentiles(conn, org_id, start, end, None).get(0, (None,) * 3)
        breakdowns = {
            column: store.breakdown(conn, org_id, start, end, column, TOP)
            for column in store.BREAKDOWNS
        }
    times = list(range(_epoch(start) // width * width, _epoch(end), width))
    sums = {t: [0.0, 0.0, 0.0] for t in times}  # requests, cost, tokens
    for row in hours:
        bucket = sums.get(_epoch(row.hour) // width * width)
        if bucket is not None:
            bucket[0] += float(row.n)
            bucket[1] += float(row.cost)
            bucket[2] += float(row.tokens)
    series = {
        "times": times,
        "requests": [sums[t][0] for t in times],
        "errors": [failed.get(t, 0) for t in times],
        "cost": [round(sums[t][1], 6) for t in times],
        "tokens": [sums[t][2] for t in times],
        **{
            name: [latency.get(t, (None,) * 3)[i] for t in times]
            for i, name in enumerate(("p50", "p95", "p99"))
        },
    }
    totals = {
        "requests": int(sum(series["requests"])),
        "errors": sum(failed.values()),
        "cost": sum(float(row.cost) for row in hours),
        "tokens": int(sum(series["tokens"])),
        "p50": overall[0],
        "p95": overall[1],
        "p99": overall[2],
    }
    return {"series": series, "totals": totals, "breakdowns": breakdowns, "start": start}
