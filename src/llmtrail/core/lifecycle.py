"""A log's life: how it starts, how it is filled in and completed (seeds 001 and 002).

The same rules for every dialect. A new log with no parent roots a trace of its own. A Flow
or Agent log (Keywords AI `workflow` or `agent`) starts `incomplete` unless it already shows
its inputs and an output, output message or error, and completes only once it does. While
a log is incomplete its telemetry may still change; `complete` is one-way, closes the log
to new children and freezes its telemetry.
Completing stamps `end_time` and publishes `LogsCompleted` in the same transaction, which
the writer commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmtrail.core import events
from llmtrail.core.annotations import record_many
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import (
    COMPLETE,
    INCOMPLETE,
    NEEDS_IO,
    TEXT_LENGTHS,
    LogData,
    cut_to_columns,
    text_errors,
)
from llmtrail.core.privacy import Policy
from llmtrail.errors import FieldError, Invalid, NotFound
from llmtrail.store import logs as store
from llmtrail.store.writer import Writer, WriteTx, apply

STATUSES = (INCOMPLETE, COMPLETE)
OUTPUTS = ("output", "completion_message", "error_message")
TEXT_FIELDS = (*TEXT_LENGTHS, "metadata")  # what `text_errors` reads of a new log
# Columns that annotate rather than describe the call: they stay editable after completion.
ANNOTATIONS = ("metadata",)


def completion_errors(
    values: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[FieldError]:
    """Why a Flow or Agent log with these values cannot be complete. Errors name the fields
    by `names` (column -> the dialect's field name; columns by default)."""
    name = (lambda column: names.get(column, column)) if names else str
    errors = []
    if values.get("input") is None:
        errors.append(
            FieldError((name("input"),), "inputs are required to complete this log", "missing")
        )
    if all(values.get(column) is None for column in OUTPUTS):
        wanted = ", ".join(name(c) for c in OUTPUTS)
        errors.append(
            FieldError(
                (name("output"),), f"one of {wanted} is required to complete this log", "missing"
            )
        )
    return errors


def start(
    log: LogData,
    names: Mapping[str, str] | None = None,
    *,
    linked: bool = False,
    ended: bool = False,
) -> None:
    """Apply the rules of a new log, in place: its id, its status, its place in a trace.

    `linked` says the writer will hang it under a parent (`traces.ParentLink`); a log
    that is not linked and names no parent roots a trace of its own. Refuses a status that
    is not one, and a Flow or Agent log sent complete without its inputs or an output,
    unless `ended`: the call is over and nothing will complete it later (an exported span),
    so it is stored complete with what it shows.
    """
    log.unique_id = log.unique_id or new_id()
    if ended:
        cut_to_columns(log)
    elif too_long := text_errors({name: getattr(log, name) for name in TEXT_FIELDS}, names):
        raise Invalid(too_long)
    status_field = (names or {}).get("log_status", "log_status")
    if log.log_status is not None and log.log_status not in STATUSES:
        raise Invalid.at(status_field, "must be 'complete' or 'incomplete'", "enum")
    if log.log_type in NEEDS_IO:
        missing = completion_errors({c: getattr(log, c) for c in ("input", *OUTPUTS)}, names)
        if log.log_status == COMPLETE and missing and not ended:
            raise Invalid(missing)
        log.log_status = log.log_status or (INCOMPLETE if missing and not ended else COMPLETE)
    if not linked and log.trace_unique_id is None and log.span_parent_id is None:
        log.trace_unique_id = log.unique_id
    log.span_unique_id = log.span_unique_id or log.unique_id


async def update_log(
    writer: Writer,
    principal: Principal,
    unique_id: str,
    changes: dict[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    log_type: str | None = None,
    file_id: str | None = None,
    source: str,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """Apply `changes` (columns -> values; `extra` merges) to a log, all or nothing; returns
    the log's columns as committed.

    `log_type` and `file_id` say what the route expects the log to be; a log that is not
    that is not found. `names` maps columns to the dialect's field names for error messages.
    What the organization masks (`policy`) is masked in the changes, as at ingest.
    """
    if too_long := text_errors(changes, names):
        raise Invalid(too_long)
    blur = False
    if policy is not None:
        changes, blur = policy.mask_columns(changes)
    update = UpdateLog(principal, unique_id, changes, names, log_type, file_id, source, blur)
    return await apply(writer, update)


@dataclass(frozen=True)
class UpdateLog:
    """`update_log`, in the writer's transaction."""

    principal: Principal
    unique_id: str
    changes: dict[str, Any]
    names: Mapping[str, str] | None
    log_type: str | None
    file_id: str | None
    source: str
    blur: bool = False  # something in the changes was masked: the log is blurred

    def __call__(self, tx: WriteTx) -> dict[str, Any]:
        org_id = self.principal.org_id
        changes = dict(self.changes)
        status = changes.pop("log_status", None)
        row = store.get_locked(tx.conn, org_id, self.unique_id)
        if row is None or (self.log_type and row.log_type != self.log_type):
            raise NotFound("Log not found")
        if self.file_id is not None and row.file_id != self.file_id:
            raise NotFound("Log not found")
        current = dict(row._mapping)
        if "extra" in changes:
            changes["extra"] = {**(current["extra"] or {}), **changes["extra"]}
        values = {k: v for k, v in changes.items() if v != current[k]}
        errors = _rule_errors(current, values, status, self.names)
        if errors:
            raise Invalid(errors)
        if self.blur and not current["blurred"]:
            values["blurred"] = True
        now = utcnow()
        # Only an incomplete log completes; one created without a status was taken as finished
        # when stored (its end_time set, LogsCompleted published) and only records the status.
        completing = status == COMPLETE and current["log_status"] == INCOMPLETE
        if status is not None and status != current["log_status"]:
            values["log_status"] = status
        if "error_message" in values:
            failed = values["error_message"] is not None
            values["status"], values["status_code"] = (
                ("failed", 400) if failed else ("success", 200)
            )
        if completing:
            values.setdefault("end_time", now)
            values["timestamp"] = values["end_time"]
            start = values.get("start_time", current["start_time"])
            if current["latency"] is None and start is not None:
                values["latency"] = max((values["end_time"] - start).total_seconds(), 0.0)
        record_many(tx, self.principal, [(current, values)], self.source, now)
        if completing:
            tx.publish(events.LogsCompleted(org_id, (current["id"],), (self.unique_id,)))
        return {**current, **values}


def _rule_errors(
    current: dict[str, Any],
    values: dict[str, Any],
    status: str | None,
    names: Mapping[str, str] | None,
) -> list[FieldError]:
    names = names or {}
    status_field = names.get("log_status", "log_status")
    if status is not None and status not in STATUSES:
        return [FieldError((status_field,), "must be 'complete' or 'incomplete'", "enum")]
    if current["log_status"] is None and status == INCOMPLETE:
        return [
            FieldError(
                (status_field,),
                "a log created without log_status is already finished; it cannot become incomplete",
                "log_complete",
            )
        ]
    if current["log_status"] == COMPLETE:
        errors = []
        if status == INCOMPLETE:
            errors.append(
                FieldError(
                    (status_field,),
                    "a complete log cannot go back to incomplete",
                    "log_complete",
                )
            )
        for column in values:
            if column not in ANNOTATIONS:
                errors.append(
                    FieldError(
                        (names.get(column, column),),
                        "the log is complete: its telemetry no longer changes",
                        "log_complete",
                    )
                )
        return errors
    if status == COMPLETE and current["log_type"] in NEEDS_IO:
        return completion_errors({**current, **values}, names)
    return []
