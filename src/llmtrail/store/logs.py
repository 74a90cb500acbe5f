"""Queries over `logs` and `log_revisions`, always scoped to one organization."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Row,
    Text,
    TypeDecorator,
    and_,
    bindparam,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import ARRAY, Boolean

from llmtrail.store import rollups
from llmtrail.store import search as text_search
from llmtrail.store.driver import execute_many, fetch, insert_rows, one_of
from llmtrail.store.evaluation import scored_by
from llmtrail.store.filtering import compile_filter
from llmtrail.store.predicates import Group
from llmtrail.store.tables import log_revisions, logs, scores

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
SORT_KEYS = tuple(SORT_COLUMNS)
# Sort keys whose column is never null: a page in their order can start right after the row
# that ended the one before (keyset), ties broken by id.
KEYSET_SORTS = ("id", "timestamp")
NEWEST = "-id"


def org_scope(org_id: int, *clauses: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return and_(logs.c.org_id == org_id, *(c for c in clauses if c is not None))


def get_by_unique_id(conn: Connection, org_id: int, unique_id: str) -> Row | None:
    return conn.execute(
        select(logs).where(logs.c.org_id == org_id, logs.c.unique_id == unique_id)
    ).first()


def get_locked(conn: Connection, org_id: int, unique_id: str, share: bool = False) -> Row | None:
    """A log, row-locked until the transaction ends (PostgreSQL; SQLite's write lock is whole)."""
    query = select(logs).where(logs.c.org_id == org_id, logs.c.unique_id == unique_id)
    return conn.execute(query.with_for_update(read=share)).first()


# What a new child takes from its parent, read in the transaction that stores the child and
# share-locked there on PostgreSQL (SQLite's write lock covers the whole database).
_PARENT = (
    select(logs.c.log_status, logs.c.unique_id, logs.c.trace_unique_id, logs.c.span_unique_id)
    .where(logs.c.org_id == bindparam("org_id"), logs.c.unique_id == bindparam("unique_id"))
    .with_for_update(read=True)
)


def parent_link(conn: Connection, org_id: int, unique_id: str) -> tuple | None:
    """(log_status, unique_id, trace_unique_id, span_unique_id) of a log, or None."""
    found = fetch(conn, _PARENT, {"org_id": org_id, "unique_id": unique_id})
    return found[0] if found else None


class StoredJson(TypeDecorator[Any]):
    """A JSON value as the database holds it, undecoded, ready to be embedded in an answer.

    A large trace is mostly chat messages that are read only to be written out again; passing
    their stored text through (`orjson.Fragment`) saves decoding and re-encoding them.
    """

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> orjson.Fragment | None:
        return None if value is None else orjson.Fragment(value)


PASSED_THROUGH = (logs.c.prompt_messages, logs.c.completion_message, logs.c.metadata)


def traces_rows(
    conn: Connection, org_id: int, trace_ids: Iterable[str], columns: Iterable[str]
) -> list[Row]:
    """These columns of every log of these traces, in the order stored; messages and metadata
    as `StoredJson`. A trace can be tens of thousands of rows: each column left out is time
    saved."""
    ids = list(trace_ids)
    if not ids:
        return []
    chosen = [logs.c[name] for name in columns]
    selected = [cast(c, StoredJson).label(c.name) if c in PASSED_THROUGH else c for c in chosen]
    scope = (
        logs.c.trace_unique_id == ids[0]
        if len(ids) == 1
        else one_of(conn, logs.c.trace_unique_id, ids)
    )
    query = select(*selected).where(logs.c.org_id == org_id, scope)
    return conn.execute(query.order_by(logs.c.id)).all()


def get_many(conn: Connection, org_id: int, unique_ids: Iterable[str]) -> dict[str, Row]:
    ids = list(dict.fromkeys(unique_ids))
    found: dict[str, Row] = {}
    for start in range(0, len(ids), 500):  # stay under every driver's bound-parameter limit
        chunk = ids[start : start + 500]
        query = select(logs).where(logs.c.org_id == org_id, one_of(conn, logs.c.unique_id, chunk))
        found.update((row.unique_id, row) for row in conn.execute(query))
    return found


def matching(
    org_id: int, filters: Group, low: Any, high: Any, *, up_to_high: bool = True
) -> ColumnElement[bool]:
    """The organization's logs from `low` to `high` (included unless `up_to_high` is False)
    that pass the filters. One bound on each side: SQLite ranges an index by one of each."""
    upper = logs.c.timestamp <= high if up_to_high else logs.c.timestamp < high
    scope = compile_filter(filters, org_id)
    return org_scope(org_id, logs.c.timestamp >= low, upper, scope)


def file_scope(
    org_id: int,
    file_id: str,
    *,
    version_id: str | None = None,
    ids: Sequence[str] = (),
    search: str | None = None,
    metadata_search: str | None = None,
    start: Any = None,
    end: Any = None,
    in_trace: bool | None = None,
    trace_types: Sequence[str] = (),
    search_leads: bool = True,
) -> ColumnElement[bool]:
    """One File's logs: of a version, whose id contains one of `ids`, whose text (inputs,
    output, messages: `store.search`, led by its matches or not) or metadata contains a
    text, in a time range, in a trace or not (`trace_types` are the log types that own a
    trace of their own)."""
    clauses = [logs.c.file_id == file_id]
    if version_id:
        clauses.append(logs.c.version_id == version_id)
    wanted = list(dict.fromkeys(ids))
    if wanted and "" not in wanted:  # every id contains ""
        clauses.append(_contains_any(logs.c.unique_id, wanted))
    if search:
        clauses.append(text_search.matches(search, lead=search_leads))
    if metadata_search:
        clauses.append(json_text(logs.c.metadata).contains(metadata_search, autoescape=True))
    if start:
        clauses.append(logs.c.timestamp >= start)
    if end:
        clauses.append(logs.c.timestamp <= end)
    if in_trace is not None:
        nested = logs.c.span_parent_id.is_not(None) | logs.c.log_type.in_(list(trace_types))
        clauses.append(nested if in_trace else ~nested)
    return org_scope(org_id, *clauses)


SCORE_SORT = "scores__"  # `scores__EVALUATOR`: by that evaluator's score, unscored logs last


def sortable(sort_by: str) -> bool:
    key = sort_by.lstrip("-")
    return key in SORT_COLUMNS or (key.startswith(SCORE_SORT) and len(key) > len(SCORE_SORT))


def _score_of(org_id: int, sort_by: str) -> Any:
    """The evaluator's score of each log, as a column to sort by."""
    evaluator = sort_by.lstrip("-")[len(SCORE_SORT) :]
    return (
        select(scores.c.numerical_value)
        .where(scores.c.log_id == logs.c.id, scored_by(org_id, evaluator))
        .limit(1)
        .scalar_subquery()
    )


def _order_by(sort_by: str, org_id: int) -> list[ColumnElement[Any]]:
    """`-key` descending, `key` ascending, ties by id; logs without the sort value come last
    either way, as PostgreSQL puts them ascending."""
    descending = sort_by.startswith("-")
    if sort_by.lstrip("-").startswith(SCORE_SORT):
        value = _score_of(org_id, sort_by)
        key = value.desc() if descending else value.asc()
        return [key.nulls_last(), logs.c.id.desc() if descending else logs.c.id.asc()]
    column = SORT_COLUMNS[sort_by.lstrip("-")]
    key = column.desc() if descending else column.asc()
    if column is logs.c.id:
        return [key]
    if column.nullable:
        key = key.nulls_last()
    return [key, logs.c.id.desc() if descending else logs.c.id.asc()]


def _after(sort_by: str, value: Any, last_id: int) -> ColumnElement[bool]:
    """Rows after (value, last_id) in the order `sort_by` (the column bound first, for the
    index). Only for `KEYSET_SORTS`."""
    descending = sort_by.startswith("-")
    column = SORT_COLUMNS[sort_by.lstrip("-")]
    if column is logs.c.id:
        return logs.c.id < last_id if descending else logs.c.id > last_id
    if descending:
        return (column <= value) & ((column < value) | (logs.c.id < last_id))
    return (column >= value) & ((column > value) | (logs.c.id > last_id))


def page(
    conn: Connection,
    org_id: int,
    where: ColumnElement[bool],
    sort_by: str,
    offset: int,
    limit: int,
    after: tuple[Any, int] | None = None,
) -> list[Row]:
    """One page of matching logs in the order `sort_by`, from right after the row
    `after = (sort value, id)` when given."""
    if after is not None:
        where = and_(where, _after(sort_by, *after))
    query = select(logs).where(where).order_by(*_order_by(sort_by, org_id))
    return conn.execute(query.offset(offset).limit(limit)).all()


def count(conn: Connection, where: ColumnElement[bool]) -> int:
    return conn.scalar(select(func.count()).select_from(logs).where(where)) or 0


def update_many(conn: Connection, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Set columns of many logs by primary key, in order: one executemany per set of columns."""
    runs: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
    for log_pk, values in changes:
        columns = tuple(values)
        if not runs or runs[-1][0] != columns:
            runs.append((columns, []))
        runs[-1][1].append({"pk": log_pk, **{f"v_{c}": values[c] for c in columns}})
    for columns, params in runs:
        execute_many(conn, _update(columns), params)


@cache
def _update(columns: tuple[str, ...]) -> Update:
    """One UPDATE per set of columns, built once: the driver module compiles each once."""
    return (
        update(logs)
        .where(logs.c.id == bindparam("pk"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )


def add_revisions(conn: Connection, revisions: list[dict[str, Any]]) -> None:
    insert_rows(conn, log_revisions, revisions)


def revisions_of(conn: Connection, log_pk: int) -> list[Row]:
    query = select(log_revisions).where(log_revisions.c.log_id == log_pk)
    return conn.execute(query.order_by(log_revisions.c.id)).all()


def delete_many(conn: Connection, org_id: int, unique_ids: Sequence[str]) -> list[Row]:
    """Delete logs; returns what the rollups, the metadata index and the scores they gave
    need of each."""
    result = conn.execute(
        delete(logs)
        .where(logs.c.org_id == org_id, one_of(conn, logs.c.unique_id, unique_ids))
        .returning(
            *(
                logs.c[name]
                for name in dict.fromkeys(
                    (
                        "id",
                        "unique_id",
                        "org_id",
                        "version_id",
                        "file_id",
                        "log_type",
                        "metadata",
                        *rollups.DEPENDS_ON,
                    )
                )
            )
        )
    )
    return result.all()


class _contains_any(ColumnElement[bool]):
    """Whether a text column contains one of `texts`, with one parameter for them all: an
    OR of a thousand LIKEs is an expression tree deeper than SQLite takes (1,000)."""

    type = Boolean()
    inherit_cache = False  # the texts are in the statement's parameters, not its shape
    _is_implicitly_boolean = True  # a condition itself: never compared with 1 (SQLite)

    def __init__(self, column: ColumnElement[str], texts: Sequence[str]) -> None:
        self.column = column
        self.texts = list(texts)


@compiles(_contains_any, "sqlite")
def _contains_any_sqlite(element: _contains_any, compiler: Any, **kw: Any) -> str:
    texts = orjson.dumps([text_search.like_escaped(t) for t in element.texts]).decode()
    found = compiler.process(bindparam("texts", texts, unique=True), **kw)
    column = compiler.process(element.column, **kw)
    return (
        f"EXISTS (SELECT 1 FROM json_each({found}) AS t"
        f" WHERE {column} LIKE '%' || t.value || '%' ESCAPE '/')"
    )


@compiles(_contains_any, "postgresql")
def _contains_any_postgresql(element: _contains_any, compiler: Any, **kw: Any) -> str:
    patterns = [f"%{text_search.like_escaped(t, chr(92))}%" for t in element.texts]  # \ escapes
    found = compiler.process(bindparam("texts", patterns, type_=ARRAY(Text), unique=True), **kw)
    return f"{compiler.process(element.column, **kw)} LIKE ANY ({found})"


def json_text(column: Any) -> ColumnElement[str]:
    """A JSON column as text, for substring search (`jsonb::text` on PostgreSQL)."""
    return cast(column, Text)


def older_than(conn: Connection, org_id: int, cutoff: Any, limit: int) -> list[str]:
    """The unique ids of up to `limit` of the organization's logs from before `cutoff`,
    oldest first (by the (org_id, timestamp) index)."""
    query = (
        select(logs.c.unique_id)
        .where(logs.c.org_id == org_id, logs.c.timestamp < cutoff)
        .order_by(logs.c.timestamp, logs.c.id)
        .limit(limit)
    )
    return list(conn.scalars(query))
