"""Filling in and completing a log (Humanloop's log updates, seeds 001 and 002).

A log may be created `incomplete` and filled in later. While it is, its telemetry may still
change; `complete` is one-way, closes the log to new children and freezes its telemetry. A
Flow or Agent log completes only once it has inputs and an output, output message or error.
Completing stamps `end_time` and publishes `LogsCompleted` in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row

from llmtrail.core import events
from llmtrail.core.annotations import record
from llmtrail.core.errors import FieldError, Invalid, NotFound
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import COMPLETE, INCOMPLETE, NEEDS_IO
from llmtrail.store import logs as store
from llmtrail.store.database import begin_write

STATUSES = (INCOMPLETE, COMPLETE)
OUTPUTS = ("output", "completion_message", "error_message")
# Columns that annotate rather than describe the call: they stay editable after completion.
ANNOTATIONS = ("metadata",)


def completion_errors(values: dict[str, Any], names: dict[str, str]) -> list[FieldError]:
    """Why a Flow or Agent log with these values cannot be complete (`names`: column -> field)."""
    errors = []
    if values.get("input") is None:
        errors.append(
            FieldError((names["input"],), "inputs are required to complete this log", "missing")
        )
    if all(values.get(column) is None for column in OUTPUTS):
        wanted = ", ".join(names[c] for c in OUTPUTS)
        errors.append(
            FieldError(
                (names["output"],), f"one of {wanted} is required to complete this log", "missing"
            )
        )
    return errors


def update_log(
    engine: Engine,
    principal: Principal,
    unique_id: str,
    changes: dict[str, Any],
    *,
    names: dict[str, str],
    log_type: str | None = None,
    file_id: str | None = None,
    source: str,
) -> Row:
    """Apply `changes` (columns -> values; `extra` merges) to a log, all or nothing.

    `log_type` and `file_id` say what the route expects the log to be; a log that is not
    that is not found. `names` maps columns to the dialect's field names for error messages.
    """
    changes = dict(changes)
    status = changes.pop("log_status", None)
    with begin_write(engine) as conn:
        row = store.get_locked(conn, principal.org_id, unique_id)
        if row is None or (log_type and row.log_type != log_type):
            raise NotFound("Log not found")
        if file_id is not None and row.file_id != file_id:
            raise NotFound("Log not found")
        current = dict(row._mapping)
        if "extra" in changes:
            changes["extra"] = {**(current["extra"] or {}), **changes["extra"]}
        values = {k: v for k, v in changes.items() if v != current[k]}
        errors = _rule_errors(current, values, status, names)
        if errors:
            raise Invalid(errors)
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
        record(conn, principal, current, values, source, now)
        if completing:
            events.publish(conn, events.LogsCompleted(principal.org_id, (unique_id,)))
        return store.get_by_unique_id(conn, principal.org_id, unique_id)  # type: ignore[return-value]


def _rule_errors(
    current: dict[str, Any], values: dict[str, Any], status: str | None, names: dict[str, str]
) -> list[FieldError]:
    status_field = names["log_status"]
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
