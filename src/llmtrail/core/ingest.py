"""Writing new logs: finalize them in the caller's thread, commit them with the group writer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.store.tables import logs
from llmtrail.store.writer import GroupCommitWriter, Submission


async def write_logs(
    writer: GroupCommitWriter,
    principal: Principal,
    batch: Sequence[LogData],
    after: Callable[[Connection], None] | None = None,
) -> list[dict[str, Any]]:
    """Store the logs atomically; returns their rows once the transaction holding them commits."""
    now = utcnow()
    rows = [to_row(finalize(log, now), principal, now) for log in batch]
    await asyncio.wrap_future(writer.submit(Submission([(logs, rows)], after=after)))
    return rows
