"""Writing new logs: finalize them in the caller's thread, commit them with the group writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from llmtrail.core import events
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import INCOMPLETE, LogData, finalize, to_row
from llmtrail.core.traces import ParentLink
from llmtrail.store import files, metadata_index, rollups
from llmtrail.store.tables import logs
from llmtrail.store.writer import Submission, Writer


@dataclass(frozen=True)
class LogsStored:
    """What the transaction that stores new logs does after inserting them: the rollups, the
    File-version counters and the metadata index take them in, and `LogsCompleted` is
    published for the ones not left incomplete, so follow-up work commits with the logs or
    not at all. Plain data, as it crosses to the writer process."""

    org_id: int
    now: datetime

    def __call__(self, conn: Connection, submission: Submission) -> None:
        [(_, rows)] = submission.inserts
        rollups.add(conn, self.org_id, rollups.deltas(rows))
        files.count_logs(conn, (row["version_id"] for row in rows), 1, self.now)
        metadata_index.add(conn, rows)
        done = tuple(row["unique_id"] for row in rows if row["log_status"] != INCOMPLETE)
        events.publish(conn, events.LogsCompleted(self.org_id, done))


async def write_logs(
    writer: Writer,
    principal: Principal,
    batch: Sequence[LogData],
    parent: ParentLink | None = None,
) -> list[dict[str, Any]]:
    """Store the logs atomically; returns their rows once the transaction holding them commits.

    In that same transaction `parent` may still refuse them (raising a domain error) or link
    them into its trace, and `LogsStored` runs.
    """
    now = utcnow()
    rows = [to_row(finalize(log, now), principal, now) for log in batch]
    submission = Submission([(logs, rows)], after=LogsStored(principal.org_id, now), prepare=parent)
    await writer.write(submission)
    return rows
