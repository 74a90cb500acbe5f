"""`llmtrail logs export | import` and `llmtrail datasets export`: moving logs out of a store
and into another, with progress bars on stderr (so an export can go to stdout)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from sqlalchemy import Row

from llmtrail.cli.common import engine, err, refused
from llmtrail.core import datasets, exports, imports, privacy
from llmtrail.core import keys as key_service
from llmtrail.core.filters import combine, parse_filters, parse_quick_filters
from llmtrail.core.ids import to_utc_naive
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.store.predicates import Group
from llmtrail.store.writer import GroupCommitWriter

logs_app = typer.Typer(help="Export logs, and import an export.", no_args_is_help=True)
datasets_app = typer.Typer(help="Export a dataset's logs.", no_args_is_help=True)

FILTER_HELP = (
    "A filter of the log list: FIELD=VALUE or FIELD[operator]=OP as in its URL (a field that "
    "is no log field is a metadata key), or a JSON object of its body's `filters`. Repeat it: "
    "all must hold."
)


def parse_cli_filters(specs: Sequence[str]) -> Group:
    """`--filter` values: JSON objects in the body form, the rest URL quick filters."""
    groups, quick = [], []
    for index, spec in enumerate(specs):
        if spec.lstrip().startswith("{"):
            try:
                groups.append(parse_filters(orjson.loads(spec), ("filter", index)))
            except orjson.JSONDecodeError as exc:
                raise Invalid.at(("filter", index), f"is not a JSON object: {exc}") from None
            continue
        key, sep, value = spec.partition("=")
        if not sep or not key:
            raise Invalid.at(("filter", index), f"'{spec}' is neither FIELD=VALUE nor JSON")
        quick.append((key, value))
    return combine(parse_quick_filters(quick, set()), *groups)


@contextmanager
def _output(path: Path | None) -> Iterator[IO[bytes]]:
    if path is None:
        yield sys.stdout.buffer
        return
    with path.open("wb") as out:
        yield out


class Counted:
    """Pages of rows, counted as they are handed on: the progress of an export."""

    def __init__(self, pages: Iterable[Sequence[Row]]) -> None:
        self._pages = pages
        self.rows = 0

    def __iter__(self) -> Iterator[Sequence[Row]]:
        for rows in self._pages:
            self.rows += len(rows)
            yield rows


def write_export(
    pages: Iterable[Sequence[Row]],
    layout: exports.Layout,
    fmt: exports.Format,
    output: Path | None,
    total: int | None,
) -> None:
    """Encode and write an export a page at a time, with a bar of the rows written."""
    counted = Counted(pages)
    columns = (TextColumn("rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar, _output(output) as out:
        task = bar.add_task("export", total=total)
        for chunk in exports.encode(counted, layout, fmt):
            out.write(chunk)
            bar.update(task, completed=counted.rows)


@logs_app.command("export")
def export_logs(
    org: str = typer.Option("default", help="The organization whose logs are exported."),
    filter: list[str] = typer.Option([], "--filter", help=FILTER_HELP),
    start_time: datetime | None = typer.Option(None, help="Logs from then on (UTC if naive)."),
    end_time: datetime | None = typer.Option(None, help="Logs up to then (UTC if naive)."),
    format: exports.Format = typer.Option(exports.Format.jsonl, help="jsonl or csv."),
    output: Path | None = typer.Option(None, "-o", "--output", help="[default: stdout]"),
) -> None:
    """Export logs, oldest first, as the API's export does; `logs import` reads the JSON Lines
    back into any store."""
    database = engine()
    with refused():
        who = Principal.operator(key_service.organization(database, org))
        selection = exports.LogSelection(
            parse_cli_filters(filter), to_utc_naive(start_time), to_utc_naive(end_time)
        )
        total = exports.count_logs(database, who, selection)
        pages = exports.log_pages(database, who, selection)
        write_export(pages, exports.LOGS, format, output, total)
    err.print(f"{total} logs exported")


@logs_app.command("import")
def import_logs(
    source: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A JSON Lines file `logs export` wrote."
    ),
    org: str = typer.Option("default", help="The organization they go into; created when new."),
) -> None:
    """Import exported logs, ids kept: a log already stored is skipped, so an interrupted
    import run again adds each log once."""
    database = engine()
    size = os.stat(source).st_size if source.is_file() else None
    columns = (
        TextColumn("bytes"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[written]} imported, {task.fields[skipped]} already stored"),
    )
    writer = GroupCommitWriter(database)
    done = imports.Progress()
    try:
        with refused(), Progress(*columns, console=err) as bar, source.open("rb") as lines:
            task: TaskID = bar.add_task("import", total=size, written=0, skipped=0)
            org_id = imports.organization(database, org)
            policy = privacy.policy_of(database, org_id)  # the organization masks imports too
            for done in imports.import_logs(writer, org_id, lines, policy):
                counts = {"written": done.written, "skipped": done.skipped}
                bar.update(task, completed=done.bytes_read, **counts)
    finally:
        writer.close()
    err.print(f"{done.written} logs imported, {done.skipped} already stored")


@datasets_app.command("export")
def export_dataset(
    dataset_id: str = typer.Argument(..., help="The dataset's id (ds_...)."),
    org: str = typer.Option("default", help="The dataset's organization."),
    format: exports.Format = typer.Option(exports.Format.jsonl, help="jsonl or csv."),
    output: Path | None = typer.Option(None, "-o", "--output", help="[default: stdout]"),
) -> None:
    """Export the logs a dataset holds, in the order they were added, as the API's dataset
    export does."""
    database = engine()
    with refused():
        who = Principal.operator(key_service.organization(database, org))
        total = datasets.log_counts(database, [datasets.get(database, who, dataset_id)])
        pages = exports.dataset_pages(database, who, dataset_id)
        write_export(pages, exports.DATASET_LOGS, format, output, total[dataset_id])
    err.print(f"{total[dataset_id]} dataset logs exported")
