"""Deleting logs, with everything kept beside them: rollups, File counters, metadata index,
and the scores that evaluator logs among them gave."""

from __future__ import annotations

from dataclasses import dataclass

from llmtrail.core import events
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.traces import EVALUATION_TYPE as JUDGMENT
from llmtrail.errors import NotFound
from llmtrail.store import evaluation, files, metadata_index, rollups
from llmtrail.store import logs as store
from llmtrail.store.writer import Writer, WriteTx, apply


async def delete_logs(writer: Writer, principal: Principal, unique_ids: list[str]) -> int:
    """Delete the caller's logs among `unique_ids`; returns how many there were, and is a
    404 when there was none (another organization's logs are none of the caller's)."""
    deleted = await apply(writer, DeleteLogs(principal.org_id, tuple(unique_ids)))
    if not deleted:
        raise NotFound("Log not found")
    return deleted


@dataclass(frozen=True)
class DeleteLogs:
    """The deletion, in the writer's transaction."""

    org_id: int
    unique_ids: tuple[str, ...]

    def __call__(self, tx: WriteTx) -> int:
        deleted = store.delete_many(tx.conn, self.org_id, self.unique_ids)
        now = utcnow()
        files.count_logs(tx.conn, ((row.version_id, now) for row in deleted), -1)
        rollups.add(tx.conn, self.org_id, rollups.deltas(deleted, -1))
        metadata_index.remove(tx.conn, (row._mapping for row in deleted))
        # An evaluator log's judgment goes with it (its File is its evaluator).
        judgments = [(row.file_id, row.unique_id) for row in deleted if row.log_type == JUDGMENT]
        evaluation.delete_given_by(tx.conn, self.org_id, judgments)
        ids = tuple(row.id for row in deleted)
        tx.publish(events.LogsDeleted(self.org_id, ids, tuple(row.unique_id for row in deleted)))
        return len(deleted)
