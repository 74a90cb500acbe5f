"""Exporting logs as JSON Lines or CSV, streamed as they are read, in constant memory.

An exported log is every column of its row but the store's own keys (`id`, `org_id`): its
`unique_id`, telemetry, annotations, environment, key id and times (UTC, ISO 8601 with `Z`).
That is what a log is wherever it is stored, so `llmtrail logs import` (`core.imports`) reads
a JSON Lines export back, field for field, into another store, SQLite or PostgreSQL.

Rows are read a page at a time (`store.exports.keyset_pages`) and each page is encoded and
handed on before the next is read: memory holds one page whatever the export's size. JSON
columns are read as the text the database holds and written out without being decoded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, JsonValue, create_model
from sqlalchemy import JSON, Column, Engine, Row, Table, select

from llmtrail.core import datasets
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.store import datasets as store_datasets
from llmtrail.store import exports as store
from llmtrail.store import logs as store_logs
from llmtrail.store.predicates import Group
from llmtrail.store.tables import SNAPSHOT_COLUMNS, dataset_logs, logs


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


MEDIA_TYPES = {Format.jsonl: "application/x-ndjson", Format.csv: "text/csv; charset=utf-8"}
_JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True)
class Layout:
    """The columns of a table an export writes, in order, and which of them hold JSON."""

    table: Table
    columns: tuple[str, ...]
    json: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        json = {name for name in self.columns if isinstance(self.table.c[name].type, JSON)}
        object.__setattr__(self, "json", frozenset(json))

    @classmethod
    def of(cls, table: Table, internal: Iterable[str]) -> Layout:
        """Every column of `table` but the `internal` ones."""
        hidden = set(internal)
        return cls(table, tuple(c.name for c in table.columns if c.name not in hidden))

    def select(self, key: Column[Any]) -> Any:
        """`key`, then the exported columns, JSON ones as their stored text."""
        chosen = [self.table.c[name] for name in self.columns]
        return select(key, *(store.as_text(c) if c.name in self.json else c for c in chosen))

    def model(self, name: str, doc: str) -> type[BaseModel]:
        """A strict model of one exported record, from the columns' types and nullability:
        what the OpenAPI document shows and what an import checks each line against."""
        fields: dict[str, Any] = {}
        for column_name in self.columns:
            column = self.table.c[column_name]
            kind: Any = JsonValue if column_name in self.json else column.type.python_type
            fields[column_name] = (kind | None, None) if column.nullable else (kind, ...)
        config = ConfigDict(strict=True, extra="forbid")
        return create_model(name, __config__=config, __doc__=doc, **fields)


LOGS = Layout.of(logs, ("id", "org_id"))
ExportedLog = LOGS.model(
    "ExportedLog",
    "One log of an export: every stored field but the store's own keys (a line of JSON Lines, "
    "a row of CSV).",
)
# A dataset log: the log's fields as they were copied (or given), its target, and when it
# was added and last changed.
DATASET_LOGS = Layout(dataset_logs, (*SNAPSHOT_COLUMNS, "target", "added_at", "updated_at"))
ExportedDatasetLog = DATASET_LOGS.model(
    "ExportedDatasetLog",
    "One log of a dataset export: the log's fields as the dataset holds them, its `target` "
    "(an expected output) and when it was added and last changed.",
)


@dataclass(frozen=True)
class LogSelection:
    """Which logs an export takes: the log list's filters, in a time range that is open on
    either side unless given (an export takes the whole history by default)."""

    filters: Group = field(default_factory=Group)
    start_time: datetime | None = None
    end_time: datetime | None = None

    def __post_init__(self) -> None:
        if self.start_time and self.end_time and self.start_time > self.end_time:
            raise Invalid.at("start_time", "must not be after end_time")

    def where(self, org_id: int) -> Any:
        return store.logs_where(org_id, self.filters, self.start_time, self.end_time)


def log_pages(
    engine: Engine, principal: Principal, selection: LogSelection, size: int = store.PAGE_ROWS
) -> Iterator[Sequence[Row]]:
    """The selected logs, oldest stored first, `size` a page."""
    query = LOGS.select(logs.c.id).where(selection.where(principal.org_id))
    return store.keyset_pages(engine, query, logs.c.id, size)


def dataset_pages(
    engine: Engine, principal: Principal, dataset_id: str, size: int = store.PAGE_ROWS
) -> Iterator[Sequence[Row]]:
    """The logs a dataset holds now, in the order they were added; 404 for a dataset that is
    not the organization's, at once, before any row is read."""
    datasets.get(engine, principal, dataset_id)
    query = DATASET_LOGS.select(dataset_logs.c.id).where(store_datasets.current(dataset_id))
    return store.keyset_pages(engine, query, dataset_logs.c.id, size)


def count_logs(engine: Engine, principal: Principal, selection: LogSelection) -> int:
    with engine.connect() as conn:
        return store_logs.count(conn, selection.where(principal.org_id))


def encode(pages: Iterable[Sequence[Row]], layout: Layout, fmt: Format) -> Iterator[bytes]:
    """The export's bytes, one chunk per page (CSV starts with its header, at once)."""
    return _jsonl(pages, layout) if fmt is Format.jsonl else _csv(pages, layout)


def _jsonl(pages: Iterable[Sequence[Row]], layout: Layout) -> Iterator[bytes]:
    names, json = layout.columns, layout.json
    for rows in pages:
        chunk = bytearray()
        for row in rows:
            record = dict(zip(names, row[1:], strict=True))
            for name in json:
                if record[name] is not None:
                    record[name] = orjson.Fragment(record[name])
            chunk += orjson.dumps(record, option=_JSON_OPTIONS)
            chunk += b"\n"
        yield bytes(chunk)


def _csv(pages: Iterable[Sequence[Row]], layout: Layout) -> Iterator[bytes]:
    """RFC 4180: a header row, fields quoted when they hold a comma, a quote or a line break;
    an empty field is null; JSON columns hold their JSON text, booleans true/false."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(layout.columns)
    yield _drain(buffer)
    for rows in pages:
        writer.writerows([_cell(value) for value in row[1:]] for row in rows)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return chunk


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return value
