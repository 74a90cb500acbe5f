"""Reading logs back: one log, a filtered page, summary aggregates."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, Row

from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import NEEDS_IO
from llmtrail.errors import Invalid, NotFound
from llmtrail.store import logs as store
from llmtrail.store import metadata_index, rollups
from llmtrail.store.predicates import Group

MAX_PAGE_SIZE = 1000
# Deep enough for any list (a billion rows at the largest page), and an OFFSET any
# database takes.
MAX_PAGE = 1_000_000
DEFAULT_WINDOW = timedelta(hours=1)
# Newest first by when the call happened; the (org_id, timestamp) index serves it directly.
DEFAULT_SORT = "-timestamp"


@dataclass(frozen=True)
class Cursor:
    """Where a page of a list ended, carried by its `next` link.

    The next page starts after this row instead of past an OFFSET the database must count
    through: a page deep into a million logs costs what the first one does, and logs that
    arrive meanwhile do not push rows of the page just read onto the next one. It is used
    only for the page right after it in the same order; any other page counts as usual.
    """

    page: int
    sort_by: str
    value: Any  # the sort column's value in the page's last row
    id: int

    @classmethod
    def after(cls, page: int, sort_by: str, last: Row) -> Cursor | None:
        if sort_by.lstrip("-") not in store.KEYSET_SORTS:
            return None
        return cls(page, sort_by, getattr(last, sort_by.lstrip("-")), last.id)

    def encode(self) -> str:
        raw = orjson.dumps([self.page, self.sort_by, self.value, self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            page, sort_by, value, last_id = orjson.loads(
                base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            )
            if sort_by.lstrip("-") == "timestamp":
                value = datetime.fromisoformat(value)
            return cls(int(page), str(sort_by), value, int(last_id))
        except (ValueError, TypeError, AttributeError, binascii.Error):
            raise Invalid.at("after", "is not a cursor from a `next` link") from None

    def continues(self, query: LogQuery) -> bool:
        return self.page == query.page - 1 and self.sort_by == query.sort_by

    def position(self) -> tuple[Any, int]:
        """(sort value, id) of the row the page ended with."""
        return self.value, self.id


@dataclass(frozen=True)
class LogQuery:
    """Which logs, in what order, which page. The time window defaults to the last hour."""

    filters: Group = field(default_factory=Group)
    start_time: datetime | None = None
    end_time: datetime | None = None
    page: int = 1
    page_size: int = 100
    sort_by: str = DEFAULT_SORT
    after: Cursor | None = None

    def validate(self) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise Invalid.at("page", f"must be an integer from 1 to {MAX_PAGE}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise Invalid.at("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
        if not store.sortable(self.sort_by):
            allowed = ", ".join((*store.SORT_KEYS, "scores__EVALUATOR"))
            raise Invalid.at("sort_by", f"unknown sort key '{self.sort_by}'; allowed: {allowed}")
        if self.start_time and self.end_time and self.start_time > self.end_time:
            raise Invalid.at("start_time", "must not be after end_time")

    def window(self) -> tuple[datetime, datetime]:
        end = self.end_time or utcnow()
        return self.start_time or end - DEFAULT_WINDOW, end

    def where(self, org_id: int, window: tuple[datetime, datetime]) -> ColumnElement[bool]:
        return store.matching(org_id, self.filters, *window)


@dataclass(frozen=True)
class FileLogQuery:
    """One File's logs, newest first (Humanloop's `GET /logs`)."""

    file_id: str
    page: int = 1
    size: int = 10
    version_id: str | None = None
    ids: tuple[str, ...] = ()
    search: str | None = None
    metadata_search: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    in_trace: bool | None = None

    def where(self, org_id: int, search_leads: bool = True) -> ColumnElement[bool]:
        return store.file_scope(
            org_id,
            self.file_id,
            search_leads=search_leads,
            version_id=self.version_id,
            ids=self.ids,
            search=self.search,
            metadata_search=self.metadata_search,
            start=self.start_date,
            end=self.end_date,
            in_trace=self.in_trace,
            trace_types=NEEDS_IO,
        )


# Up to this many matches of a search, a page is read from them; past it, from the File's
# newest logs, each tested, which finds a page of so common a text sooner.
SEARCH_LEADS_UP_TO = 5000


def file_logs(engine: Engine, principal: Principal, query: FileLogQuery) -> tuple[int, list[Row]]:
    offset = (query.page - 1) * query.size
    with engine.connect() as conn:
        total = store.count(conn, query.where(principal.org_id))
        where = query.where(principal.org_id, search_leads=total <= SEARCH_LEADS_UP_TO)
        return total, store.page(conn, principal.org_id, where, store.NEWEST, offset, query.size)


def get_log(engine: Engine, principal: Principal, unique_id: str) -> Row:
    with engine.connect() as conn:
        row = store.get_by_unique_id(conn, principal.org_id, unique_id)
    if row is None:
        raise NotFound("Log not found")
    return row


def list_logs(
    engine: Engine, principal: Principal, query: LogQuery
) -> tuple[int, list[Row], Cursor | None]:
    """The total of matches, the page, and the cursor of the page after it (where one can
    continue from this page's last row)."""
    query.validate()
    window = query.window()
    where = query.where(principal.org_id, window)
    offset, after = (query.page - 1) * query.page_size, None
    if query.after is not None and query.after.continues(query):
        offset, after = 0, query.after.position()
    with engine.connect() as conn:
        total = _total(conn, principal.org_id, query.filters, window, where)
        rows = store.page(
            conn, principal.org_id, where, query.sort_by, offset, query.page_size, after
        )
    cursor = Cursor.after(query.page, query.sort_by, rows[-1]) if rows else None
    return total, rows, cursor


@dataclass(frozen=True)
class _Split:
    """A window as whole hours, served by the hourly rollups, and its partial edge hours."""

    first: datetime
    last: datetime
    dimensions: dict[str, list[str]]
    edges: tuple[ColumnElement[bool], ColumnElement[bool]]


def _split(org_id: int, filters: Group, window: tuple[datetime, datetime]) -> _Split | None:
    """None when the rollups cannot serve: other filters than environment and model, or no
    whole hour in the window."""
    dimensions = counted_dimensions(filters)
    start, end = window
    first, last = rollups.hour_of(start), rollups.hour_of(end)
    if first < start:
        first += rollups.HOUR
    if dimensions is None or first >= last:
        return None
    edges = (
        store.matching(org_id, filters, start, first, up_to_high=False),
        store.matching(org_id, filters, last, end),
    )
    return _Split(first, last, dimensions, edges)


def _whole_hours(conn: Connection, org_id: int, split: _Split) -> rollups.Totals:
    environments, models = split.dimensions.get("environment"), split.dimensions.get("model")
    return rollups.totals(conn, org_id, split.first, split.last, environments, models)


def _total(
    conn: Connection,
    org_id: int,
    filters: Group,
    window: tuple[datetime, datetime],
    where: ColumnElement[bool],
) -> int:
    """How many logs match: from the metadata index for one metadata equality; over whole
    hours from the rollups and the edges from the index; otherwise row by row."""
    if (metadata := metadata_index.only_condition(filters)) is not None:
        return metadata_index.count(conn, org_id, metadata, *window)
    split = _split(org_id, filters, window)
    if split is None:
        return store.count(conn, where)
    whole = _whole_hours(conn, org_id, split)[rollups.NAMES.index("n")]
    return int(whole) + sum(store.count(conn, edge) for edge in split.edges)


def _measures(
    conn: Connection,
    org_id: int,
    filters: Group,
    window: tuple[datetime, datetime],
    where: ColumnElement[bool],
) -> rollups.Totals:
    """The count and sums of the matching logs (`rollups.NAMES`), the same way."""
    split = _split(org_id, filters, window)
    if split is None:
        return rollups.of_logs(conn, where)
    parts = [_whole_hours(conn, org_id, split), *(rollups.of_logs(conn, e) for e in split.edges)]
    return tuple(sum(values) for values in zip(*parts, strict=True))


# Filter fields the hourly rollups are kept by.
COUNTED = ("environment", "model")


def counted_dimensions(filters: Group) -> dict[str, list[str]] | None:
    """The values each counted field may take, when the filters are only `field in values`
    on counted fields joined by AND; None when they ask anything else."""
    allowed: dict[str, set[str]] = {}
    for position, (connector, item) in enumerate(filters.items):
        if position and connector != "AND":
            return None
        if isinstance(item, Group):
            nested = counted_dimensions(item)
            if nested is None:
                return None
            pairs = [(name, set(values)) for name, values in nested.items()]
        elif (
            item.key is None
            and item.field in COUNTED
            and item.operator == "in"
            and all(isinstance(v, str) and v for v in item.values)  # "" stands for no model
        ):
            pairs = [(item.field, set(item.values))]
        else:
            return None
        for name, values in pairs:
            allowed[name] = allowed[name] & values if name in allowed else values
    return {name: sorted(values) for name, values in allowed.items()}


def summarize(engine: Engine, principal: Principal, query: LogQuery) -> dict[str, Any]:
    """Count, sums and averages over the matching logs (Keywords AI's summary)."""
    query.validate()
    window = query.window()
    where = query.where(principal.org_id, window)
    with engine.connect() as conn:
        measured = _measures(conn, principal.org_id, query.filters, window, where)
    m = dict(zip(rollups.NAMES, measured, strict=True))
    return {
        "number_of_requests": int(m["n"]),
        "total_cost": float(m["cost"]),
        "total_tokens": int(m["tokens"]),
        "total_prompt_tokens": int(m["prompt_tokens"]),
        "total_completion_tokens": int(m["completion_tokens"]),
        "avg_latency": m["latency_sum"] / m["latency_n"] if m["latency_n"] else None,
        "avg_tps": m["tps_sum"] / m["tps_n"] if m["tps_n"] else None,
        "avg_ttft": m["ttft_sum"] / m["ttft_n"] if m["ttft_n"] else None,
    }
