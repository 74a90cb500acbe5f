"""Writing new logs: finalize them in the caller's thread, commit them with the group writer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from llmtrail.core import events
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import INCOMPLETE, LogData, finalize, to_row
from llmtrail.core.traces import Attach
from llmtrail.store import files
from llmtrail.store.tables import logs
from llmtrail.store.writer import GroupCommitWriter, Submission


async def write_logs(
    writer: GroupCommitWriter,
    principal: Principal,
    batch: Sequence[LogData],
    attach: Attach | None = None,
) -> list[dict[str, Any]]:
    """Store the logs atomically; returns their rows once the transaction holding them commits.

    In that same transaction `attach` may still refuse them (raising a domain error) or link
    them into a trace, their File versions' counters move, and `LogsCompleted` is published
    for every log not left incomplete, so follow-up work commits with the logs or not at all.
    """
    now = utcnow()
    rows = [to_row(finalize(log, now), principal, now) for log in batch]

    def in_transaction(conn: Connection) -> None:
        files.count_logs(conn, (row["version_id"] for row in rows), 1, now)
        done = tuple(row["unique_id"] for row in rows if row["log_status"] != INCOMPLETE)
        events.publish(conn, events.LogsCompleted(principal.org_id, done))

    prepare = (lambda conn: attach(conn, rows)) if attach is not None else None
    submission = Submission([(logs, rows)], after=in_transaction, prepare=prepare)
    await asyncio.wrap_future(writer.submit(submission))
    return rows
