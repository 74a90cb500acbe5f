"""Typed results of the Keywords AI dialect, mirroring the server's answer models.

They are the client's own copies, not imports of the server's, so the SDK installs and
imports without it. Every model keeps the fields it does not declare (`extra="allow"`):
a newer server's additions reach the caller instead of breaking the parse. Fields the
server may leave null default to None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- logs ---------------------------------------------------------------------------------


class Log(Model):
    """A stored log (`GET /api/request-logs/{id}/`). `input` and `output` are JSON text."""

    id: str
    unique_id: str
    log_type: str
    log_status: str | None = None
    timestamp: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    created_at: datetime | None = None
    model: str | None = None
    provider_id: str | None = None
    status: str
    status_code: int
    error_message: str | None = None
    failed: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_request_tokens: int | None = None
    prompt_cache_hit_tokens: int | None = None
    prompt_cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: float | None = None
    latency: float | None = None
    time_to_first_token: float | None = None
    tokens_per_second: float | None = None
    customer_identifier: str | None = None
    thread_identifier: str | None = None
    custom_identifier: str | int | None = None
    trace_unique_id: str | None = None
    span_unique_id: str | None = None
    span_parent_id: str | None = None
    span_name: str | None = None
    span_workflow_name: str | None = None
    stream: bool = False
    positive_feedback: bool | None = None
    note: str | None = None
    input: str | None = None
    output: str | None = None
    prompt_messages: list[dict[str, Any]] | None = None
    completion_message: dict[str, Any] | None = None
    metadata: dict[str, Any] = {}
    environment: str
    scores: dict[str, dict[str, Any]] = {}


class CreatedLog(Model):
    """201 of `POST /api/request-logs/`."""

    id: str
    unique_id: str
    status: str
    cost: float | None = None
    timestamp: datetime
    environment: str
    latency: float | None = None
    time_to_first_token: float | None = None


class BulkError(Model):
    index: int
    error: str


class BulkResult(Model):
    """`POST /api/request-logs/bulk/`: which rows were refused, and why."""

    success_count: int
    error_count: int
    errors: list[BulkError]


class BatchUpdateResult(Model):
    message: str
    updated_count: int
    logs: list[Log]


class Revision(Model):
    """One change to one annotation field."""

    id: int
    timestamp: datetime
    api_key_id: int | None = None
    source: str
    field: str
    old_value: Any = None
    new_value: Any = None


class History(Model):
    unique_id: str
    count: int
    results: list[Revision]


class Summary(Model):
    """Aggregates over the logs a filter selects; averages are None when nothing measured."""

    number_of_requests: int
    total_cost: float
    total_tokens: int
    total_prompt_tokens: int
    total_completion_tokens: int
    avg_latency: float | None = None
    avg_tps: float | None = None
    avg_ttft: float | None = None
    scores: dict[str, Any] = {}


# --- evaluation ---------------------------------------------------------------------------


class Stored(Model):
    created_at: datetime
    updated_at: datetime


class Evaluator(Stored):
    id: str
    name: str
    evaluator_slug: str
    type: str
    score_value_type: str
    description: str = ""
    categorical_choices: list[Any] = []
    passing_conditions: dict[str, Any] = {}
    score_config: dict[str, Any] = {}
    llm_config: dict[str, Any] = {}
    code_config: dict[str, Any] = {}
    rule_config: dict[str, Any] = {}


class ScoreValue(Model):
    """A value in the field its evaluator's type keeps, and whether it passes."""

    evaluator_id: str
    evaluator_slug: str
    score_value_type: str
    numerical_value: float | None = None
    string_value: str | None = None
    boolean_value: bool | None = None
    categorical_value: list[str] | None = None
    json_value: Any = None
    is_passed: bool | None = None
    explanation: str | None = None
    error: str | None = None
    cost: float | None = None


class RunResult(ScoreValue):
    """`POST /api/evaluators/{id}/run/`: a verdict, not stored."""

    score: Any = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency: float | None = None


class Score(ScoreValue, Stored):
    id: str
    evaluator_name: str
    log_id: str
    environment: str
    source: str


class ConditionSummary(Model):
    id: str
    condition_slug: str
    name: str
    condition_type: str


class Condition(ConditionSummary, Stored):
    description: str = ""
    condition_policy: dict[str, Any]


class EvaluatorDetail(Model):
    id: str
    name: str
    evaluator_slug: str


class Automation(Stored):
    id: str
    automation_slug: str
    name: str
    automation_type: str
    condition: ConditionSummary | None = None
    evaluator_ids: list[str]
    evaluator_details: list[EvaluatorDetail] = []
    is_enabled: bool
    configuration: dict[str, Any] = {}


class Job(Stored):
    id: int
    kind: str
    origin: str | None = None
    state: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any] = {}
    last_error: str | None = None
    run_after: datetime


class OriginSummary(Model):
    origin: str
    by_state: dict[str, int]


class JobsSummary(Model):
    """Jobs by state (`pending`, `running`, `done`, `dead`, `cancelled`), overall and by
    origin (`automation:<id>`, ...)."""

    total: int
    by_state: dict[str, int]
    by_origin: list[OriginSummary]
