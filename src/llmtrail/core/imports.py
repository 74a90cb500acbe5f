"""Importing a JSON Lines export of logs (`core.exports`) into an organization of this store.

Each line is checked against `ExportedLog` and the logs go through the group writer in
batches, each committed atomically with what storing a log keeps up to date (rollups, the
metadata index, File counters). A log keeps its `unique_id`, and one whose id the
organization holds already is skipped (the writer's `skip_existing`, as for re-delivered
spans): an import that was interrupted and is run again adds each log once. Imported logs
are history: the import's writer has no subscribers, so no automation evaluates them again.

A line that is not an exported log stops the import there, naming the line and the field;
the batches before it stay committed, and running the import again after fixing the file
goes on from where it stopped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO

from pydantic import ValidationError
from sqlalchemy import DateTime, Engine

from llmtrail.core.exports import LOGS, ExportedLog
from llmtrail.core.ids import to_utc_naive, utcnow
from llmtrail.core.ingest import LogsStored
from llmtrail.core.privacy import Policy
from llmtrail.errors import FieldError, Invalid
from llmtrail.store import keys as store_keys
from llmtrail.store.database import begin_write
from llmtrail.store.tables import logs
from llmtrail.store.writer import GroupCommitWriter, Submission

BATCH_LINES = 500
IN_FLIGHT = 2  # batches sent and not yet committed: reading goes on while the writer writes
TIMES = tuple(name for name in LOGS.columns if isinstance(logs.c[name].type, DateTime))
Sent = tuple[Future[None], Submission, int, int]  # the batch, its size, bytes read with it


@dataclass
class Progress:
    """How far an import is: bytes read of the file, logs written and logs already stored."""

    bytes_read: int = 0
    written: int = 0
    skipped: int = 0


def organization(engine: Engine, name: str) -> int:
    """The id of the organization the logs go into; it is created when new (a new store)."""
    with begin_write(engine) as conn:
        return store_keys.org_id(conn, name, utcnow())


def import_logs(
    writer: GroupCommitWriter, org_id: int, source: IO[bytes], policy: Policy | None = None
) -> Iterator[Progress]:
    """Import the logs of `source`, yielding the progress after each committed batch, masked
    by the organization's `policy` as new logs are. Raises `Invalid` at the first line that
    is not an exported log."""
    progress = Progress()
    sent: deque[Sent] = deque()
    batch: list[dict] = []
    for number, line in enumerate(source, start=1):
        progress.bytes_read += len(line)
        if line.strip():
            batch.append(_row(line, number, org_id, policy))
        if len(batch) >= BATCH_LINES:
            sent.append(_send(writer, org_id, batch, progress.bytes_read))
            batch = []
        while len(sent) > IN_FLIGHT:
            yield _committed(sent.popleft(), progress)
    if batch:
        sent.append(_send(writer, org_id, batch, progress.bytes_read))
    while sent:
        yield _committed(sent.popleft(), progress)


def _row(line: bytes, number: int, org_id: int, policy: Policy | None) -> dict:
    try:
        record = ExportedLog.model_validate_json(line)
    except ValidationError as exc:
        raise Invalid(
            [FieldError(("line", number, *e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
        ) from None
    row = record.model_dump()
    for name in TIMES:
        row[name] = to_utc_naive(row[name])
    row["org_id"] = org_id
    if policy is not None:
        row, masked = policy.mask_columns(row)
        row["blurred"] = row["blurred"] or masked
    return row


def _send(writer: GroupCommitWriter, org_id: int, rows: list[dict], read: int) -> Sent:
    submission = Submission(
        [(logs, rows)],
        after=LogsStored(org_id, utcnow()),
        skip_existing=("org_id", "unique_id"),
    )
    return writer.submit(submission), submission, len(rows), read


def _committed(sent: Sent, progress: Progress) -> Progress:
    future, submission, offered, read = sent
    future.result()  # raises what refused the batch
    written = sum(len(rows) for _, rows in submission.inserts)
    progress.written += written
    progress.skipped += offered - written
    return Progress(read, progress.written, progress.skipped)
