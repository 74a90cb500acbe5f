"""Prompt calls: `POST /v5/prompts/call` runs a Prompt's template through the LLM provider
(the OpenAI-compatible endpoint of `LLMTRAIL_LLM_BASE_URL`, the judge's) and logs the call
as a Prompt Log, plainly or streamed as server-sent events.

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

import orjson
from fastapi import Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy import Row
from starlette.concurrency import iterate_in_threadpool

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import reading, schemas
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.logs import log_to_file, resolve_version
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.api.routing import JSONBody
from llmtrail.api.wire import json_text
from llmtrail.core import prompt_calls
from llmtrail.core.files import FileType
from llmtrail.core.ids import iso, new_id
from llmtrail.core.keys import Principal
from llmtrail.errors import BadGateway, Invalid, Unavailable
from llmtrail.providers.openai_chat import ChatClient, Completion, ProviderError

PROVIDER = "the LLM provider"


class PromptCallBody(schemas.PromptLogBody):
    """`POST /v5/prompts/call`: a Prompt Log's fields, and how to call."""

    stream: bool = False
    num_samples: int | None = Field(default=None, ge=1)
    provider_api_keys: dict[str, Any] | None = None
    return_inputs: bool | None = None
    logprobs: int | None = None
    suffix: str | None = None


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
CALL_ONLY = {"stream", "num_samples", "provider_api_keys", "return_inputs", "logprobs", "suffix"}


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
    if body.num_samples not in (None, 1):
        raise Invalid.at("num_samples", "only one sample per call is served: send 1 or omit it")
    version = await resolve_version(backend, who, FileType.PROMPT, body, version_id, environment)
    request = prompt_calls.request(
        version.kernel or {}, body.inputs or {}, body.messages, body.tool_choice
    )
    call = _Call(backend, who, body, version, version_id, environment, request)
    if body.stream:
        return await call.stream()
    return await call.complete()


class _Call:
    """One Prompt call: the provider's answer (or failure) logged, then answered."""

    def __init__(
        self,
        backend: Backend,
        who: Principal,
        body: PromptCallBody,
        version: Row,
        version_id: str | None,
        environment: str | None,
        request: dict[str, Any],
    ) -> None:
        self.backend, self.who, self.body, self.version = backend, who, body, version
        self.version_id, self.environment, self.request = version_id, environment, request
        self.client = ChatClient.from_settings(backend.settings, PROVIDER)
        self.retries = backend.settings.llm_retries
        keys = body.provider_api_keys or {}
        self.api_key = keys.get("openai") if isinstance(keys.get("openai"), str) else None
        self.log_id = body.log_id or new_id("log_")
        self.started = datetime.now(UTC)

    async def complete(self) -> JSONBody:
        try:
            completion = await run_in_threadpool(
                self.client.complete, self.request, retries=self.retries, api_key=self.api_key
            )
        except ProviderError as exc:
            await self._store(None, exc)
            raise _refusal(exc, self.log_id) from None
        row = await self._store(completion)
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
            data.update(
                output=completion.content,
                output_message=completion.message,
                prompt_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                finish_reason=completion.finish_reason,
                provider_latency=completion.latency,
            )
        if failed is not None:
            latency = failed.latency or (ended - self.started).total_seconds()
            data.update(error=failed.message, provider_latency=latency)
            if partial is not None:
                data["output"] = partial
        log = schemas.PromptLogBody.model_validate(data)
        return await log_to_file(
            self.backend,
            self.who,
            FileType.PROMPT,
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
