"""Datasets and dataset logs in the Keywords AI shapes (contract §3.3, seed 004)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from llmtrail.api.wire import json_text
from llmtrail.core.ids import iso

# Identifiers the seed answers as "" when the log has none.
BLANK_WHEN_MISSING = (
    "prompt_id",
    "prompt_name",
    "trace_unique_id",
    "customer_identifier",
    "thread_identifier",
    "custom_identifier",
)


def dataset_object(row: Row, log_count: int) -> dict[str, Any]:
    """The dataset object: the union of what create, list and get answer."""
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "status": row.status,
        "running_status": row.running_status,
        "running_progress": row.running_progress,
        "running_at": iso(row.running_at),
        "organization_id": str(row.org_id),
        "organization": str(row.org_id),
        "unique_organization_ids": [str(row.org_id)],
        "path": row.path,
        "log_count": log_count,
        "initial_log_filters": row.initial_log_filters or {},
        # The window it was first filled from, [start, end] ([] for an empty one).
        "timestamps": [iso(t) for t in (row.start_time, row.end_time) if t is not None],
        "evaluator": None,
        "updated_by": None,
        "completed_annotation_count": 0,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _text_of(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p.get("text") for p in content if isinstance(p, dict))
        return "".join(p for p in parts if isinstance(p, str))
    return "" if content is None else json_text(content) or ""


def _messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [m for m in value if isinstance(m, dict)]
    return []


def dataset_log_object(row: Row | Mapping[str, Any]) -> dict[str, Any]:
    """A dataset log: every field of the seed's complete log object, `system`, `prompt`,
    `completion` and `messages` derived from the log's messages (or its input and output
    when it has none), plus what a direct create, patch or replace set."""
    r = row._mapping if isinstance(row, Row) else row
    messages = _messages(r["prompt_messages"])
    system = [m for m in messages if m.get("role") in ("system", "developer")]
    said = [m for m in messages if m not in system]
    completion = r["completion_message"]
    metadata = r["metadata"] or {}
    extra = r["extra"] or {}
    out: dict[str, Any] = {
        "id": r["unique_id"],
        "unique_id": r["unique_id"],
        "dataset_id": r["dataset_id"],
        "organization_id": str(r["org_id"]),
        "unique_organization_id": str(r["org_id"]),
        # The key's id (never the key): a non-secret name of the key that sent the log.
        "organization_key_id": None if r["api_key_id"] is None else str(r["api_key_id"]),
        "environment": r["environment"],
        "timestamp": iso(r["timestamp"]),
        "start_time": iso(r["start_time"]),
        **{name: r[name] or "" for name in BLANK_WHEN_MISSING},
        "log_type": r["log_type"],
        "prompt_tokens": r["prompt_tokens"],
        "completion_tokens": r["completion_tokens"],
        "total_request_tokens": r["total_request_tokens"],
        "cost": r["cost"],
        "model": r["model"],
        "latency": r["latency"],
        "tokens_per_second": r["tokens_per_second"],
        "time_to_first_token": r["time_to_first_token"],
        "routing_time": r["routing_time"] or 0.0,
        "status_code": r["status_code"],
        "status": r["status"],
        "blurred": r["blurred"],
        "metadata": {k: v for k, v in metadata.items() if not str(k).startswith("_")},
        "system": "\n".join(_text_of(m.get("content")) for m in system),
        "prompt": "\n".join(_text_of(m.get("content")) for m in said)
        if said
        else (json_text(r["input"]) or ""),
        "completion": _text_of(completion.get("content"))
        if isinstance(completion, dict)
        else (json_text(r["output"]) or ""),
        "messages": messages,
        "completion_message": completion if isinstance(completion, dict) else None,
        "input": json_text(r["input"]),
        "output": json_text(r["output"]),
        "target": r["target"],
        "parameters": extra.get("parameters") or {},
        "source_log_id": r["unique_id"] if r["source_log_id"] is not None else None,
        "annotation_status": "pending",
        "annotation_completed_by": None,
        "scores": [],
        "created_at": iso(r["added_at"]),
        "updated_at": iso(r["updated_at"]),
    }
    return out
