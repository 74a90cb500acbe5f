"""Reading logs back: one log, a filtered page, summary aggregates, deletion."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row

from llmtrail.core.errors import Invalid, NotFound
from llmtrail.core.filters import Group
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.store import logs as store
from llmtrail.store.database import begin_write
from llmtrail.store.filtering import compile_filter
from llmtrail.store.tables import logs

MAX_PAGE_SIZE = 1000
DEFAULT_WINDOW = timedelta(hours=1)

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


@dataclass(frozen=True)
class LogQuery:
    """Which logs, in what order, which page. The time window defaults to the last hour."""

    filters: Group = field(default_factory=Group)
    start_time: datetime | None = None
    end_time: datetime | None = None
    page: int = 1
    page_size: int = 100
    sort_by: str = "-id"

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

    def where(self, org_id: int) -> ColumnElement[bool]:
        end = self.end_time or utcnow()
        start = self.start_time or end - DEFAULT_WINDOW
        window = (logs.c.timestamp >= start) & (logs.c.timestamp <= end)
        return store.org_scope(org_id, window, compile_filter(self.filters))

    def order_by(self) -> list[ColumnElement[Any]]:
        """Logs without the sort value come last either way, as PostgreSQL puts them ascending."""
        column = SORT_COLUMNS[self.sort_by.lstrip("-")]
        tie = logs.c.id.desc() if self.sort_by.startswith("-") else logs.c.id.asc()
        key = column.desc() if self.sort_by.startswith("-") else column.asc()
        if column.nullable:
            key = key.nulls_last()
        return [key, tie] if column is not logs.c.id else [key]


def get_log(engine: Engine, principal: Principal, unique_id: str) -> Row:
    with engine.connect() as conn:
        row = store.get_by_unique_id(conn, principal.org_id, unique_id)
    if row is None:
        raise NotFound("Log not found")
    return row


def list_logs(engine: Engine, principal: Principal, query: LogQuery) -> tuple[int, list[Row]]:
    query.validate()
    offset = (query.page - 1) * query.page_size
    with engine.connect() as conn:
        return store.page(
            conn, query.where(principal.org_id), query.order_by(), offset, query.page_size
        )


def summarize(engine: Engine, principal: Principal, query: LogQuery) -> dict[str, Any]:
    query.validate()
    with engine.connect() as conn:
        return dict(store.summary(conn, query.where(principal.org_id))._mapping)


def delete_log(engine: Engine, principal: Principal, unique_id: str) -> None:
    with begin_write(engine) as conn:
        if not store.delete_by_unique_id(conn, principal.org_id, unique_id):
            raise NotFound("Log not found")
