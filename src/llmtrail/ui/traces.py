"""The trace view: the span tree beside a waterfall, with each span's duration, tokens and
cost, its own and summed over what it holds.

A trace may hold 20,000 spans: the page renders the root and one page of its children, and
each span's children come when it is expanded, a page at a time, so the browser never holds
more rows than were asked for. The server reads the trace's structure (a few light columns,
no messages) and sums subtrees from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from llmtrail.core import traces
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid, NotFound
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()
CHILDREN_PAGE = 100
COLUMNS = ("span_name", "model", "status", "latency")


class Window:
    """Where a span sits on its trace's timeline, in percent of the trace's duration."""

    def __init__(self, start: datetime | None, end: datetime | None) -> None:
        self.start = start
        self.seconds = (end - start).total_seconds() if start and end else 0.0

    def bar(self, start: datetime | None, end: datetime | None) -> tuple[float, float]:
        if not (start and end and self.start and self.seconds > 0):
            return 0.0, 0.0
        left = (start - self.start).total_seconds() / self.seconds * 100
        return round(left, 3), round((end - start).total_seconds() / self.seconds * 100, 3)


def _span(node: traces.Node, view: View, path: str) -> dict[str, Any]:
    row, summed = node.row, view.sums[node.row.unique_id]
    own = (
        (row.end_time - row.start_time).total_seconds() if row.start_time and row.end_time else None
    )
    return {
        "row": row,
        "path": f"{path}/{row.unique_id}",
        "depth": path.count("/"),
        "children": len(node.children),
        "seconds": own if own is not None else row.latency,
        "bar": view.window.bar(row.start_time, row.end_time),
        "summed": summed,
    }


@dataclass(frozen=True)
class View:
    """A trace as the page shows it: every span's sums, the whole trace's, its timeline."""

    trace: traces.Trace
    sums: dict[str, dict[str, Any]]
    summed: dict[str, Any]
    window: Window


def _spans(
    nodes: list[traces.Node], view: View, path: str, offset: int
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of sibling spans, and where the next page starts (None: no more)."""
    page = nodes[offset : offset + CHILDREN_PAGE]
    more = offset + CHILDREN_PAGE if offset + CHILDREN_PAGE < len(nodes) else None
    return [_span(node, view, path) for node in page], more


def _read(request: Request, who: Principal, key: str) -> View:
    trace = traces.trace_of(session.backend(request).engine, who, key, COLUMNS)
    sums = trace.subtotals()
    summed = trace.totals(sums)
    return View(trace, sums, summed, Window(summed["start_time"], summed["end_time"]))


@router.get("/traces/{key}")
async def trace_page(
    request: Request, key: str, who: Principal = Depends(session.signed_in)
) -> Response:
    """The trace a trace id or any of its logs' ids names, its top spans unfolded."""
    view = await run_in_threadpool(_read, request, who, key)
    trace = view.trace
    top = trace.tops[0] if len(trace.tops) == 1 else None
    spans, more = _spans(trace.tops, view, "", 0)
    if top is not None:  # one root: its children are shown under it
        spans = [_span(top, view, "")]
        children, more = _spans(top.children, view, spans[0]["path"], 0)
        spans += children
    context = {
        "nav": "logs",
        "key": key,
        "title": trace.tops[0].row,
        "summed": view.summed,
        "spans": spans,
        "more": more,
        "parent": top.row.unique_id if top is not None else None,
        "parent_path": spans[0]["path"] if top is not None else "",
        "window": view.window,
        "total_spans": len(trace.nodes),
    }
    return render(request, "trace.html", context)


@router.get("/traces/{key}/children")
async def children(
    request: Request,
    key: str,
    path: str = "",
    span: str | None = None,
    offset: int = 0,
    who: Principal = Depends(session.signed_in),
) -> Response:
    """A page of a span's children (of the trace's top spans without `span`); `path` is the
    span's ancestry, by which the tree folds."""
    if offset < 0:
        raise Invalid.at("offset", "must be ≥ 0")
    view = await run_in_threadpool(_read, request, who, key)
    if span is None:
        siblings = view.trace.tops
    elif (node := view.trace.nodes.get(span)) is not None:
        siblings = node.children
    else:
        raise NotFound("Span not found in this trace")
    spans, more = _spans(siblings, view, path, offset)
    context = {"key": key, "spans": spans, "more": more, "parent": span, "parent_path": path}
    return render(request, "partials/spans.html", context)
