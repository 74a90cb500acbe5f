"""The logs page: a filtered, sorted, keyset-paged table whose whole state is in its URL,
and its live tail.

The URL speaks the list API's quick-filter language (`?model=gpt-4o&metadata__team=search
&latency[operator]=gt&latency[value]=2`), parsed by the one filter engine; the form's free
condition rows (`f`, `op`, `v`) are turned into that form by a redirect, so what is
bookmarked is the canonical URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from llmtrail.core import queries, scores
from llmtrail.core.filters import FIELDS, combine, parse_filters, parse_quick_filters
from llmtrail.core.ids import iso, to_utc_naive, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.store.logs import SORT_KEYS
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()

RANGES = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_RANGE = "24h"
PAGE_SIZE = 50
# Query keys with a meaning of their own; every other key is a filter.
CONTROL = {"range", "start", "end", "sort_by", "page", "after", "page_size", "since", "live"}
# The fields the form offers a box of their own for; any other is a free condition row.
BOXES = ("model", "log_type", "status", "customer_identifier", "environment")
FREE = ("f", "op", "v")
OPERATORS = ("", "not", "gt", "gte", "lt", "lte", "contains", "icontains", "isnull", "has_key")
TAIL_SECONDS = 3


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc_naive(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise Invalid.at(name, f"'{value}' is not a date and time") from None


def _page_number(value: str | None) -> int:
    try:
        return int(value or 1)
    except ValueError:
        raise Invalid.at("page", f"must be an integer, got '{value}'") from None


def filter_params(params: QueryParams) -> list[tuple[str, str]]:
    """The URL's filters, in the list API's quick-filter form (empty boxes dropped)."""
    return [(k, v) for k, v in params.multi_items() if k not in CONTROL and v]


def log_query(params: QueryParams, extra: dict[str, Any] | None = None) -> queries.LogQuery:
    """The page's query from its URL; `extra`: conditions in the body form, ANDed."""
    groups = [parse_quick_filters(filter_params(params), CONTROL)]
    if extra:
        groups.append(parse_filters(extra))
    span = RANGES.get(params.get("range") or DEFAULT_RANGE)
    start, end = _when(params.get("start"), "start"), _when(params.get("end"), "end")
    if span is None:
        raise Invalid.at("range", f"must be one of {', '.join(RANGES)}")
    if start is None:
        start = (end or utcnow()) - span
    after = params.get("after")
    return queries.LogQuery(
        filters=combine(*groups),
        start_time=start,
        end_time=end,
        page=_page_number(params.get("page")),
        page_size=PAGE_SIZE,
        sort_by=params.get("sort_by") or queries.DEFAULT_SORT,
        after=queries.Cursor.decode(after) if after else None,
    )


def _rows(who: Principal, request: Request, query: queries.LogQuery) -> dict[str, Any]:
    engine = session.backend(request).engine
    total, rows, cursor = queries.list_logs(engine, who, query)
    found = scores.scores_of(engine, who, [row.id for row in rows])
    return {
        "total": total,
        "rows": [(row, found.get(row.id, [])) for row in rows],
        "cursor": cursor,
        "newest": max((iso(row.created_at) for row in rows), default=None),
    }


def _url(request: Request, **changes: Any) -> str:
    """This page's URL with some control keys changed (None removes one)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    return f"{request.url.path}?{urlencode(items)}"


def _free_conditions(request: Request) -> list[tuple[str, str, str]]:
    """The URL's filters that have no box of their own, as (field, operator, value) rows."""
    rows: dict[str, list[str]] = {}
    for key, value in filter_params(request.query_params):
        name, _, part = key.partition("[")
        if name in BOXES and not part:
            continue
        row = rows.setdefault(name, ["", ""])
        row[0 if part == "operator]" else 1] = value
    return [(name, op, value) for name, (op, value) in rows.items()]


@router.get("/logs")
async def logs_page(request: Request, who: Principal = Depends(session.signed_in)) -> Response:
    params = request.query_params
    if any(name in params for name in FREE):
        return RedirectResponse(_canonical(request), status_code=303)
    query = log_query(params)
    context = await run_in_threadpool(_rows, who, request, query)
    cursor = context["cursor"]
    more = query.page * query.page_size < context["total"]
    context.update(
        nav="logs",
        query=query,
        params=params,
        ranges=RANGES,
        range=params.get("range") or DEFAULT_RANGE,
        sort_keys=SORT_KEYS,
        operators=OPERATORS,
        fields=[*FIELDS, "metadata__", "scores__"],
        boxes=BOXES,
        free=_free_conditions(request),
        live=params.get("live") == "1",
        tail_seconds=TAIL_SECONDS,
        next_url=_url(request, page=query.page + 1, after=cursor.encode() if cursor else None)
        if more
        else None,
        previous_url=_url(request, page=query.page - 1, after=None) if query.page > 1 else None,
        live_url=_url(request, live=None if params.get("live") == "1" else 1),
        tail_url=_tail_url(request, context["newest"]),
    )
    return render(request, "logs.html", context)


def _tail_url(request: Request, since: str | None) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in ("since", "page")]
    return f"/logs/tail?{urlencode([*items, ('since', since or iso(utcnow()))])}"


def _canonical(request: Request) -> str:
    """The form's URL with its free rows (`f`/`op`/`v`) spelled as quick filters."""
    params = request.query_params
    names, ops, values = (params.getlist(name) for name in FREE)
    items = [(k, v) for k, v in params.multi_items() if k not in FREE and v]
    for name, op, value in zip(names, ops, values, strict=False):
        if not name:
            continue
        if op:
            items += [(f"{name}[operator]", op), (f"{name}[value]", value)]
        elif value:
            items.append((name, value))
    return f"/logs?{urlencode(items)}"


@router.get("/logs/tail")
async def tail(request: Request, who: Principal = Depends(session.signed_in)) -> Response:
    """Rows created since `since`, newest first, and the marker that asks for the next."""
    since = _when(request.query_params.get("since"), "since") or utcnow()
    query = log_query(request.query_params, {"created_at": {"operator": "gt", "value": iso(since)}})
    context = await run_in_threadpool(_rows, who, request, query)
    context["tail_url"] = _tail_url(request, context["newest"] or iso(since))
    context["tail_seconds"] = TAIL_SECONDS
    return render(request, "partials/tail.html", context)
