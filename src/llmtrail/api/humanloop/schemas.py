"""Request bodies of the Humanloop v5 dialect, as the `humanloop` SDK sends them (contract §1, §2).

Unknown fields are tolerated: newer SDKs send more than these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmtrail.api.bounds import NonNegFloat, NonNegInt, Seconds

Status = Literal["complete", "incomplete"]
Message = dict[str, Any]
ToolChoice = Literal["none", "auto", "required"] | dict[str, Any]
Judgment = bool | float | str | list[str]
LogId = Annotated[str, Field(min_length=1, max_length=128)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class LogBody(_Open):
    """Fields every `*.log` body shares (§1.1)."""

    path: str | None = Field(default=None, min_length=1, max_length=1024)
    id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    created_at: datetime | None = None
    output: str | None = None
    error: str | None = None
    provider_latency: Seconds | None = None
    stdout: str | None = None
    provider_request: dict[str, Any] | None = None
    provider_response: dict[str, Any] | None = None
    inputs: dict[str, Any] | None = None
    source: str | None = None
    metadata: dict[str, Any] | None = None
    log_status: Status | None = None
    trace_status: Status | None = None  # the name SDKs up to 0.8.26 send
    source_datapoint_id: str | None = None
    trace_parent_id: str | None = None
    user: str | None = Field(default=None, max_length=255)
    environment: str | None = None
    save: bool | None = None
    log_id: LogId | None = None
    output_message: Message | None = None


class ModelCall(_Open):
    """The fields of a model call, which Prompt and Agent logs (and their updates) carry."""

    output_message: Message | None = None
    prompt_tokens: NonNegInt | None = None
    reasoning_tokens: NonNegInt | None = None
    output_tokens: NonNegInt | None = None
    prompt_cost: NonNegFloat | None = None
    output_cost: NonNegFloat | None = None
    finish_reason: str | None = None
    messages: list[Message] | None = None
    tool_choice: ToolChoice | None = None


class LlmLogBody(LogBody, ModelCall):
    """What Prompt and Agent logs add: the model call."""

    run_id: str | None = None


class PromptLogBody(LlmLogBody):
    prompt: dict[str, Any] | str | None = None


class AgentLogBody(LlmLogBody):
    agent: dict[str, Any] | str | None = None


class FlowKernel(_Open):
    attributes: dict[str, Any]


class FlowLogBody(LogBody):
    run_id: str | None = None
    messages: list[Message] | None = None
    flow: FlowKernel | None = None


class ToolLogBody(LogBody):
    tool: dict[str, Any] | None = None


class EvaluatorLogBody(LogBody):
    parent_id: str
    judgment: Judgment | None = None
    marked_completed: bool | None = None
    spec: dict[str, Any] | None = None


class FlowLogUpdate(_Open):
    """`PATCH /flows/logs/{log_id}` and `/agents/{id}/log/{log_id}` (seeds 001, 002)."""

    messages: list[Message] | None = None
    output_message: Message | None = None
    inputs: dict[str, Any] | None = None
    output: str | None = None
    error: str | None = None
    log_status: Status | None = None
    trace_status: Status | None = None


class ToolLogUpdate(_Open):
    """`PATCH /tools/{id}/log/{log_id}`."""

    output: str | None = None
    created_at: datetime | None = None
    error: str | None = None
    provider_latency: Seconds | None = None
    stdout: str | None = None
    provider_request: dict[str, Any] | None = None
    provider_response: dict[str, Any] | None = None
    inputs: dict[str, Any] | None = None
    source: str | None = None
    metadata: dict[str, Any] | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    log_status: Status | None = None
    trace_status: Status | None = None


class PromptLogUpdate(ToolLogUpdate, ModelCall):
    """`PATCH /prompts/{id}/log/{log_id}`: the tool fields plus the model call's."""


class FileUpsert(_Open):
    """`POST /prompts|tools|agents`: the kernel's fields sit at the top level of the body."""

    path: str | None = Field(default=None, min_length=1, max_length=1024)
    id: str | None = None
    version_name: str | None = Field(default=None, max_length=255)
    version_description: str | None = None


class FlowUpsert(FileUpsert):
    attributes: dict[str, Any]


class EvaluatorUpsert(FileUpsert):
    spec: dict[str, Any]


class MonitoringVersion(_Open):
    """An Evaluator named by one of its versions."""

    evaluator_version_id: str


class MonitoringEnvironment(_Open):
    """An Evaluator named by its File, at its newest version (`environment_id` is not read)."""

    evaluator_id: str
    environment_id: str | None = None


MonitoringItem = MonitoringVersion | MonitoringEnvironment


class MonitoringChange(_Open):
    """`POST /{prompts|tools|flows|agents}/{id}/evaluators`."""

    activate: list[MonitoringItem] | None = None
    deactivate: list[MonitoringItem] | None = None


class FileMove(_Open):
    """`PATCH /{prompts|...}/{id}`: a new path, or a new name in the same directory."""

    path: str | None = Field(default=None, min_length=1, max_length=1024)
    name: str | None = Field(default=None, min_length=1, max_length=255)


class VersionChange(_Open):
    """`PATCH /{prompts|...}/{id}/versions/{version_id}`; null unsets."""

    name: str | None = Field(default=None, max_length=255)
    description: str | None = None


class PathBody(BaseModel):
    path: str = Field(min_length=1)
