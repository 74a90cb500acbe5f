"""Answer bodies of the Keywords AI dialect: the request logs (contract §1), as `translate` and
the routes build them, and the evaluation surface (§2, §3.1, §3.2, seed 003), as
`evaluation_shapes` does; for the OpenAPI document and `response_model=`.

A field the server always sends has no default; one it sends only sometimes defaults to None.
401, 404 and 413 answer `api.responses.Detail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model
from typing_extensions import TypeAliasType

from llmtrail.api.humanloop.schemas import Status
from llmtrail.api.responses import Detail
from llmtrail.core import conditions, evaluators, jobs, scoring

Environment = Literal["prod", "test"]
# DRF-style messages: a list per field, nested objects for nested fields (`logs` → `0` → ...).
FieldMessages = TypeAliasType("FieldMessages", "list[str] | dict[str, FieldMessages]")


class LogObject(BaseModel):
    """A stored log, the Get-a-span object of §1.4: `GET` and `PATCH /api/request-logs/{id}/`,
    and each log in the list and batch-update answers."""

    # Telemetry sent beyond these fields (LLM parameters, tools, raw payloads, ...) comes back
    # as it was sent.
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The log's unique_id.")
    unique_id: str
    log_type: str
    log_method: str | None
    log_status: Status | None = Field(description="Humanloop's lifecycle; null for others.")
    file_id: str | None = Field(description="The Humanloop File the log was written against.")
    version_id: str | None
    timestamp: datetime
    start_time: datetime | None
    end_time: datetime | None = Field(description="Null while a Flow or Agent log runs.")
    created_at: datetime
    model: str | None
    provider_id: str | None
    status: str
    status_code: int
    error_message: str | None
    failed: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    total_request_tokens: int | None
    prompt_cache_hit_tokens: int | None
    prompt_cache_creation_tokens: int | None
    reasoning_tokens: int | None
    cost: float | None
    prompt_cost: float | None
    completion_cost: float | None
    latency: float | None
    time_to_first_token: float | None
    tokens_per_second: float | None
    routing_time: float | None
    customer_identifier: str | None
    customer_email: str | None
    customer_name: str | None
    thread_identifier: str | None
    session_identifier: str | None
    # A PATCH answers an integer as it was sent; it is stored, and read back, as text.
    custom_identifier: str | int | None
    group_identifier: str | None
    evaluation_identifier: str | None
    prompt_id: str | None
    prompt_name: str | None
    trace_unique_id: str | None
    span_unique_id: str | None
    span_parent_id: str | None
    span_name: str | None
    span_workflow_name: str | None
    stream: bool
    positive_feedback: bool | None
    note: str | None
    blurred: bool
    input: str | None = Field(description="JSON text unless a string was sent.")
    output: str | None = Field(description="JSON text unless a string was sent.")
    prompt_messages: list[dict[str, Any]] | None
    completion_message: dict[str, Any] | None
    metadata: dict[str, Any] = Field(description="Without the reserved `_` keys.")
    environment: Environment
    organization_key_id: str | None
    scores: dict[str, dict[str, Any]]
    # Sent-only fields the translator names (kept in the log's `extra`).
    prompt: dict[str, Any] | str | None = None
    completion_messages: list[dict[str, Any]] | None = None
    category: str | None = None
    trace_name: str | None = None
    warnings: str | None = Field(default=None, description="JSON text if an object was sent.")


class CreatedLog(BaseModel):
    """201 of `POST /api/request-logs/` and `/create/`: RA's CreateSpanResponse and the SDK's
    message."""

    id: str
    unique_id: str
    organization_id: int
    customer_identifier: str | None
    status: str
    cost: float | None
    timestamp: datetime
    environment: Environment
    latency: float | None
    time_to_first_token: float | None
    prompt_cache_creation_tokens: int | None
    prompt_cache_hit_tokens: int | None
    message: Literal["log successful"]


class BulkError(BaseModel):
    """Why one row of a bulk create was refused."""

    index: int = Field(description="The row's 0-based position in `logs`.")
    error: str


class BulkResult(BaseModel):
    """`POST /api/request-logs/bulk/`: 201 when a row was stored, 400 when none was (§1.2)."""

    success_count: int
    error_count: int
    errors: list[BulkError]


class Closed(BaseModel):
    """An answer with exactly these keys: one the server sends that no field declares fails
    validation (and shows in the OpenAPI document as `additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")


Item = TypeVar("Item")


class Page(Closed, Generic[Item]):
    """DRF's page of a list route: `count` over all pages, links that keep the query."""

    count: int
    next: str | None = Field(description="The next page's URL, null on the last page.")
    previous: str | None = Field(description="The previous page's URL, null on the first.")
    results: list[Item]


class LogList(Page[LogObject]):
    """`GET` and `POST /api/request-logs/list/`."""


class Summary(BaseModel):
    """`POST /api/request-logs/summary/` (§1.8); an average is null when nothing measured it."""

    number_of_requests: int
    total_cost: float
    total_tokens: int
    total_prompt_tokens: int
    total_completion_tokens: int
    avg_latency: float | None
    avg_tps: float | None
    avg_ttft: float | None
    scores: dict[str, Any]


class BatchUpdateResult(BaseModel):
    """`PATCH /api/request-logs/batch-update/`: the updated logs, in request order."""

    message: str
    updated_count: int
    logs: list[LogObject]


class Revision(BaseModel):
    """One change to one annotation field: who, when, from what, to what."""

    id: int
    timestamp: datetime
    api_key_id: int | None
    source: str = Field(description="The route that made the change: `patch`, `batch-update`.")
    field: str
    old_value: Any
    new_value: Any


class History(BaseModel):
    """`GET /api/request-logs/{id}/history/`: every change to the log, oldest first."""

    unique_id: str
    count: int
    results: list[Revision]


class FieldKeyed(BaseModel):
    """Broken rules DRF style: each field's messages sit under its name (`non_field_errors`
    for the body as a whole, `query` for the query string's)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, FieldMessages] = Field(init=False)


class FieldErrors(FieldKeyed):
    """400 of the request-log routes that take input, where `detail` also names each field and
    rule. A body that is not JSON has only `detail`."""

    detail: str


class BareFieldErrors(FieldKeyed):
    """The field-keyed errors of the evaluation routes, exactly the contract's bodies: every
    400, the 404 of an automation's unknown `condition`, the 422 of a condition's
    `condition_type`."""

    detail: str | None = Field(None, description="Only, and alone, when the body is not JSON.")


class ImmutableField(BaseModel):
    """400 of `PATCH /api/request-logs/{id}/` for a telemetry field (§1.6)."""

    error: Literal["Cannot update immutable field"]
    detail: str


# --- the evaluation surface ----------------------------------------------------------------

Kind = Literal[evaluators.KINDS]
ValueType = Literal[scoring.VALUE_TYPES]


class Timestamped(Closed):
    """The two moments every stored object answers."""

    created_at: datetime
    updated_at: datetime


class EvaluatorDetail(Closed):
    """An evaluator as an automation's `evaluator_details` name it (seed 003)."""

    id: str
    name: str
    evaluator_slug: str
    eval_class: str = Field(description="`keywordsai_custom_evaluator` for a custom one.")


class Evaluator(EvaluatorDetail, Timestamped):
    """An evaluator (§3.1): 201 of `POST /api/evaluators/`, `GET` and `PATCH
    /api/evaluators/{evaluator_id}/`, and each result of the list. The definition objects are
    answered as they were sent (merged by each PATCH), `{}` when never sent."""

    slug: str = Field(description="`evaluator_slug` again: the name the keywordsai SDK reads.")
    type: Kind
    score_value_type: ValueType
    eval_class: str = Field(description="Empty for a custom evaluator.")
    description: str
    categorical_choices: list[str | dict[str, Any]] = Field(
        description="Choice names, or objects naming one (`name`, `value` or `label`)."
    )
    passing_conditions: dict[str, Any] = Field(
        description="Filters on the score's value: `{primary_score: {operator, value}}`."
    )
    configurations: dict[str, Any] = Field(description="The legacy LLM definition.")
    score_config: dict[str, Any]
    llm_config: dict[str, Any]
    code_config: dict[str, Any]
    rule_config: dict[str, Any]
    custom_required_fields: list[str] = Field(description="Always empty.")
    starred: bool = Field(description="Always false.")
    tags: list[str] = Field(description="Always empty.")
    organization: int
    created_by: None = Field(description="Always null: llmtrail knows keys, not users.")
    updated_by: None = Field(description="Always null.")


class EvaluatorList(Page[Evaluator]):
    """`GET /api/evaluators/`."""


class ScoreValue(Closed):
    """A value of an evaluator's type, in the field its type keeps (the others null), and what
    it means: an evaluator run's, or a stored score's."""

    evaluator_id: str
    evaluator_slug: str
    score_value_type: ValueType
    numerical_value: float | None = Field(description="numerical and percentage.")
    string_value: str | None = Field(description="text.")
    boolean_value: bool | None
    categorical_value: list[str] | None = Field(description="single_select (one) and multi_select.")
    json_value: JsonValue = Field(description="json: any JSON value.")
    is_passed: bool | None = Field(
        description="Whether the value meets `passing_conditions`; null without them, or on error."
    )
    explanation: str | None
    error: str | None = Field(description="Why there is no value: the evaluator failed.")
    cost: float | None = Field(description="What an LLM judge's own call cost, in USD.")


class RunResult(ScoreValue):
    """`POST /api/evaluators/{evaluator_id}/run/`: the evaluator's verdict, not stored."""

    score: JsonValue = Field(description="The value itself, null on error.")
    prompt_tokens: int | None
    completion_tokens: int | None
    latency: float | None = Field(description="Seconds the judge or the code took.")


class Score(ScoreValue, Timestamped):
    """A stored score (§3.2): 201 of `POST /api/scores/` and `/api/logs/{log_id}/scores/`,
    `GET` and `PATCH` of one, and each result of their lists."""

    id: str
    type: ValueType = Field(description="`score_value_type` again.")
    environment: Environment = Field(description="The log's.")
    evaluator_name: str
    log_id: str = Field(description="The log's unique_id.")
    dataset_id: None = Field(description="Always null: no datasets yet.")
    source: str = Field(description="Who wrote it: `api`, or `automation:<id>`.")


class ScoreList(Page[Score]):
    """`GET /api/scores/` and `/api/logs/{log_id}/scores/`, newest first."""


class ScoreConflict(Closed):
    """409 of a second score by one evaluator on one log (§3.2)."""

    error: str


Operator = Literal[tuple(conditions.OPERATORS)]


class PolicyRule(BaseModel):
    """One rule of a condition's policy, as it was sent."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="A log field, or `metadata.<key>`.")
    operator: Operator
    value: JsonValue


class ConditionPolicy(BaseModel):
    """Which logs a condition selects (§5.3), as it was sent."""

    model_config = ConfigDict(extra="allow")

    rules: list[PolicyRule]
    connector: str = Field("AND", description="AND or OR, in any case; AND when not sent.")


class ConditionSummary(Closed):
    """A condition as an automation's `condition` names it (seed 003)."""

    id: str
    condition_slug: str
    name: str
    condition_type: Literal["single_log"]


class Condition(ConditionSummary, Timestamped):
    """A condition (§2.4): 201 of `POST /automation/conditions/`, `GET` and `PATCH` of one,
    and each result of the list."""

    description: str
    condition_policy: ConditionPolicy
    unique_organization_id: str


class ConditionList(Page[Condition]):
    """`GET /automation/conditions/` (§2.5)."""

    filters_data: dict[str, Any] = Field(description="Always empty.")


class AutomationConfiguration(BaseModel):
    """An automation's configuration: as sent and merged by each PATCH, with `evaluator_ids`
    echoed."""

    model_config = ConfigDict(extra="allow")

    evaluator_ids: list[str]
    sampling_rate: float = Field(ge=0, le=1, description="The share of matching logs evaluated.")


class Automation(Timestamped):
    """An automation as seed 003 answers it: 201 of `POST /automation/automations/`, `GET` and
    `PATCH` of one, and each result of the list."""

    id: str
    automation_slug: str
    name: str
    automation_type: Literal["online_eval", "file_monitor"] = Field(
        description="`file_monitor`: a Humanloop File's monitoring, reached by id only."
    )
    condition: ConditionSummary | None = Field(description="Null for a `file_monitor`.")
    evaluator_ids: list[str]
    evaluator_details: list[EvaluatorDetail] = Field(description="One per evaluator, in order.")
    is_enabled: bool
    configuration: AutomationConfiguration


# 404 of `PATCH /automation/automations/{id}/`: the automation (`detail`), or the `condition`
# it is given (field-keyed).
AutomationNotFound = TypeAliasType("AutomationNotFound", Detail | BareFieldErrors)


class AutomationList(Page[Automation]):
    """`GET /automation/automations/` (online evaluations only), newest first."""


class Job(Timestamped):
    """A background job: each result of `GET /api/jobs/`."""

    id: int
    kind: str = Field(description="`evaluate`, or another registered kind.")
    origin: str | None = Field(description="What queued it: `automation:<id>`, ...")
    state: Literal[jobs.STATES]
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    last_error: str | None
    run_after: datetime


class JobList(Page[Job]):
    """`GET /api/jobs/`, oldest due first."""


StateCounts = create_model(
    "StateCounts",
    __base__=Closed,
    __doc__="How many jobs are in each state.",
    **dict.fromkeys(jobs.STATES, (int, ...)),
)


class OriginSummary(Closed):
    """The jobs of one origin, by state, in `JobsSummary`."""

    origin: str = Field(description="Empty for jobs no automation or other origin queued.")
    by_state: StateCounts  # type: ignore[valid-type]


class JobsSummary(Closed):
    """`GET /api/jobs/summary/`: the organization's jobs by state, overall and by origin."""

    total: int
    by_state: StateCounts  # type: ignore[valid-type]
    by_origin: list[OriginSummary]


class TokenPair(BaseModel):
    """`POST /auth/jwt/create/`: send `access` as `Authorization: Bearer ...`; `refresh`
    renews it at `/auth/jwt/refresh/`."""

    access: str
    refresh: str


class AccessToken(BaseModel):
    """`POST /auth/jwt/refresh/`: a new access token (the refresh token is not rotated)."""

    access: str


class Me(BaseModel):
    """`GET /auth/users/me/`: the signed-in user, in the organization its token names."""

    id: int
    email: str
    organization_id: int
    role: Literal["admin", "member", "viewer"]


class PrivacySettings(BaseModel):
    """`GET|PATCH /api/privacy/`: what the server masks in the organization's new logs, and
    how long it keeps them."""

    maskers: list[Literal["email", "phone", "card", "secret"]] = Field(
        description="Built-in maskers switched on; each match becomes [email], [phone], "
        "[card] or [secret], and the log is marked blurred."
    )
    custom_patterns: list[str] = Field(description="Regexes of the organization's; [masked].")
    retention_days: int | None = Field(
        description="Logs older than this many days are deleted; null keeps them forever."
    )
    updated_at: datetime | None = Field(description="Null: never set.")


class AuditEvent(BaseModel):
    """Who created, changed or deleted what, and when."""

    id: int
    timestamp: datetime
    actor_type: Literal["user", "key", "cli"] = Field(
        description="A signed-in user, an API key, or the `llmtrail` command line."
    )
    actor_id: int | None = Field(description="The user's or key's id; null for the CLI.")
    action: Literal["created", "changed", "deleted"]
    object_type: str = Field(description="key, user, evaluator, automation, condition, ...")
    object_id: str
    changes: dict[str, Any] | None = Field(description="What a change set, where it is kept.")


class AuditPage(BaseModel):
    """`GET /api/audit/`: one page of the organization's trail, newest first."""

    count: int
    next: str | None
    previous: str | None
    results: list[AuditEvent]
