"""Request bodies of the Keywords AI dialect (contract §1.1). Unknown fields are tolerated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmtrail.api.bounds import NonNegFloat, NonNegInt, Seconds

Identifier = str | int


NAMESPACES = ("keywordsai_params", "respan_params")


class UsageIn(BaseModel):
    """OpenAI and Anthropic usage objects, both accepted."""

    model_config = ConfigDict(extra="allow")

    prompt_tokens: NonNegInt | None = None
    completion_tokens: NonNegInt | None = None
    total_tokens: NonNegInt | None = None
    input_tokens: NonNegInt | None = None
    output_tokens: NonNegInt | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None
    cache_creation_prompt_tokens: NonNegInt | None = None
    cache_creation_input_tokens: NonNegInt | None = None
    cache_read_input_tokens: NonNegInt | None = None


class CustomerParams(BaseModel):
    model_config = ConfigDict(extra="allow")

    customer_identifier: Identifier | None = None
    name: str | None = None
    email: str | None = None


class CreateLog(BaseModel):
    """One log, as `POST /api/request-logs/` takes it."""

    model_config = ConfigDict(extra="allow")

    # The log's id, when the client chooses it (to retry without duplicates, or to link spans
    # before their answer comes back); else one is made.
    unique_id: str | None = Field(default=None, min_length=1, max_length=128)
    model: str | None = Field(default=None, max_length=255)
    log_type: str | None = Field(default=None, max_length=32)
    # Not in Keywords AI's own API: a workflow or agent log sent without its input and output
    # starts incomplete; this says how it is meant (see docs/keywords-ai.md).
    log_status: Literal["complete", "incomplete"] | None = None
    input: Any = None
    output: Any = None
    prompt_messages: list[dict[str, Any]] | None = None
    messages: list[dict[str, Any]] | None = None
    completion_message: dict[str, Any] | None = None
    completion_messages: list[dict[str, Any]] | None = None
    usage: UsageIn | None = None
    prompt_tokens: NonNegInt | None = None
    completion_tokens: NonNegInt | None = None
    total_request_tokens: NonNegInt | None = None
    prompt_cache_hit_tokens: NonNegInt | None = None
    prompt_cache_creation_tokens: NonNegInt | None = None
    reasoning_tokens: NonNegInt | None = None
    cost: NonNegFloat | None = None
    latency: Seconds | None = None
    generation_time: Seconds | None = None
    time_to_first_token: Seconds | None = None
    ttft: Seconds | None = None
    tokens_per_second: NonNegFloat | None = None
    routing_time: Seconds | None = None
    customer_identifier: Identifier | None = None
    customer_params: CustomerParams | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    thread_identifier: Identifier | None = None
    session_identifier: Identifier | None = None
    trace_group_identifier: Identifier | None = None
    custom_identifier: Identifier | None = None
    group_identifier: Identifier | None = None
    evaluation_identifier: Identifier | None = None
    metadata: dict[str, Any] | None = None
    note: str | None = None
    category: str | None = None
    positive_feedback: bool | None = None
    trace_unique_id: str | None = Field(default=None, max_length=128)
    span_unique_id: str | None = Field(default=None, max_length=128)
    span_parent_id: str | None = Field(default=None, max_length=128)
    span_name: str | None = None
    span_workflow_name: str | None = Field(default=None, max_length=255)
    trace_name: str | None = None
    stream: bool | None = None
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    status: str | None = None
    error_message: str | None = None
    timestamp: datetime | None = None
    start_time: datetime | None = None
    prompt_id: Identifier | None = None
    prompt_name: str | None = None
    prompt: dict[str, Any] | str | None = None
    provider_id: str | None = Field(default=None, max_length=64)
    keywordsai_params: dict[str, Any] | None = None
    respan_params: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _namespaced(cls, data: Any) -> Any:
        """Options sent under `keywordsai_params` or `respan_params` count as sent at the top,
        and are validated as such."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for namespace in NAMESPACES:
            nested = merged.pop(namespace, None)
            if isinstance(nested, dict):
                merged.update(nested)
            elif nested is not None:
                merged[namespace] = nested  # refused below: not an object
        return merged


class BulkCreate(BaseModel):
    """Rows are validated one by one, so each is taken as a plain object here."""

    logs: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class BatchUpdate(BaseModel):
    logs: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class ListBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    filters: dict[str, Any] | None = None


class SignIn(BaseModel):
    """`POST /auth/jwt/create/` (§0): the platform's front end also sends `username`, the
    email again."""

    email: str | None = None
    username: str | None = Field(default=None, description="The email, when `email` is absent.")
    password: str
    organization: str | None = Field(
        default=None,
        description="The organization to sign in to, by name; default: the one joined first.",
    )


class Refresh(BaseModel):
    """`POST /auth/jwt/refresh/`."""

    refresh: str
