"""Reading logs back: one log, a filtered page, summary aggregates, deletion."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, Row, or_

from llmtrail.core.errors import Invalid, NotFound
from llmtrail.core.filters import Group
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import NEEDS_IO
from llmtrail.store import files, metadata_index, rollups
from llmtrail.store import logs as store
from llmtrail.store.database import begin_write
from llmtrail.store.filtering import compile_filter
from llmtrail.store.tables import logs

MAX_PAGE_SIZE = 1000
DEFAULT_WINDOW = timedelta(hours=1)
# Newest first by when the call happened; the (org_id, timestamp) index serves it directly.
DEFAULT_SORT = "-timestamp"

# Sort keys of the Keywords AI list endpoint (§1.3), plus the time columns people expect.
SORT_COLUMNS = {
    "id": logs.c.id,
    "timestamp": logs.c.timestamp,
    "start_time": logs.c.start_time,
    "cost": logs.c.cost,
    "latency": logs.c.latency,
    "time_to_first_token": logs.c.time_to_first_token,
    "tokens_per_second": logs.c.tokens_per_second,
    "prompt_tokens": logs.c.prompt_tokens,
    "completion_tokens": logs.c.completion_tokens,
    "all_tokens": logs.c.total_request_tokens,
    "total_request_tokens": logs.c.total_request_tokens,
}


# Sort keys that are never null: a page in their order can start right after the row that
# ended the one before (keyset), ties broken by id.
KEYSET_SORTS = ("id", "timestamp")


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
        if sort_by.lstrip("-") not in KEYSET_SORTS:
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

    def where(self) -> ColumnElement[bool]:
        """Rows after this one in its order (the column bound first, for the index)."""
        descending = self.sort_by.startswith("-")
        column = SORT_COLUMNS[self.sort_by.lstrip("-")]
        if column is logs.c.id:
            return logs.c.id < self.id if descending else logs.c.id > self.id
        if descending:
            return (column <= self.value) & ((column < self.value) | (logs.c.id < self.id))
        return (column >= self.value) & ((column > self.value) | (logs.c.id > self.id))


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
        if self.page < 1:
            raise Invalid.at("page", "must be an integer ≥ 1")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise Invalid.at("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
        if self.sort_by.lstrip("-") not in SORT_COLUMNS:
            allowed = ", ".join(SORT_COLUMNS)
            raise Invalid.at("sort_by", f"unknown sort key '{self.sort_by}'; allowed: {allowed}")
        if self.start_time and self.end_time and self.start_time > self.end_time:
            raise Invalid.at("start_time", "must not be after end_time")

    def window(self) -> tuple[datetime, datetime]:
        end = self.end_time or utcnow()
        return self.start_time or end - DEFAULT_WINDOW, end

    def where(self, org_id: int, window: tuple[datetime, datetime]) -> ColumnElement[bool]:
        return _matching(org_id, self.filters, *window)

    def order_by(self) -> list[ColumnElement[Any]]:
        """Logs without the sort value come last either way, as PostgreSQL puts them ascending."""
        column = SORT_COLUMNS[self.sort_by.lstrip("-")]
        tie = logs.c.id.desc() if self.sort_by.startswith("-") else logs.c.id.asc()
        key = column.desc() if self.sort_by.startswith("-") else column.asc()
        if column.nullable:
            key = key.nulls_last()
        return [key, tie] if column is not logs.c.id else [key]


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

    def where(self, org_id: int) -> ColumnElement[bool]:
        clauses = [logs.c.file_id == self.file_id]
        if self.version_id:
            clauses.append(logs.c.version_id == self.version_id)
        if self.ids:  # substring match on log ids, any of them
            clauses.append(or_(*(logs.c.unique_id.contains(i, autoescape=True) for i in self.ids)))
        if self.search:
            clauses.append(
                or_(
                    store.json_text(logs.c.input).contains(self.search, autoescape=True),
                    store.json_text(logs.c.output).contains(self.search, autoescape=True),
                )
            )
        if self.metadata_search:
            text = store.json_text(logs.c.metadata)
            clauses.append(text.contains(self.metadata_search, autoescape=True))
        if self.start_date:
            clauses.append(logs.c.timestamp >= self.start_date)
        if self.end_date:
            clauses.append(logs.c.timestamp <= self.end_date)
        if self.in_trace is not None:
            nested = logs.c.span_parent_id.is_not(None) | logs.c.log_type.in_(NEEDS_IO)
            clauses.append(nested if self.in_trace else ~nested)
        return store.org_scope(org_id, *clauses)


def file_logs(engine: Engine, principal: Principal, query: FileLogQuery) -> tuple[int, list[Row]]:
    offset = (query.page - 1) * query.size
    with engine.connect() as conn:
        where = query.where(principal.org_id)
        total = store.count(conn, where)
        return total, store.page(conn, where, [logs.c.id.desc()], offset, query.size)


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
    offset, start = (query.page - 1) * query.page_size, None
    if query.after is not None and query.after.continues(query):
        offset, start = 0, query.after.where()
    with engine.connect() as conn:
        total = _total(conn, principal.org_id, query.filters, window, where)
        rows = store.page(conn, where, query.order_by(), offset, query.page_size, start)
    cursor = Cursor.after(query.page, query.sort_by, rows[-1]) if rows else None
    return total, rows, cursor


def _matching(
    org_id: int, filters: Group, low: datetime, high: datetime, *, up_to_high: bool = True
) -> ColumnElement[bool]:
    """The caller's logs from `low` to `high` (included unless `up_to_high` is False) that
    pass the filters. One bound on each side: SQLite ranges an index by one of each."""
    upper = logs.c.timestamp <= high if up_to_high else logs.c.timestamp < high
    scope = compile_filter(filters, org_id)
    return store.org_scope(org_id, logs.c.timestamp >= low, upper, scope)


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
        _matching(org_id, filters, start, first, up_to_high=False),
        _matching(org_id, filters, last, end),
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


def delete_logs(engine: Engine, principal: Principal, unique_ids: list[str]) -> int:
    """Delete the caller's logs among `unique_ids`; returns how many there were."""
    with begin_write(engine) as conn:
        deleted = store.delete_many(conn, principal.org_id, unique_ids)
        files.count_logs(conn, (row.version_id for row in deleted), -1, utcnow())
        rollups.add(conn, principal.org_id, rollups.deltas(deleted, -1))
        metadata_index.remove(conn, (row._mapping for row in deleted))
    return len(deleted)
