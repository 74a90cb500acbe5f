"""Traces: logs nested under a parent log, down from one root.

Every log names its trace by the root's id (`trace_unique_id`) and its parent by the parent's
span id (`span_parent_id`). Humanloop logs use their own id as span id, so a Humanloop child
points at its parent's log id and a Keywords AI span at its parent's span id, in one scheme.
A complete log is closed: it takes no new children.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core.keys import Principal
from llmtrail.core.logs import COMPLETE, NEEDS_IO
from llmtrail.errors import Invalid, NotFound
from llmtrail.store import logs as store

EVALUATION_TYPE = "score"
SUMMED = (
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "total_request_tokens",
    "prompt_cost",
    "completion_cost",
    "cost",
)  # evaluator logs hang under the log they judge, not in its trace
# What this module reads of every log of a trace to link and total it.
STRUCTURE = (
    "unique_id",
    "log_type",
    "log_status",
    "file_id",
    "trace_unique_id",
    "span_unique_id",
    "span_parent_id",
    "start_time",
    "end_time",
    *SUMMED,
)


@dataclass(frozen=True)
class ParentLink:
    """Hangs new logs under `parent_id`, which must exist and, for trace children, be open.

    The writer's `prepare` step: the parent is read in the transaction that stores the
    children, share-locked there, so a concurrent completion either commits first (and the
    children are refused) or waits until they are stored; a request costs no read of its own
    before it is queued. Returns the trace and parent span the children take.
    """

    org_id: int
    parent_id: str
    loc: str
    open_only: bool

    @classmethod
    def under(cls, org_id: int, parent_id: str, log_type: str, loc: str) -> ParentLink:
        """The link of a new log of `log_type` (`loc`: the field that names its parent).
        Trace children hang under open logs only; an evaluation judges finished logs too."""
        return cls(org_id, parent_id, loc, open_only=log_type != EVALUATION_TYPE)

    def __call__(self, conn: Connection) -> dict[str, Any]:
        found = store.parent_link(conn, self.org_id, self.parent_id)
        if found is None:
            raise Invalid.at(self.loc, f"no log with id '{self.parent_id}'", "not_found")
        status, unique_id, trace_id, span_id = found
        if self.open_only and status == COMPLETE:
            raise Invalid.at(
                self.loc,
                f"log '{self.parent_id}' is complete and accepts no new children",
                "log_complete",
            )
        return {"trace_unique_id": trace_id or unique_id, "span_parent_id": span_id or unique_id}


@dataclass
class Node:
    """A log in its trace, with the logs nested under it and the evaluations of it."""

    row: Row
    children: list[Node] = field(default_factory=list)
    evaluations: list[Row] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def totals(self) -> dict[str, Any]:
        """Tokens and costs summed over the subtree; its time span widened to cover it."""
        sums: dict[str, Any] = dict.fromkeys(SUMMED)
        start, end = None, None
        for node in self.walk():
            row = node.row
            for name in SUMMED:
                value = getattr(row, name)
                if value is not None:
                    sums[name] = value if sums[name] is None else sums[name] + value
            if row.start_time is not None and (start is None or row.start_time < start):
                start = row.start_time
            if row.end_time is not None and (end is None or row.end_time > end):
                end = row.end_time
        sums["start_time"], sums["end_time"] = start, end
        return sums


class Forest:
    """Whole traces, read at once: each log's node and each trace's root."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self._nodes = nodes

    def node(self, unique_id: str) -> Node | None:
        return self._nodes.get(unique_id)

    def root_of(self, node: Node) -> Row:
        """The log at the root of the node's trace (the node's own when none is stored)."""
        root = self._nodes.get(node.row.trace_unique_id) if node.row.trace_unique_id else None
        return root.row if root is not None else node.row


def forest(
    engine: Engine, principal: Principal, unique_ids: Iterable[str], columns: Iterable[str] = ()
) -> Forest:
    """The traces that hold these logs, all read in one query (after one that finds them).

    The logs of the traces carry the `columns` the caller reads besides `STRUCTURE`; a log
    that is in no trace is a node of its own. Missing logs are missing from the forest.
    """
    wanted = dict.fromkeys((*STRUCTURE, *columns))
    with engine.connect() as conn:
        found = store.get_many(conn, principal.org_id, unique_ids)
        trace_ids = {row.trace_unique_id for row in found.values() if row.trace_unique_id}
        rows = store.traces_rows(conn, principal.org_id, trace_ids, wanted)
    by_trace: dict[str, list[Row]] = {}
    for row in rows:
        by_trace.setdefault(row.trace_unique_id, []).append(row)
    nodes: dict[str, Node] = {}
    for trace in by_trace.values():
        nodes.update(build(trace))  # span ids are unique within a trace, not across traces
    for unique_id, row in found.items():
        nodes.setdefault(unique_id, Node(row))
    return Forest(nodes)


def subtree(
    engine: Engine, principal: Principal, unique_id: str, columns: Iterable[str] = ()
) -> tuple[Node, Row]:
    """A log with everything nested under it, and the root of its trace."""
    trees = forest(engine, principal, [unique_id], columns)
    node = trees.node(unique_id)
    if node is None:
        raise NotFound("Log not found")
    return node, trees.root_of(node)


@dataclass(frozen=True)
class Trace:
    """A whole trace: every node by log id, and the spans at its top (those whose parent is
    not in it: one root, or several when a trace was sent without one)."""

    nodes: dict[str, Node]
    tops: list[Node]

    def subtotals(self) -> dict[str, dict[str, Any]]:
        """Every node's `Node.totals`, by log id, in one pass up the tree (a node's totals
        computed alone walk its whole subtree: on a 20,000-span trace that adds up)."""
        order: list[Node] = []
        stack = list(self.tops)
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(node.children)
        sums: dict[str, dict[str, Any]] = {}
        for node in reversed(order):  # children before their parents
            row = node.row
            own: dict[str, Any] = {name: getattr(row, name) for name in SUMMED}
            own["start_time"], own["end_time"] = row.start_time, row.end_time
            sums[row.unique_id] = _merged([own, *(sums[c.row.unique_id] for c in node.children)])
        return sums

    def totals(self, subtotals: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Tokens and costs over the whole trace, and the time it spans."""
        return _merged([subtotals[top.row.unique_id] for top in self.tops])


def _merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums of the summed fields (None when no part has one), the widest time span."""
    out: dict[str, Any] = {}
    for name in SUMMED:
        values = [p[name] for p in parts if p[name] is not None]
        out[name] = sum(values) if values else None
    starts = [p["start_time"] for p in parts if p["start_time"] is not None]
    ends = [p["end_time"] for p in parts if p["end_time"] is not None]
    out["start_time"], out["end_time"] = min(starts, default=None), max(ends, default=None)
    return out


def trace_of(engine: Engine, principal: Principal, key: str, columns: Iterable[str] = ()) -> Trace:
    """The trace `key` names: a trace id, or the id of any of its logs (the structure and
    `columns` of its logs only, in one query after the one that finds it)."""
    wanted = dict.fromkeys((*STRUCTURE, *columns))
    with engine.connect() as conn:
        found = store.get_by_unique_id(conn, principal.org_id, key)
        trace_id = (found.trace_unique_id or found.unique_id) if found is not None else key
        rows = store.traces_rows(conn, principal.org_id, [trace_id], wanted)
    if found is not None and all(row.unique_id != found.unique_id for row in rows):
        rows = [found, *rows]  # a root that names no trace of its own
    if not rows:
        raise NotFound("Trace not found")
    nodes = build(rows)
    linked = {
        linked.row.unique_id if isinstance(linked, Node) else linked.unique_id
        for node in nodes.values()
        for linked in (*node.children, *node.evaluations)
    }
    return Trace(nodes, [node for uid, node in nodes.items() if uid not in linked])


def flow_of(root: Row) -> str | None:
    """`trace_flow_id`: the Flow (or Agent) File whose log roots the trace."""
    return root.file_id if root.log_type in NEEDS_IO else None


def build(rows: list[Row]) -> dict[str, Node]:
    """Nodes of a trace by log id, linked parent to child in the order they were stored."""
    nodes = {r.unique_id: Node(r) for r in rows}
    by_span = {r.span_unique_id: nodes[r.unique_id] for r in rows if r.span_unique_id}
    for r in rows:
        parent = by_span.get(r.span_parent_id) if r.span_parent_id else None
        if parent is None or parent.row.unique_id == r.unique_id:
            continue
        if r.log_type == EVALUATION_TYPE:
            parent.evaluations.append(r)
        else:
            parent.children.append(nodes[r.unique_id])
    return nodes


def root_files(engine: Engine, principal: Principal, trace_ids: set[str]) -> dict[str, str]:
    """Trace id -> `trace_flow_id`, for traces rooted in a Flow or Agent log."""
    with engine.connect() as conn:
        roots = store.get_many(conn, principal.org_id, trace_ids)
    return {uid: flow for uid, row in roots.items() if (flow := flow_of(row))}
