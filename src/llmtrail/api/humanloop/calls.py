"""Prompt calls: `POST /v5/prompts/call` runs a Prompt's template through the LLM provider
(the OpenAI-compatible endpoint of `LLMTRAIL_LLM_BASE_URL`, the judge's) and logs the call
as a Prompt Log, plainly or streamed as server-sent events. `agents/call` is one turn of an
Agent the same way, left `incomplete` while the model waits for tool results, which
`agents/continue` sends for the next turn (the server runs no tool).

The Prompt is named as `prompts/log` names it (`logs.resolve_version`); its request is
`core.prompt_calls`'; the log goes through the one write path (`logs.log_to_file`), so it
is committed before the answer (or the stream's last event) says so. A provider that
fails still leaves a log, with its `error`: a 429, 5xx or timeout (after
`LLMTRAIL_LLM_RETRIES` more attempts) answers 503 with Retry-After, anything else 502.
"""

# No `from __future__ import annotations`: FastAPI must see the body model as a class.

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson
from fastapi import Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Row
from starlette.concurrency import iterate_in_threadpool

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import reading, schemas
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.logs import LOG_BODIES, log_to_file, resolve_version
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.api.humanloop.translate import FIELDS
from llmtrail.api.routing import JSONBody
from llmtrail.api.wire import json_text
from llmtrail.core import files, lifecycle, prompt_calls, queries
from llmtrail.core.files import LOG_TYPES, FileType
from llmtrail.core.ids import iso, new_id
from llmtrail.core.keys import Principal
from llmtrail.core.logs import COMPLETE, INCOMPLETE
from llmtrail.core.pricing import cost_of
from llmtrail.errors import BadGateway, Conflict, Invalid, NotFound, Unavailable
from llmtrail.providers.openai_chat import ChatClient, Completion, ProviderError

PROVIDER = "the LLM provider"


class _CallOptions(BaseModel):
    """How to call, besides what to log."""

    stream: bool = False
    num_samples: int | None = Field(default=None, ge=1)
    provider_api_keys: dict[str, Any] | None = None
    return_inputs: bool | None = None
    logprobs: int | None = None
    suffix: str | None = None
    include_trace_children: bool | None = None


class PromptCallBody(schemas.PromptLogBody, _CallOptions):
    """`POST /v5/prompts/call`: a Prompt Log's fields, and how to call."""


class AgentCallBody(schemas.AgentLogBody, _CallOptions):
    """`POST /v5/agents/call`: an Agent Log's fields, and how to call."""


class AgentContinueBody(schemas._Open):
    """`POST /v5/agents/continue`: the incomplete Agent Log, and what answers its tool calls."""

    log_id: str = Field(min_length=1)
    messages: list[schemas.Message] = Field(min_length=1)
    provider_api_keys: dict[str, Any] | None = None
    include_trace_children: bool | None = None
    stream: bool = False


# A streamed piece of the output: the rest of its event is known only at the end.
PIECE = dict.fromkeys(
    (
        "error",
        "provider_latency",
        "stdout",
        "output_message",
        "finish_reason",
        "prompt_tokens",
        "reasoning_tokens",
        "output_tokens",
        "prompt_cost",
        "output_cost",
    )
)
# What only says how to call: not part of the log.
CALL_ONLY = set(_CallOptions.model_fields)
KERNEL_LOC = {FileType.PROMPT: "prompt", FileType.AGENT: "agent"}


@router.post(
    "/prompts/call",
    summary="Call a Prompt and log the call",
    description="The Prompt's template, filled with `inputs`, then `messages`, go to the"
    " configured OpenAI-compatible provider; the call is logged as a Prompt Log. With"
    " `stream`, the answer is server-sent events (PromptCallStreamResponse), the last once the"
    " Log is stored. 502: the provider refused the call; 503: it failed or did not answer"
    " (after retries). Either way the Log is stored, with its error.",
    responses=doc(answer.PromptCallResponse, 404, 502, 503),
)
async def call_prompt(
    body: PromptCallBody,
    version_id: str | None = Query(None, description="Call this version."),
    environment: str | None = Query(None, description="Call the version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Any:
    call = await _Call.of(backend, who, FileType.PROMPT, body, version_id, environment)
    if body.stream:
        return await call.stream()
    return await call.complete()


@router.post(
    "/agents/call",
    summary="Call an Agent for one turn and log it",
    description="As a Prompt call, with the Agent's tools (functions, or inline): one model"
    " turn. When the model asks for tool calls the Agent Log stays `incomplete` and the"
    " answer's `output_message.tool_calls` says what to run; send their results to"
    " `agents/continue`. The server runs no tool itself, and does not stream Agents.",
    responses=doc(answer.AgentCallResponse, 404, 502, 503),
)
async def call_agent(
    body: AgentCallBody,
    version_id: str | None = Query(None, description="Call this version."),
    environment: str | None = Query(None, description="Call the version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Any:
    _no_stream(body.stream)
    call = await _Call.of(backend, who, FileType.AGENT, body, version_id, environment)
    return await call.complete()


@router.post(
    "/agents/continue",
    summary="Continue an incomplete Agent Log with the results of its tool calls",
    description="The conversation so far, the Agent's last message and these `messages`"
    " (the tool results) go to the model for one more turn; the same Log is updated (its"
    " messages, output, tokens and cost added up) and completes unless the model asks for"
    " tools again. 409: the Log is complete.",
    responses=doc(answer.AgentContinueCallResponse, 404, 409, 502, 503),
)
async def continue_agent(
    body: AgentContinueBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    _no_stream(body.stream)
    log = await run_in_threadpool(queries.get_log, backend.engine, who, body.log_id)
    if log.log_type != LOG_TYPES[FileType.AGENT]:
        raise NotFound("Log not found")
    if log.log_status != INCOMPLETE:
        raise Conflict("the Agent Log is complete: there is nothing to continue")
    version = await run_in_threadpool(
        files.get, backend.engine, who, log.file_id, log.version_id, FileType.AGENT
    )
    last = log.completion_message
    conversation = [*(log.prompt_messages or []), *([last] if last else []), *body.messages]
    kernel = {**(version.kernel or {}), "template": None}  # already in the conversation
    tool_choice = (log.extra or {}).get("tool_choice")
    request = prompt_calls.request(kernel, {}, conversation, tool_choice, "agent")
    client = ChatClient.from_settings(backend.settings, PROVIDER)
    try:
        completion = await run_in_threadpool(
            client.complete,
            request,
            retries=backend.settings.llm_retries,
            api_key=_own_key(body.provider_api_keys),
        )
    except ProviderError as exc:
        await _update(backend, who, body.log_id, {"error_message": exc.message})
        raise _refusal(exc, body.log_id) from None
    await _update(backend, who, body.log_id, _continued(log, request, completion, version))
    answered = await run_in_threadpool(reading.log_with_trace, backend, who, body.log_id)
    return JSONBody({**answered, "previous_agent_message": last})


def _no_stream(stream: bool) -> None:
    if stream:
        raise Invalid.at("stream", "Agents are not streamed here: send `stream: false`")


def _own_key(keys: dict[str, Any] | None) -> str | None:
    """The caller's own key for this call (`provider_api_keys.openai`), never stored."""
    key = (keys or {}).get("openai")
    return key if isinstance(key, str) and key else None


def _continued(
    log: Row, request: dict[str, Any], completion: Completion, version: Row
) -> dict[str, Any]:
    """An Agent Log's columns after one more turn: its usage added to what it had."""
    usage = completion.usage
    kernel = version.kernel or {}
    cost = cost_of(kernel.get("model"), None, usage.prompt_tokens, usage.completion_tokens)

    def plus(before: Any, more: Any) -> Any:
        return before if more is None else (before or 0) + more

    prompt_cost = plus(log.prompt_cost, cost.prompt if cost else None)
    output_cost = plus(log.completion_cost, cost.completion if cost else None)
    return {
        "prompt_messages": request["messages"],
        "completion_message": completion.message,
        "output": completion.content,
        "error_message": None,
        "prompt_tokens": plus(log.prompt_tokens, usage.prompt_tokens),
        "completion_tokens": plus(log.completion_tokens, usage.completion_tokens),
        "reasoning_tokens": plus(log.reasoning_tokens, usage.reasoning_tokens),
        "prompt_cost": prompt_cost,
        "completion_cost": output_cost,
        "cost": plus(prompt_cost, output_cost),
        "latency": plus(log.latency, completion.latency),
        "extra": {"finish_reason": completion.finish_reason},
        "log_status": _status_after(completion),
    }


def _status_after(completion: Completion) -> str:
    """An Agent's turn that asks for tools leaves its Log open for their results."""
    return INCOMPLETE if completion.message.get("tool_calls") else COMPLETE


async def _update(backend: Backend, who: Principal, log_id: str, changes: dict[str, Any]) -> None:
    await lifecycle.update_log(
        backend.writer,
        who,
        log_id,
        changes,
        names=FIELDS,
        log_type=LOG_TYPES[FileType.AGENT],
        source="humanloop:agents.continue",
    )


class _Call:
    """One Prompt (or Agent) call: the provider's answer (or failure) logged, then answered."""

    def __init__(
        self,
        backend: Backend,
        who: Principal,
        file_type: FileType,
        body: PromptCallBody | AgentCallBody,
        version: Row,
        version_id: str | None,
        environment: str | None,
        request: dict[str, Any],
    ) -> None:
        self.backend, self.who, self.body, self.version = backend, who, body, version
        self.file_type = file_type
        self.version_id, self.environment, self.request = version_id, environment, request
        self.client = ChatClient.from_settings(backend.settings, PROVIDER)
        self.retries = backend.settings.llm_retries
        self.api_key = _own_key(body.provider_api_keys)
        self.log_id = body.log_id or new_id("log_")
        self.started = datetime.now(UTC)

    @classmethod
    async def of(
        cls,
        backend: Backend,
        who: Principal,
        file_type: FileType,
        body: PromptCallBody | AgentCallBody,
        version_id: str | None,
        environment: str | None,
    ) -> "_Call":
        """The call a body asks for: its File version resolved as `*.log` resolves it, its
        request built (or 422 naming what is missing)."""
        if body.num_samples not in (None, 1):
            raise Invalid.at("num_samples", "only one sample per call is served: send 1 or omit it")
        version = await resolve_version(backend, who, file_type, body, version_id, environment)
        request = prompt_calls.request(
            version.kernel or {},
            body.inputs or {},
            body.messages,
            body.tool_choice,
            KERNEL_LOC[file_type],
        )
        return cls(backend, who, file_type, body, version, version_id, environment, request)

    async def complete(self) -> JSONBody:
        try:
            completion = await run_in_threadpool(
                self.client.complete, self.request, retries=self.retries, api_key=self.api_key
            )
        except ProviderError as exc:
            await self._store(None, exc)
            raise _refusal(exc, self.log_id) from None
        row = await self._store(completion)
        if self.file_type is FileType.AGENT:  # the SDK's AgentCallResponse is the Agent Log
            log = await run_in_threadpool(
                reading.log_with_trace, self.backend, self.who, row["unique_id"]
            )
            return JSONBody({**log, "previous_agent_message": None})
        prompt = await run_in_threadpool(
            reading.file_response, self.backend, self.who, self.version
        )
        return JSONBody(self._response(row, prompt))

    async def stream(self) -> StreamingResponse:
        """Opened before answering, so that a provider that refuses the call answers with
        an error status, not an event stream."""
        pieces: Iterator[str | Completion] = self.client.stream(
            self.request, retries=self.retries, api_key=self.api_key
        )
        try:
            first = await run_in_threadpool(next, pieces)
        except ProviderError as exc:
            await self._store(None, exc)
            raise _refusal(exc, self.log_id) from None
        return StreamingResponse(self._events(first, pieces), media_type="text/event-stream")

    async def _events(
        self, first: str | Completion, rest: Iterator[str | Completion]
    ) -> AsyncIterator[bytes]:
        completion, failed, text = None, None, []

        async def items() -> AsyncIterator[str | Completion]:
            yield first
            async for item in iterate_in_threadpool(rest):
                yield item

        try:
            async for item in items():
                if isinstance(item, Completion):
                    completion = item
                else:
                    text.append(item)
                    yield self._event(**{**PIECE, "output": item})
        except ProviderError as exc:
            failed = exc
        except BaseException:  # the caller went away mid-stream: the call is logged anyway
            gone = ProviderError("the caller closed the stream before it ended", transient=False)
            with anyio.CancelScope(shield=True):
                await self._store(completion, gone, partial="".join(text) or None)
            raise
        row = await self._store(completion, failed, partial="".join(text) or None)
        yield self._event(**{**_sample(row), "output": ""})

    def _event(self, **fields: Any) -> bytes:
        event = {
            "id": self.log_id,
            "prompt_id": self.version.file_id,
            "version_id": self.version.version_id,
            "index": 0,
            "created_at": iso(self.started.replace(tzinfo=None)),
            **fields,
        }
        return b"data: " + orjson.dumps(event) + b"\n\n"

    async def _store(
        self,
        completion: Completion | None,
        failed: ProviderError | None = None,
        partial: str | None = None,
    ) -> dict[str, Any]:
        """The call as a Prompt Log, committed: what was sent, what came back (or the error
        and what came before it), and when."""
        data = self.body.model_dump(exclude_unset=True, exclude=CALL_ONLY)
        ended = datetime.now(UTC)
        data.update(
            log_id=self.log_id,
            messages=self.request["messages"],
            start_time=data.get("start_time") or self.started,
            end_time=data.get("end_time") or ended,
        )
        if completion is not None:
            usage = completion.usage
            if self.file_type is FileType.AGENT:
                data.setdefault("log_status", _status_after(completion))
            data.update(
                output=completion.content,
                output_message=completion.message,
                prompt_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                finish_reason=completion.finish_reason,
                provider_latency=completion.latency,
            )
        if self.file_type is FileType.AGENT:  # a complete Agent Log has inputs
            data.setdefault("inputs", {})
        if failed is not None:
            latency = failed.latency or (ended - self.started).total_seconds()
            data.update(error=failed.message, provider_latency=latency)
            if partial is not None:
                data["output"] = partial
        log = LOG_BODIES[self.file_type].model_validate(data)
        return await log_to_file(
            self.backend,
            self.who,
            self.file_type,
            log,
            self.version_id,
            environment=self.environment,
            version=self.version,
        )

    def _response(self, row: dict[str, Any], prompt: dict[str, Any]) -> dict[str, Any]:
        """PromptCallResponse: the call as logged, its one sample in `logs`."""
        extra = row["extra"] or {}
        keep_inputs = self.body.return_inputs is not False
        return {
            "id": row["unique_id"],
            "log_id": row["unique_id"],
            "trace_id": row["trace_unique_id"],
            "start_time": iso(row["start_time"]),
            "end_time": iso(row["end_time"]),
            "messages": row["prompt_messages"],
            "tool_choice": extra.get("tool_choice"),
            "prompt": prompt,
            "inputs": (row["input"] if isinstance(row["input"], dict) else {})
            if keep_inputs
            else {},
            "source": extra.get("source"),
            "metadata": row["metadata"],
            "log_status": row["log_status"],
            "source_datapoint_id": extra.get("source_datapoint_id"),
            "trace_parent_id": row["span_parent_id"],
            "user": row["customer_identifier"],
            "environment": extra.get("environment"),
            "save": extra.get("save", True),
            "logs": [_sample(row)],
        }


def _sample(row: dict[str, Any]) -> dict[str, Any]:
    """The call's generation, as logged (PromptCallLogResponse)."""
    extra = row["extra"] or {}
    return {
        "output": json_text(row["output"]),
        "created_at": iso(row["created_at"]),
        "error": row["error_message"],
        "provider_latency": row["latency"],
        "stdout": extra.get("stdout"),
        "output_message": row["completion_message"],
        "prompt_tokens": row["prompt_tokens"],
        "reasoning_tokens": row["reasoning_tokens"],
        "output_tokens": row["completion_tokens"],
        "prompt_cost": row["prompt_cost"],
        "output_cost": row["completion_cost"],
        "finish_reason": extra.get("finish_reason"),
        "index": 0,
    }


def _refusal(exc: ProviderError, log_id: str) -> Exception:
    """The answer to a failed call: 503 when a later retry may work, else 502."""
    message = f"{exc.message} (the call is logged as {log_id})"
    if exc.transient:
        return Unavailable(message, exc.retry_after if exc.retry_after is not None else 1.0)
    return BadGateway(message)
