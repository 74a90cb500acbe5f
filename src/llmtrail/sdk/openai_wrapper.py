"""`wrap_openai`: every chat completion of an `openai` client becomes a log.

The call goes on exactly as it would; what it asked, answered, used and how long it took is
queued for the tracer's log sender (`Client.logs.create` in the background), under the
current `@trace` span when there is one. Nothing here imports `openai`: the client is used
as it comes, sync or async, and a recording failure is logged, never raised into the call.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from llmtrail.sdk.tracing import Tracer, current_span, get_tracer

log = logging.getLogger("llmtrail.sdk")
C = TypeVar("C")
# Request options kept on the log as the Keywords AI fields of the same names.
PARAMETERS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
    "user",
)


def wrap_openai(client: C, *, tracer: Tracer | None = None) -> C:
    """Log every `client.chat.completions.create` (`openai.OpenAI` or `AsyncOpenAI`, streamed
    or not) to `tracer` (default: the configured one), and answer the same client.

    A streamed call asks for its usage (`stream_options={"include_usage": True}`) unless
    the caller set `stream_options`, and is logged when the stream ends or is closed, with
    its time to first token.
    """
    completions = client.chat.completions  # type: ignore[attr-defined]
    create = completions.create
    if getattr(create, "__llmtrail_wrapped__", False):
        return client
    # openai's argument checks wrap `create` in a plain function: look beneath them
    wrap = _async_create if inspect.iscoroutinefunction(inspect.unwrap(create)) else _create
    completions.create = wrap(create, tracer)
    completions.create.__llmtrail_wrapped__ = True
    return client


def _create(create: Callable[..., Any], tracer: Tracer | None) -> Callable[..., Any]:
    @functools.wraps(create)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Completion(kwargs, tracer)
        try:
            answer = create(*args, **call.kwargs)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        if call.streamed:
            return _Stream(answer, call)
        call.finish(answer)
        return answer

    return wrapper


def _async_create(create: Callable[..., Any], tracer: Tracer | None) -> Callable[..., Any]:
    @functools.wraps(create)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Completion(kwargs, tracer)
        try:
            answer = await create(*args, **call.kwargs)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        if call.streamed:
            return _AsyncStream(answer, call)
        call.finish(answer)
        return answer

    return wrapper


def _safely(method: Callable[..., None]) -> Callable[..., None]:
    """Recording must never break the call it records."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            method(*args, **kwargs)
        except Exception:
            log.exception("llmtrail: could not record a chat completion")

    return guarded


class _Completion:
    """One chat completion as it happens: the request, the chunks or the answer, the times;
    `finish` turns it into a log, once."""

    def __init__(self, kwargs: dict[str, Any], tracer: Tracer | None) -> None:
        self.tracer = tracer
        self.kwargs = dict(kwargs)
        self.streamed = bool(kwargs.get("stream"))
        if self.streamed and "stream_options" not in kwargs:
            self.kwargs["stream_options"] = {"include_usage": True}
        if kwargs.get("messages") is not None:  # an iterator would be read once, by openai
            self.kwargs["messages"] = list(kwargs["messages"])
        self.parent = current_span()
        self.started_at = datetime.now(UTC)
        self.started = time.perf_counter()
        self.first_token: float | None = None
        self.model: str | None = None
        self.message: dict[str, Any] = {"role": "assistant", "content": None}
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.done = False

    @_safely
    def chunk(self, chunk: Any) -> None:
        """Fold one streamed chunk (its first choice) into the answer."""
        self.model = chunk.model or self.model
        self.usage = chunk.usage or self.usage
        for choice in chunk.choices[:1]:
            delta = choice.delta
            said = delta.content or delta.tool_calls or getattr(delta, "refusal", None)
            if said and self.first_token is None:
                self.first_token = time.perf_counter() - self.started
            if delta.content:
                self.message["content"] = (self.message["content"] or "") + delta.content
            for call in delta.tool_calls or []:
                known = self.tool_calls.setdefault(
                    call.index,
                    {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
                )
                known["id"] = call.id or known["id"]
                if call.function is not None:
                    known["function"]["name"] += call.function.name or ""
                    known["function"]["arguments"] += call.function.arguments or ""
            self.finish_reason = choice.finish_reason or self.finish_reason

    @_safely
    def finish(self, answer: Any = None, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        latency = time.perf_counter() - self.started
        if answer is not None:  # a whole ChatCompletion
            self.model = answer.model
            self.usage = answer.usage
            if answer.choices:
                self.message = answer.choices[0].message.model_dump(exclude_none=True)
                self.finish_reason = answer.choices[0].finish_reason
        elif self.tool_calls:
            self.message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        tracer = self.tracer or get_tracer()
        if tracer is not None:
            tracer.logs.submit(self._log(latency, error))

    def _log(self, latency: float, error: BaseException | None) -> dict[str, Any]:
        request = self.kwargs
        body: dict[str, Any] = {
            "log_type": "chat",
            "span_name": "openai.chat.completions.create",
            "provider_id": "openai",
            "model": self.model or request.get("model"),
            "prompt_messages": request.get("messages") or [],
            "stream": self.streamed,
            "start_time": self.started_at,
            "timestamp": self.started_at + timedelta(seconds=latency),
            "latency": latency,
            "time_to_first_token": self.first_token,
            "usage": self.usage,
            **{name: request[name] for name in PARAMETERS if request.get(name) is not None},
        }
        if error is None:
            body["completion_message"] = self.message
            if self.finish_reason:
                body["metadata"] = {"finish_reason": self.finish_reason}
        else:
            body["status"] = "error"
            body["error_message"] = f"{type(error).__qualname__}: {error}"
            body["status_code"] = getattr(error, "status_code", None)
        if self.parent is not None:
            body["trace_unique_id"] = self.parent.trace_unique_id
            body["span_parent_id"] = self.parent.span_unique_id
            body["span_unique_id"] = random.getrandbits(64).to_bytes(8, "big").hex()
            body["span_workflow_name"] = self.parent.workflow
        return {k: v for k, v in body.items() if v is not None}


class _Stream:
    """The caller's stream, chunk for chunk; the completion is logged when it ends, fails or
    is closed. Anything else is the wrapped stream's (`response`, ...)."""

    def __init__(self, stream: Any, call: _Completion) -> None:
        self._stream = stream
        self._call = call

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._stream)
        except StopIteration:
            self._call.finish()
            raise
        except BaseException as exc:
            self._call.finish(error=exc)
            raise
        self._call.chunk(chunk)
        return chunk

    def close(self) -> None:
        self._stream.close()
        self._call.finish()

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _AsyncStream:
    """`_Stream` for `AsyncOpenAI`."""

    def __init__(self, stream: Any, call: _Completion) -> None:
        self._stream = stream
        self._call = call

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            self._call.finish()
            raise
        except BaseException as exc:
            self._call.finish(error=exc)
            raise
        self._call.chunk(chunk)
        return chunk

    async def close(self) -> None:
        await self._stream.close()
        self._call.finish()

    async def __aenter__(self) -> _AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
