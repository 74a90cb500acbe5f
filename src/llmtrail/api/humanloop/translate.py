"""Humanloop wire shapes <-> the domain's logs and Files.

Log responses carry no type tag: the SDK tells a Flow log from a Prompt log by which nested
File object (`flow`, `prompt`, ...) validates, so every response nests the complete File
with every field the SDK requires (contract §4.1, §4.4).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import Row

from llmtrail.api.humanloop.schemas import (
    EvaluatorLogBody,
    LogBody,
    MonitoringChange,
    MonitoringItem,
    MonitoringVersion,
    VersionChange,
)
from llmtrail.api.wire import json_text
from llmtrail.core import scores, templates
from llmtrail.core.evaluators import EvaluatorRef
from llmtrail.core.files import FILE_TYPE_OF_LOG, LOG_TYPES, FileType
from llmtrail.core.ids import iso, new_id, to_utc_naive
from llmtrail.core.judgments import Judgments
from llmtrail.core.logs import COMPLETE, LogData
from llmtrail.core.traces import Node

# Humanloop field -> `logs` column.
COLUMNS = {
    "inputs": "input",
    "output": "output",
    "error": "error_message",
    "messages": "prompt_messages",
    "output_message": "completion_message",
    "prompt_tokens": "prompt_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "output_tokens": "completion_tokens",
    "prompt_cost": "prompt_cost",
    "output_cost": "completion_cost",
    "provider_latency": "latency",
    "start_time": "start_time",
    "end_time": "end_time",
    "metadata": "metadata",
    "user": "customer_identifier",
    "log_status": "log_status",
}
FIELDS = {column: name for name, column in COLUMNS.items()}
# Humanloop fields with no column of their own: kept in the log's `extra`.
EXTRAS = (
    "stdout",
    "provider_request",
    "provider_response",
    "source",
    "environment",
    "save",
    "source_datapoint_id",
    "run_id",
    "finish_reason",
    "tool_choice",
    "judgment",
    "marked_completed",
    "created_at",
)
# Body fields that name the File or the log, not the call.
_ADDRESSING = {"path", "id", "log_id", "trace_parent_id", "parent_id", "trace_status"}
_KERNELS = {"prompt", "agent", "flow", "tool", "spec"}


def split_fields(body: BaseModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body's fields as (column changes, extra changes); `trace_status` counts as log_status.

    Only fields the body's schema declares reach columns, validated: a field it does not
    declare is kept in `extra` as sent, even when another body names a column after it (a
    Flow update carries no `end_time`; completing the log sets it)."""
    data = body.model_dump(exclude_unset=True, mode="python")
    undeclared = body.model_extra or {}
    if "trace_status" in data and data.get("log_status") is None:
        data["log_status"] = data["trace_status"]
    columns, extra = {}, {}
    for name, value in data.items():
        if name in COLUMNS and name not in undeclared:
            # Datetimes are stored naive in UTC.
            columns[COLUMNS[name]] = to_utc_naive(value) if isinstance(value, datetime) else value
        elif name not in _ADDRESSING and name not in _KERNELS:
            # The EXTRAS, and unknown fields, tolerated as the Keywords side keeps them.
            extra[name] = value.isoformat() if isinstance(value, datetime) else value
    return columns, extra


def to_log_data(file_type: FileType, body: LogBody, version: Row) -> LogData:
    """A new log from a `*.log` body, written against `version`. Its Humanloop id is also
    its span id; a parent, if any, is linked when it is stored (`traces.ParentLink`)."""
    columns, extra = split_fields(body)
    unique_id = body.log_id or new_id("log_")
    kernel = version.kernel or {}
    return LogData(
        unique_id=unique_id,
        log_type=LOG_TYPES[file_type],
        log_method="humanloop_api",
        file_id=version.file_id,
        version_id=version.version_id,
        model=kernel.get("model") if isinstance(kernel.get("model"), str) else None,
        provider_id=kernel.get("provider") if isinstance(kernel.get("provider"), str) else None,
        prompt_name=version.path if file_type is FileType.PROMPT else None,
        span_unique_id=unique_id,
        span_name=version.name,
        extra=extra or None,
        **columns,
    )


def evaluator_parent_id(body: LogBody) -> str | None:
    return body.parent_id if isinstance(body, EvaluatorLogBody) else body.trace_parent_id


def created(file_type: FileType, row: dict[str, Any]) -> dict[str, Any]:
    """The `Create*LogResponse` of §1.2."""
    out: dict[str, Any] = {"id": row["unique_id"], "version_id": row["version_id"]}
    if file_type is FileType.EVALUATOR:
        out["parent_id"] = row["span_parent_id"]
    else:
        out[f"{file_type.value}_id"] = row["file_id"]
    if file_type in (FileType.PROMPT, FileType.TOOL, FileType.EVALUATOR):
        out["session_id"] = None
    else:
        out["log_status"] = out["trace_status"] = row["log_status"]
    return out


def template_inputs(template: Any) -> list[dict[str, str]]:
    """The `{{variables}}` a prompt template uses, in order of first use."""
    text = orjson.dumps(template).decode() if not isinstance(template, str) else template
    return [{"name": n} for n in dict.fromkeys(templates.VARIABLE.findall(text or ""))]


def environment_object(env: Row) -> dict[str, Any]:
    """An EnvironmentResponse."""
    return {"id": env.id, "created_at": iso(env.created_at), "name": env.name, "tag": env.tag}


def file_object(
    version: Row,
    usage: tuple[int, datetime | None] | None,
    evaluators: list[dict[str, Any]] | None = None,
    deployed: Iterable[Row] = (),
    directory_id: str | None = None,
) -> dict[str, Any]:
    """The File response (FlowResponse, PromptResponse, ...) at `version`, with its
    monitoring `evaluators` (MonitoringEvaluatorResponse), the environments the version
    is `deployed` to and the directory it is in (at its path's parent), if one is there."""
    total, last_used = usage or (version.version_logs_count, version.last_used_at)
    kernel = dict(version.kernel or {})
    out: dict[str, Any] = {}
    kind = FileType(version.type)
    if kind in (FileType.PROMPT, FileType.AGENT, FileType.TOOL):
        out.update(kernel)
    out.update(
        id=version.file_id,
        path=version.path,
        name=version.name,
        type=version.type,
        directory_id=directory_id,
        version_id=version.version_id,
        version_name=version.version_name,
        version_description=version.version_description,
        created_at=iso(version.created_at),
        updated_at=iso(version.updated_at),
        last_used_at=iso(last_used or version.updated_at),
        version_logs_count=version.version_logs_count,
        total_logs_count=total,
        environments=[environment_object(env) for env in deployed],
        evaluators=evaluators or [],
        tags=[],
    )
    if kind is FileType.FLOW:
        out["attributes"] = kernel.get("attributes") or {}
    elif kind is FileType.EVALUATOR:
        out["spec"] = kernel
        out["inputs"] = []
    elif kind is FileType.TOOL:
        params = (kernel.get("function") or {}).get("parameters") or {}
        out["inputs"] = [{"name": n} for n in (params.get("properties") or {})]
    else:
        out.setdefault("model", None)
        out["inputs"] = template_inputs(kernel.get("template"))
        if kind is FileType.AGENT:
            out["tools"] = kernel.get("tools") or []
            out["status"] = "committed"
    return out


class Files:
    """The File objects of an answer (its logs' Files, the evaluators that judged them, their
    monitoring evaluators), fetched once per answer: `versions` by id, `usage` per File,
    `newest` File id -> its newest version's id, `monitors` File id -> the automation that
    monitors it, `deployed` version id -> the environments it is deployed to."""

    def __init__(
        self,
        versions: dict[str, Row],
        usage: dict[str, tuple[int, Any]],
        newest: dict[str, str] | None = None,
        monitors: dict[str, Row] | None = None,
        deployed: dict[str, list[Row]] | None = None,
        directories: dict[str, str] | None = None,
    ) -> None:
        self._directories = directories or {}
        self._versions = versions
        self._deployed = deployed or {}
        self._usage = usage
        self._newest = newest or {}
        self._monitors = monitors or {}
        self._objects: dict[tuple[str, bool], dict[str, Any]] = {}

    def of(self, version_id: str | None, monitored: bool = True) -> dict[str, Any] | None:
        """The File object at the version; with its monitoring evaluators unless not
        `monitored` (how a monitoring evaluator is nested: evaluators may monitor each
        other, and objects must not nest one another without end)."""
        if version_id is None or version_id not in self._versions:
            return None
        key = (version_id, monitored)
        if key not in self._objects:
            version = self._versions[version_id]
            monitoring = self._monitoring(version.file_id) if monitored else []
            usage = self._usage.get(version.file_id)
            deployed = self._deployed.get(version_id, ())
            directory = self._directories.get(posixpath.dirname(version.path))
            self._objects[key] = file_object(version, usage, monitoring, deployed, directory)
        return self._objects[key]

    def newest(self, file_id: str, monitored: bool = True) -> dict[str, Any] | None:
        """The File at its newest version; None when it is gone (a deleted evaluator)."""
        return self.of(self._newest.get(file_id), monitored)

    def _monitoring(self, file_id: str) -> list[dict[str, Any]]:
        """MonitoringEvaluatorResponse of each evaluator that monitors the File."""
        automation = self._monitors.get(file_id)
        if automation is None:
            return []
        times = {"created_at": iso(automation.created_at), "updated_at": iso(automation.updated_at)}
        return [
            {
                "version_reference": {"type": "version", "version": evaluator},
                "version": evaluator,
                "state": "active",
                **times,
            }
            for evaluator in (self.newest(e, monitored=False) for e in automation.evaluator_ids)
            if evaluator is not None
        ]


# The columns `log_response` reads, so that a trace is fetched with these alone.
LOG_COLUMNS = (
    "id",
    "unique_id",
    "log_type",
    "log_status",
    "version_id",
    "trace_unique_id",
    "span_parent_id",
    "start_time",
    "end_time",
    "created_at",
    "input",
    "output",
    "prompt_messages",
    "completion_message",
    "error_message",
    "metadata",
    "extra",
    "latency",
    "customer_identifier",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "prompt_cost",
    "completion_cost",
)


def log_response(
    row: Row,
    files: Files,
    judgments: Judgments,
    node: Node | None = None,
    *,
    trace_flow_id: str | None = None,
    children: bool = False,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored log as the SDK's LogResponse union member for its File type, with its
    judgments (`evaluator_logs`)."""
    r = row._mapping
    extra = r["extra"] or {}
    kind = FILE_TYPE_OF_LOG.get(r["log_type"], FileType.PROMPT)
    out: dict[str, Any] = {k: v for k, v in extra.items() if k not in EXTRAS}
    out.update(
        id=r["unique_id"],
        log_id=r["unique_id"],
        evaluator_logs=evaluator_logs(r, files, judgments),
        start_time=iso(r["start_time"]),
        end_time=iso(r["end_time"]),
        output=json_text(r["output"]),
        created_at=extra.get("created_at") or iso(r["created_at"]),
        error=r["error_message"],
        provider_latency=r["latency"],
        stdout=extra.get("stdout"),
        provider_request=extra.get("provider_request"),
        provider_response=extra.get("provider_response"),
        inputs=r["input"] if isinstance(r["input"], dict) else None,
        source=extra.get("source"),
        metadata=r["metadata"],
        log_status=r["log_status"],
        trace_status=r["log_status"],
        source_datapoint_id=extra.get("source_datapoint_id"),
        trace_parent_id=r["span_parent_id"] if kind is not FileType.EVALUATOR else None,
        batches=None,
        user=r["customer_identifier"],
        environment=extra.get("environment"),
        save=extra.get("save", True),
        trace_flow_id=trace_flow_id,
        trace_id=r["trace_unique_id"],
        trace_children=[],
        output_message=r["completion_message"],
    )
    if kind in (FileType.PROMPT, FileType.AGENT, FileType.FLOW):
        out["messages"] = r["prompt_messages"]
    if kind in (FileType.PROMPT, FileType.AGENT):
        out.update(
            prompt_tokens=r["prompt_tokens"],
            reasoning_tokens=r["reasoning_tokens"],
            output_tokens=r["completion_tokens"],
            prompt_cost=r["prompt_cost"],
            output_cost=r["completion_cost"],
            finish_reason=extra.get("finish_reason"),
            tool_choice=extra.get("tool_choice"),
        )
    if kind is FileType.EVALUATOR:
        out.update(
            parent_id=r["span_parent_id"],
            parent=parent,
            judgment=extra.get("judgment"),
            marked_completed=extra.get("marked_completed"),
        )
    file = files.of(r["version_id"])
    if file is not None:
        out[kind.value] = file
    if node is not None:
        _with_trace(out, kind, node, files, judgments, trace_flow_id, children)
    return out


def _with_trace(
    out: dict[str, Any],
    kind: FileType,
    node: Node,
    files: Files,
    judgments: Judgments,
    trace_flow_id: str | None,
    children: bool,
) -> None:
    """Nested children and, for Flow and Agent logs, the totals over the trace."""
    if children:
        out["trace_children"] = [
            log_response(c.row, files, judgments, c, trace_flow_id=trace_flow_id, children=True)
            for c in node.children
        ]
    if kind in (FileType.FLOW, FileType.AGENT) and node.children:
        totals = node.totals()
        out.update(
            start_time=iso(totals["start_time"]) or out["start_time"],
            end_time=iso(totals["end_time"]) or out["end_time"],
            prompt_tokens=totals["prompt_tokens"],
            output_tokens=totals["completion_tokens"],
            reasoning_tokens=totals["reasoning_tokens"],
            prompt_cost=totals["prompt_cost"],
            output_cost=totals["completion_cost"],
            cost=totals["cost"],
        )


def evaluator_logs(
    log: Mapping[str, Any], files: Files, judgments: Judgments
) -> list[dict[str, Any]]:
    """A log's judgments: one an evaluator log gave as that log, any other (an automation's,
    a score of the Keywords AI API) as an evaluator log made of the score. A judgment whose
    evaluator was deleted is left out, as an evaluator log must name its evaluator's File."""
    out = []
    for score in judgments.scores.get(log["id"], ()):
        evaluator = files.newest(score.evaluator_id)
        if evaluator is None:
            continue
        source = judgments.source_of(score)
        if source is None:
            out.append(score_log(score, log, evaluator))
            continue
        answer = log_response(source, files, judgments)
        answer["error"] = answer["error"] or score.error  # say why a judgment was refused
        out.append(answer)
    return out


# What a score has no value for, as an evaluator log.
_NOT_IN_A_SCORE = (
    "start_time",
    "end_time",
    "stdout",
    "provider_request",
    "provider_response",
    "inputs",
    "metadata",
    "source_datapoint_id",
    "trace_parent_id",
    "batches",
    "user",
    "environment",
    "trace_flow_id",
    "output_message",
    "parent",
    "marked_completed",
)


def score_log(score: Row, log: Mapping[str, Any], evaluator: dict[str, Any]) -> dict[str, Any]:
    """A score that no evaluator log gave, as the EvaluatorLogResponse of its evaluator
    (at its newest version) on `log`: the score's id, value, explanation and error."""
    value = scores.value_of(score)
    out: dict[str, Any] = dict.fromkeys(_NOT_IN_A_SCORE)
    out.update(
        id=score.id,
        log_id=score.id,
        evaluator_logs=[],
        trace_children=[],
        output=score.explanation,
        created_at=iso(score.created_at),
        error=score.error,
        provider_latency=score.latency,
        source=score.source,
        log_status=COMPLETE,
        trace_status=COMPLETE,
        save=True,
        trace_id=log["trace_unique_id"],
        parent_id=log["unique_id"],
        judgment=json_text(value) if score.value_type == "json" else value,
        evaluator=evaluator,
    )
    return out


def version_changes(body: VersionChange | None) -> dict[str, Any]:
    """The `version_name` and `version_description` a version PATCH sets (null unsets)."""
    sent = body.model_dump(exclude_unset=True) if body is not None else {}
    return {f"version_{f}": v for f, v in sent.items() if f in ("name", "description")}


def monitor_refs(body: MonitoringChange) -> tuple[list[EvaluatorRef], list[EvaluatorRef]]:
    """The evaluators to activate and to deactivate, each with the field that named it."""

    def refs(name: str, items: list[MonitoringItem] | None) -> list[EvaluatorRef]:
        return [
            EvaluatorRef((name, i, "evaluator_version_id"), version_id=item.evaluator_version_id)
            if isinstance(item, MonitoringVersion)
            else EvaluatorRef((name, i, "evaluator_id"), file_id=item.evaluator_id)
            for i, item in enumerate(items or ())
        ]

    return refs("activate", body.activate), refs("deactivate", body.deactivate)


def version_ids(rows: Iterable[Row]) -> set[str]:
    return {r.version_id for r in rows if r.version_id}
