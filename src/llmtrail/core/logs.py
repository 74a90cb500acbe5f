"""The log: one record for every kind of call (chat, tool, workflow, agent, score, ...).

Telemetry (what happened) is fixed at ingest; annotations (what people say about it) stay
editable, and every change to them is kept as a revision. Each API dialect translates its
wire shape into `LogData` and back; the rules live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String

from llmtrail.bounds import MAX_METADATA_KEY_CHARS
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.pricing import cost_of
from llmtrail.errors import FieldError, Invalid
from llmtrail.store.tables import logs

# What people say about a log, which stays editable (seed 000); the server may also blur it.
ANNOTATION_FIELDS = ("metadata", "note", "positive_feedback", "custom_identifier")
EDITABLE_FIELDS = (*ANNOTATION_FIELDS, "blurred")
# A log's lifecycle (Humanloop `log_status`): incomplete -> complete, never back.
INCOMPLETE, COMPLETE = "incomplete", "complete"
# Log types that run a trace of their own (Flows and Agents): they must show what went in and
# what came out before they complete.
NEEDS_IO = ("workflow", "agent")
# Records of steps made of model calls: the usage an exported agent or workflow span reports
# repeats its children's, which are priced themselves (contract §5.5).
AGGREGATES = ("workflow", "agent", "task")
# Other spellings of a call's status, as clients send them.
STATUS_ALIASES = {"error": "failed"}


@dataclass(slots=True)
class LogData:
    """A log as the domain knows it, before it is stored. Every field maps to a column."""

    unique_id: str = ""
    log_type: str = "chat"
    log_method: str | None = None
    log_status: str | None = None
    file_id: str | None = None
    version_id: str | None = None
    timestamp: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    model: str | None = None
    provider_id: str | None = None
    status: str | None = None
    status_code: int | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_request_tokens: int | None = None
    prompt_cache_hit_tokens: int | None = None
    prompt_cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: float | None = None
    prompt_cost: float | None = None
    completion_cost: float | None = None
    latency: float | None = None
    time_to_first_token: float | None = None
    tokens_per_second: float | None = None
    routing_time: float | None = None
    customer_identifier: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    thread_identifier: str | None = None
    session_identifier: str | None = None
    custom_identifier: str | None = None
    group_identifier: str | None = None
    evaluation_identifier: str | None = None
    prompt_id: str | None = None
    prompt_name: str | None = None
    trace_unique_id: str | None = None
    span_unique_id: str | None = None
    span_parent_id: str | None = None
    span_name: str | None = None
    span_workflow_name: str | None = None
    stream: bool = False
    positive_feedback: bool | None = None
    note: str | None = None
    blurred: bool = False
    input: Any = None
    output: Any = None
    prompt_messages: Any = None
    completion_message: Any = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None


LOG_FIELDS = tuple(f.name for f in fields(LogData))
# The longest text each text column of a log holds, as the table declares it (PostgreSQL
# refuses longer; SQLite would keep it whole): ids 128 characters, names and identifiers 255.
TEXT_LENGTHS = {
    name: column.type.length
    for name in LOG_FIELDS
    if isinstance((column := logs.c[name]).type, String) and column.type.length
}
# Display names, often derived (a Humanloop File's path of up to 1,024 characters, a span's
# name): cut to their column, never refused.
CUT_TO_COLUMN = ("span_name", "prompt_name")


def text_errors(
    values: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    loc: tuple[str | int, ...] = (),
) -> list[FieldError]:
    """Text longer than its column holds, and metadata keys past MAX_METADATA_KEY_CHARS,
    each named by the dialect's field name (`names`: column -> field) under `loc`."""
    errors = []
    for name, longest in TEXT_LENGTHS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > longest and name not in CUT_TO_COLUMN:
            field = (names or {}).get(name, name)
            message = f"Ensure this field has no more than {longest} characters."
            errors.append(FieldError((*loc, field), message, "string_too_long"))
    metadata = values.get("metadata")
    for key in metadata if isinstance(metadata, dict) else ():
        if len(str(key)) > MAX_METADATA_KEY_CHARS:
            field = (names or {}).get("metadata", "metadata")
            message = f"A metadata key has at most {MAX_METADATA_KEY_CHARS} characters."
            errors.append(FieldError((*loc, field, str(key)[:40]), message, "string_too_long"))
    return errors


def cut_to_columns(log: LogData, names: tuple[str, ...] = tuple(TEXT_LENGTHS)) -> None:
    """Cut text to what its column holds (`names`: these columns): for exported spans, whose
    exporter cannot mend one attribute and would drop the whole batch over it."""
    for name in names:
        longest = TEXT_LENGTHS[name]
        value = getattr(log, name)
        if isinstance(value, str) and len(value) > longest:
            setattr(log, name, value[:longest])


def finalize(
    log: LogData, now: datetime | None = None, *, price_aggregates: bool = True
) -> LogData:
    """Fill what can be derived: id, times, token totals, throughput, status and cost (of
    `AGGREGATES` logs too unless `price_aggregates` is False: a cost they were sent stays)."""
    now = now or utcnow()
    log.unique_id = log.unique_id or new_id()
    if log.timestamp is None:
        log.timestamp = log.end_time or now
    if log.end_time is None and log.log_status != INCOMPLETE:
        log.end_time = log.timestamp  # a log that is not running any more has ended
    if log.latency is None and log.start_time is not None and log.log_status != INCOMPLETE:
        log.latency = max((log.timestamp - log.start_time).total_seconds(), 0.0)
    if log.start_time is None and log.latency is not None:
        try:
            log.start_time = log.timestamp - timedelta(seconds=log.latency)
        except OverflowError:
            raise Invalid.at("latency", "would start the log before the year 1") from None
    if log.total_request_tokens is None and (
        log.prompt_tokens is not None or log.completion_tokens is not None
    ):
        log.total_request_tokens = (log.prompt_tokens or 0) + (log.completion_tokens or 0)
    if log.tokens_per_second is None and log.completion_tokens and log.latency:
        log.tokens_per_second = log.completion_tokens / log.latency
    if log.status_code is None:
        log.status_code = 400 if log.error_message else 200
    if log.status is None:
        log.status = "failed" if log.error_message or log.status_code >= 400 else "success"
    log.status = STATUS_ALIASES.get(log.status, log.status)
    cut_to_columns(log, CUT_TO_COLUMN)
    if price_aggregates or log.log_type not in AGGREGATES:
        _price(log)
    return log


def _price(log: LogData) -> None:
    """Cost from genai-prices unless the caller gave one; an unknown model leaves it null."""
    if log.cost is not None:
        return
    if log.prompt_cost is not None or log.completion_cost is not None:
        log.cost = (log.prompt_cost or 0.0) + (log.completion_cost or 0.0)
        return
    cost = cost_of(
        log.model,
        log.provider_id,
        log.prompt_tokens,
        log.completion_tokens,
        log.prompt_cache_hit_tokens,
        log.prompt_cache_creation_tokens,
    )
    if cost is not None:
        log.cost, log.prompt_cost, log.completion_cost = cost.total, cost.prompt, cost.completion


def to_row(log: LogData, principal: Principal, now: datetime) -> dict[str, Any]:
    """The `logs` row for a finalized log, stamped with the caller's organization and key."""
    row = {name: getattr(log, name) for name in LOG_FIELDS}
    row["org_id"] = principal.org_id
    row["api_key_id"] = principal.key_id
    row["environment"] = principal.environment
    row["created_at"] = now
    return row
