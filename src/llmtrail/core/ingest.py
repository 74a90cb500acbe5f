"""Writing new logs: finalize them in the caller's thread, commit them with the group writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from llmtrail.core import events, lifecycle
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import INCOMPLETE, LogData, finalize, to_row
from llmtrail.core.privacy import Policy
from llmtrail.core.traces import ParentLink
from llmtrail.store import files, metadata_index, rollups
from llmtrail.store import logs as store_logs
from llmtrail.store.driver import insert_rows
from llmtrail.store.tables import logs
from llmtrail.store.writer import After, Submission, Work, Writer, WriteTx


@dataclass(frozen=True)
class LogsStored:
    """What the transaction that stores new logs does after inserting them: the rollups, the
    File-version counters and the metadata index take them in, and the logs are published as
    created and, those not left incomplete, as completed, so follow-up work commits with the
    logs or not at all; `then`, if any, is what this kind of log also does there (an
    evaluator log scores the log it judges). Plain data, as it crosses to the writer process.

    The writer follows up every submission of a commit at once (`together`): each table takes
    in the logs of all of them in one statement, not one a request (on PostgreSQL each is a
    round trip, and the rollup upserts of every request of a commit update the same rows)."""

    org_id: int
    now: datetime
    then: After | None = None

    def __call__(self, tx: WriteTx, submission: Submission) -> None:
        self.together(tx, [submission])

    @staticmethod
    def together(tx: WriteTx, submissions: list[Submission]) -> None:
        stored = []
        for submission in submissions:
            after = submission.after
            assert isinstance(after, LogsStored)
            [(_, rows)] = submission.inserts
            stored.append((after, submission, rows))
        every = [row for _, _, rows in stored for row in rows]
        rollups.add_stored(tx.conn, [row["id"] for row in every])
        uses = ((row["version_id"], after.now) for after, _, rows in stored for row in rows)
        files.count_logs(tx.conn, uses, 1)
        metadata_index.add(tx.conn, every)
        for after, submission, rows in stored:
            tx.publish(events.LogsCreated(after.org_id, *_ids(rows)))
            done = [row for row in rows if row["log_status"] != INCOMPLETE]
            tx.publish(events.LogsCompleted(after.org_id, *_ids(done)))
            if after.then is not None:
                after.then(tx, submission)


def _ids(rows: Sequence[dict[str, Any]]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    return tuple(row["id"] for row in rows), tuple(row["unique_id"] for row in rows)


async def write_logs(
    writer: Writer,
    principal: Principal,
    batch: Sequence[LogData],
    parent: ParentLink | None = None,
    names: Mapping[str, str] | None = None,
    then: After | None = None,
    *,
    spans: bool = False,
    also: Callable[[list[dict[str, Any]]], Work] | None = None,
    policy: Policy | None = None,
) -> list[dict[str, Any]]:
    """Store the logs atomically; returns their rows once the transaction holding them commits.

    Each starts its life by the same rules (`lifecycle.start`; `names` are the dialect's
    field names for its errors). In the transaction that stores them `parent` may still
    refuse them (raising a domain error) or link them into its trace, and `LogsStored` runs,
    then `then`. `spans` says they are exported spans: ended calls, delivered at least once
    (a log whose id is stored already is skipped, and not followed up, not refused), whose
    agents and workflows repeat the usage of their children (not priced again). `also`
    makes, from the rows, work the same transaction does (the receipt of an idempotent
    request): if it fails, nothing is stored. `policy` is what the organization masks
    (`core/privacy.py`): masked here, before anything is stored or derived from the logs.
    """
    now = utcnow()
    rows = new_rows(
        principal, batch, now, names, linked=parent is not None, spans=spans, policy=policy
    )
    stored = LogsStored(principal.org_id, now, then)
    unique = ("org_id", "unique_id") if spans else ()
    submission = Submission(
        [(logs, rows)],
        after=stored,
        prepare=parent,
        skip_existing=unique,
        work=also(rows) if also is not None else None,
    )
    await writer.write(submission)
    return rows


def new_rows(
    principal: Principal,
    batch: Sequence[LogData],
    now: datetime,
    names: Mapping[str, str] | None = None,
    *,
    linked: bool = False,
    spans: bool = False,
    policy: Policy | None = None,
) -> list[dict[str, Any]]:
    """The `logs` rows of new logs, each started by the same rules (`lifecycle.start`),
    masked by `policy`, then finalized (`write_logs` says what the flags mean)."""
    for log in batch:
        lifecycle.start(log, names, linked=linked, ended=spans)
        if policy is not None:
            policy.mask_log(log)
    return [to_row(finalize(log, now, price_aggregates=not spans), principal, now) for log in batch]


def store_rows(conn: Connection, org_id: int, rows: list[dict[str, Any]], now: datetime) -> None:
    """Store new log rows in the caller's transaction, outside the writer (a job's commit
    step): inserted, taken in by `LogsStored`, and their events dispatched as the writer
    would hand them on, so follow-up work (online evaluation) commits with them."""
    tx = WriteTx(conn)
    insert_rows(conn, logs, rows)
    stored = LogsStored(org_id, now)
    stored(tx, Submission([(logs, rows)], after=stored))
    events.dispatch(tx, tx.published)


@dataclass(frozen=True)
class FillEmpty:
    """Set columns of stored logs that have no value yet, in the writer's transaction: what
    arrives after a log (GenAI events exported apart from their span) completes it without
    overwriting anything. Returns how many logs changed."""

    org_id: int
    values: Mapping[str, Mapping[str, Any]]  # log id -> columns
    blur: frozenset[str] = frozenset()  # the logs whose values were masked

    def masked(self, policy: Policy | None) -> FillEmpty:
        """The same fill with the organization's masking applied to its values."""
        if policy is None:
            return self
        values, blur = {}, set()
        for unique_id, columns in self.values.items():
            values[unique_id], changed = policy.mask_columns(dict(columns))
            if changed:
                blur.add(unique_id)
        return FillEmpty(self.org_id, values, frozenset(blur))

    def __call__(self, tx: WriteTx) -> int:
        changes = []
        for unique_id, row in store_logs.get_many(tx.conn, self.org_id, self.values).items():
            empty = {k: v for k, v in self.values[unique_id].items() if getattr(row, k) is None}
            if empty and unique_id in self.blur:
                empty["blurred"] = True
            if empty:
                changes.append((row.id, empty))
        store_logs.update_many(tx.conn, changes)
        return len(changes)
