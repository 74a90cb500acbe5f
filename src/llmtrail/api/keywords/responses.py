"""Answer bodies of the Keywords AI dialect (contract §1), as `translate` and the routes build
them: for the OpenAPI document and `response_model=`.

A field the server always sends has no default; one it sends only sometimes defaults to None.
401, 404 and 413 answer `api.responses.Detail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from llmtrail.api.humanloop.schemas import Status

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


class LogList(BaseModel):
    """`GET` and `POST /api/request-logs/list/`: one page, `count` over all pages."""

    count: int
    next: str | None = Field(description="The next page's URL, null on the last page.")
    previous: str | None
    results: list[LogObject]


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


class FieldErrors(BaseModel):
    """400 of every route that takes input: `detail` names each field and rule, and each
    field's messages sit under its name (DRF style). A body that is not JSON has only `detail`.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, FieldMessages] = Field(init=False)

    detail: str


class ImmutableField(BaseModel):
    """400 of `PATCH /api/request-logs/{id}/` for a telemetry field (§1.6)."""

    error: Literal["Cannot update immutable field"]
    detail: str


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
