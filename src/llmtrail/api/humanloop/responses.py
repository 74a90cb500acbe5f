"""Answer bodies of the Humanloop v5 dialect, as `translate` builds them and the `humanloop`
0.8.38 SDK types them (contract §1.2, §3, §4): for the OpenAPI document and `response_model=`.

A field the server always sends has no default; one it sends only sometimes defaults to None.
Values a client sent (kernels, messages, extra fields) come back as sent, so they are typed as
the request bodies take them. 401, 404, 409 and 413 answer `api.responses.Detail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmtrail.api.humanloop.schemas import Judgment, Message, Status, ToolChoice


class _Open(BaseModel):
    """The SDK keeps unknown fields, and the server passes through what a client added."""

    model_config = ConfigDict(extra="allow")


# --- Files -------------------------------------------------------------------------------


class _File(_Open):
    """What every File response has (`translate.file_object`), at one version."""

    id: str
    path: str
    name: str
    directory_id: str | None = Field(
        description="The Directory at its path's parent; null at the root or when none is there."
    )
    version_id: str
    version_name: str | None
    version_description: str | None
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime
    version_logs_count: int
    total_logs_count: int = Field(description="Over every version of the File.")
    environments: list[EnvironmentResponse] = Field(
        description="The environments this version is deployed to."
    )
    evaluators: list[MonitoringEvaluatorResponse] = Field(
        description="The Evaluators that monitor it (`POST /v5/{type}s/{id}/evaluators`)."
    )
    tags: list[str]


class EnvironmentResponse(BaseModel):
    """An environment of the organization: `production` (the default) and `staging`."""

    id: str
    created_at: datetime
    name: str
    tag: Literal["default", "other"]


class InputResponse(BaseModel):
    """A variable the version takes: a `{{name}}` of its template, a tool parameter."""

    name: str


class _FileWithInputs(_File):
    inputs: list[InputResponse]


class _PromptKernel(_Open):
    """The kernel a Prompt or Agent version was made with, its fields at the top level."""

    model: str | None = Field(description="Null for a version a log made without a kernel.")
    endpoint: str | None = None
    template: str | list[Message] | None = None
    template_language: str | None = None
    provider: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    other: dict[str, Any] | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: str | int | None = None
    attributes: dict[str, Any] | None = None
    raw_file_content: str | None = Field(default=None, description="A kernel sent as text.")


class PromptResponse(_FileWithInputs, _PromptKernel):
    """`POST /v5/prompts`, `GET /v5/prompts/{id}`, and the `prompt` of a Prompt Log."""

    type: Literal["prompt"]
    tools: list[dict[str, Any]] | None = None
    linked_tools: list[str] | None = None


class PopulateTemplateResponse(PromptResponse):
    """`POST /v5/prompts/{id}/populate`: the Prompt, and its template filled."""

    populated_template: str | list[Message] | None = Field(
        description="The template with the inputs sent as its `{{variables}}`; null without one."
    )


class AgentResponse(_FileWithInputs, _PromptKernel):
    """`POST /v5/agents`, `GET /v5/agents/{id}`, and the `agent` of an Agent Log."""

    type: Literal["agent"]
    tools: list[dict[str, Any]]
    max_iterations: int | None = None
    status: Literal["committed"]


class ToolResponse(_FileWithInputs):
    """`POST /v5/tools`, `GET /v5/tools/{id}`, and the `tool` of a Tool Log."""

    type: Literal["tool"]
    function: dict[str, Any] | None = None
    source_code: str | None = None
    setup_values: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None


class FlowResponse(_File):
    """`POST /v5/flows`, `GET /v5/flows/{id}`, and the `flow` of a Flow Log."""

    type: Literal["flow"]
    attributes: dict[str, Any]


class EvaluatorResponse(_FileWithInputs):
    """`POST /v5/evaluators`, `GET /v5/evaluators/{id}`, and the `evaluator` of its Logs."""

    type: Literal["evaluator"]
    spec: dict[str, Any] = Field(description="As sent; empty for one a log made without.")


class VersionIdResponse(BaseModel):
    """A reference to one version of a File."""

    type: Literal["version"]
    version: EvaluatorResponse


class MonitoringEvaluatorResponse(BaseModel):
    """An Evaluator that monitors a File: one that runs by itself (an LLM judge, code, a
    rule) judges each of the File's new complete Logs."""

    version_reference: VersionIdResponse = Field(description="The Evaluator's newest version.")
    version: EvaluatorResponse = Field(description="The same version.")
    state: Literal["active"] = Field(description="Deactivated Evaluators are not listed.")
    created_at: datetime = Field(description="When the File's monitoring was first set.")
    updated_at: datetime = Field(description="When it last changed.")


# `POST /v5/files/retrieve-by-path` and the items of `GET /v5/files`: whichever File it is.
FileResponse = Annotated[
    PromptResponse | ToolResponse | FlowResponse | AgentResponse | EvaluatorResponse,
    Field(discriminator="type"),
]


class FileEnvironmentResponse(EnvironmentResponse):
    """`GET /v5/{type}s/{id}/environments`: an environment, with the File at the version
    deployed to it."""

    file: FileResponse | None = Field(description="Null when no version is deployed there.")


class _Page(BaseModel):
    """One page of a list; a page past the end has no records (the SDK stops there)."""

    page: int
    size: int
    total: int = Field(description="Over all pages.")


class PaginatedDataPromptResponse(_Page):
    """`GET /v5/prompts`."""

    records: list[PromptResponse]


class PaginatedDataAgentResponse(_Page):
    """`GET /v5/agents`."""

    records: list[AgentResponse]


class PaginatedDataToolResponse(_Page):
    """`GET /v5/tools`."""

    records: list[ToolResponse]


class PaginatedDataFlowResponse(_Page):
    """`GET /v5/flows`."""

    records: list[FlowResponse]


class PaginatedDataEvaluatorResponse(_Page):
    """`GET /v5/evaluators`."""

    records: list[EvaluatorResponse]


class PaginatedDataUnionPromptResponseToolResponseDatasetResponseEvaluatorResponseFlowResponseAgentResponse(  # noqa: E501
    _Page
):
    """`GET /v5/files`: Files of every type (the SDK's name)."""

    records: list[FileResponse]


PaginatedFiles = PaginatedDataUnionPromptResponseToolResponseDatasetResponseEvaluatorResponseFlowResponseAgentResponse  # noqa: E501


class ListPrompts(BaseModel):
    """`GET /v5/prompts/{id}/versions`: newest first."""

    records: list[PromptResponse]


class ListAgents(BaseModel):
    """`GET /v5/agents/{id}/versions`: newest first."""

    records: list[AgentResponse]


class ListTools(BaseModel):
    """`GET /v5/tools/{id}/versions`: newest first."""

    records: list[ToolResponse]


class ListFlows(BaseModel):
    """`GET /v5/flows/{id}/versions`: newest first."""

    records: list[FlowResponse]


class ListEvaluators(BaseModel):
    """`GET /v5/evaluators/{id}/versions`: newest first."""

    records: list[EvaluatorResponse]


# --- Logs ----------------------------------------------------------------------------------


class _Log(_Open):
    """What every Log response has (`translate.log_response`). There is no type tag: the SDK
    tells the File type by which nested File object (`prompt`, `flow`, ...) validates."""

    id: str
    log_id: str = Field(description="The same as `id`.")
    start_time: datetime | None
    end_time: datetime | None
    output: str | None
    created_at: datetime
    error: str | None
    provider_latency: float | None
    stdout: str | None
    provider_request: dict[str, Any] | None
    provider_response: dict[str, Any] | None
    inputs: dict[str, Any] | None
    source: str | None
    metadata: dict[str, Any] | None
    log_status: Status | None
    trace_status: Status | None = Field(description="`log_status`, as SDKs ≤ 0.8.26 read it.")
    source_datapoint_id: str | None
    trace_parent_id: str | None
    batches: list[str] | None = Field(description="Always null: no evaluation batches.")
    user: str | None
    environment: str | None
    save: bool | None
    trace_flow_id: str | None
    trace_id: str | None
    evaluator_logs: list[EvaluatorLogResponse] = Field(
        description="Its judgments: the Evaluator Logs that gave them, and as Evaluator Logs"
        " the scores of automations and of the Keywords AI API (their ids the scores')."
    )
    trace_children: list[LogResponse]
    output_message: Message | None


class _Usage(BaseModel):
    """A Prompt or Agent Log's own tokens and costs, always sent; on a Flow or Agent Log with
    children, the sums over its trace. A Flow Log without children has none: hence defaults."""

    prompt_tokens: int | None = None
    reasoning_tokens: int | None = None
    output_tokens: int | None = None
    prompt_cost: float | None = None
    output_cost: float | None = None


class _TraceCost(BaseModel):
    cost: float | None = Field(default=None, description="Summed over a Log's trace.")


class _Conversation(_Log):
    messages: list[Message] | None


class _LlmCall(_Conversation, _Usage):
    """What Prompt and Agent Logs add: the model call."""

    finish_reason: str | None
    tool_choice: ToolChoice | None


class PromptLogResponse(_LlmCall):
    """`PATCH /v5/prompts/{id}/log/{log_id}`, and a Prompt Log wherever Logs are answered."""

    prompt: PromptResponse


class AgentLogResponse(_LlmCall, _TraceCost):
    """`PATCH /v5/agents/{id}/log/{log_id}`, and an Agent Log wherever Logs are answered."""

    agent: AgentResponse


class FlowLogResponse(_Conversation, _Usage, _TraceCost):
    """`PATCH /v5/flows/logs/{log_id}`, and a Flow Log wherever Logs are answered."""

    flow: FlowResponse


class ToolLogResponse(_Log):
    """`PATCH /v5/tools/{id}/log/{log_id}`, and a Tool Log wherever Logs are answered."""

    tool: ToolResponse


class EvaluatorLogResponse(_Log):
    """An Evaluator Log: in `evaluator_logs` of the Log it judges, and in `GET /v5/logs`."""

    parent_id: str | None = Field(description="The judged Log.")
    parent: LogResponse | None = Field(description="With `include_parent` in `GET /v5/logs`.")
    judgment: Judgment | None
    marked_completed: bool | None
    evaluator: EvaluatorResponse


# `GET /v5/logs/{id}`, the items of `GET /v5/logs` and of `trace_children`: the SDK's union.
LogResponse = (
    PromptLogResponse | ToolLogResponse | EvaluatorLogResponse | FlowLogResponse | AgentLogResponse
)


class PaginatedDataLogResponse(BaseModel):
    """`GET /v5/logs`: one page; a page past the end has no records."""

    records: list[LogResponse]
    page: int
    size: int
    total: int = Field(description="Over all pages.")


class PromptKernelRequest(_PromptKernel):
    """`POST /v5/prompts/deserialize`: the kernel a `.prompt` text describes."""

    model: str
    tools: list[dict[str, Any]] | None = None


class AgentKernelRequest(PromptKernelRequest):
    """`POST /v5/agents/deserialize`: the kernel an `.agent` text describes."""


class FileEnvironmentVariableRequest(BaseModel):
    """One environment variable of a Tool, opened (the SDK's name)."""

    name: str
    value: str


# --- Directories ---------------------------------------------------------------------------


class DirectoryResponse(BaseModel):
    """`POST /v5/directories`, `PATCH /v5/directories/{id}`, the items of `GET /v5/directories`."""

    id: str
    parent_id: str | None = Field(description="Null at the root.")
    name: str
    description: str | None
    path: str
    readme: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class DirectoryWithParentsAndChildrenResponse(DirectoryResponse):
    """`GET /v5/directories/{id}`: with what is right in it and its ancestors, root first."""

    subdirectories: list[DirectoryResponse]
    files: list[FileResponse] = Field(description="Its Files (not Datasets), by name.")
    parents: list[DirectoryResponse]


# --- Prompt calls ----------------------------------------------------------------------------


class _Sample(_Usage):
    """One generation of a Prompt call (there is one: `num_samples` is 1)."""

    output: str | None
    created_at: datetime
    error: str | None
    provider_latency: float | None
    stdout: str | None
    output_message: Message | None
    finish_reason: str | None
    index: int


class PromptCallLogResponse(_Sample):
    """A sample in `logs` of a PromptCallResponse."""


class PromptCallResponse(_Open):
    """`POST /v5/prompts/call`: the call, as logged (`id` is the Prompt Log's)."""

    start_time: datetime | None
    end_time: datetime | None
    messages: list[Message] | None = Field(description="What was sent: the template, filled.")
    tool_choice: ToolChoice | None
    prompt: PromptResponse
    inputs: dict[str, Any] | None
    source: str | None
    metadata: dict[str, Any] | None
    log_status: Status | None
    source_datapoint_id: str | None
    trace_parent_id: str | None
    user: str | None
    environment: str | None
    save: bool | None
    log_id: str | None
    id: str
    trace_id: str | None
    logs: list[PromptCallLogResponse]


class PromptCallStreamResponse(_Sample):
    """An event of `POST /v5/prompts/call` with `stream`: each piece of the output as it
    comes, then, once the Log is stored, one with no output and its tokens, costs and
    finish reason (or its error)."""

    id: str = Field(description="The Prompt Log's.")
    prompt_id: str
    version_id: str


class AgentCallResponse(AgentLogResponse):
    """`POST /v5/agents/call`: the Agent Log of the turn (`incomplete` while the model waits
    for the results of the tool calls in `output_message`)."""

    previous_agent_message: Message | None = Field(description="Null on a first call.")


class AgentContinueCallResponse(AgentCallResponse):
    """`POST /v5/agents/continue`: the Agent Log after one more turn;
    `previous_agent_message` is the one whose tool calls were answered."""


class ToolCallResponse(ToolLogResponse):
    """`POST /v5/tools/call`: the Tool Log of the run."""


# The File and Log models nest each other: resolve their references now that all exist.
for _model in (
    PromptResponse,
    PopulateTemplateResponse,
    AgentResponse,
    ToolResponse,
    FlowResponse,
    EvaluatorResponse,
    *LogResponse.__args__,
    PaginatedDataLogResponse,
    *_Page.__subclasses__(),
    FileEnvironmentResponse,
    PromptCallResponse,
    AgentCallResponse,
    AgentContinueCallResponse,
    ToolCallResponse,
    DirectoryWithParentsAndChildrenResponse,
    ListPrompts,
    ListAgents,
    ListTools,
    ListFlows,
    ListEvaluators,
):
    _model.model_rebuild()


# --- Log creation --------------------------------------------------------------------------


class _Created(BaseModel):
    id: str = Field(description="The new Log's id.")
    version_id: str = Field(description="The File version it was written against.")


class _Session(_Created):
    session_id: str | None = Field(description="Always null: there are no sessions.")


class _Lifecycle(_Created):
    """Flow and Agent Logs always have a status."""

    log_status: Status
    trace_status: Status = Field(description="`log_status`, as SDKs ≤ 0.8.26 read it.")


class CreatePromptLogResponse(_Session):
    """`POST /v5/prompts/log`."""

    prompt_id: str


class CreateToolLogResponse(_Session):
    """`POST /v5/tools/log`."""

    tool_id: str


class CreateEvaluatorLogResponse(_Session):
    """`POST /v5/evaluators/log`."""

    parent_id: str = Field(description="The judged Log.")


class CreateFlowLogResponse(_Lifecycle):
    """`POST /v5/flows/log`."""

    flow_id: str


class CreateAgentLogResponse(_Lifecycle):
    """`POST /v5/agents/log`."""

    agent_id: str


# --- Errors --------------------------------------------------------------------------------


class ValidationError(BaseModel):
    """One broken rule, FastAPI's shape (and name, so the OpenAPI document has one)."""

    loc: list[str | int] = Field(description="Where: `body`, `query` or `path`, then the field.")
    msg: str
    type: str


class HTTPValidationError(BaseModel):
    """422 of every route that takes input; the SDK raises it as UnprocessableEntityError."""

    detail: list[ValidationError]
