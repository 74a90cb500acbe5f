"""A client of any OpenAI-compatible chat-completions endpoint: the LLM judge's and Prompt
calls' (`LLMTRAIL_LLM_BASE_URL`, `LLMTRAIL_LLM_API_KEY`, `LLMTRAIL_LLM_TIMEOUT_SECONDS`).

It sends a request and reads the answer strictly, plainly or streamed (server-sent events),
and says what went wrong in words that tell what to fix: `ProviderError`, `transient` when
a retry can cure it (a 429, a 5xx, a timeout, a lost connection), with the wait the provider
asked for. What to do then is the caller's: the judge's job is retried later by the worker,
a Prompt call retries a few times at once (`retries`). Blocking (httpx's sync client): the
worker runs it in its threads, the API in its thread pool.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx

from llmtrail.config import Settings
from llmtrail.core.pricing import cost_of

EXCERPT_CHARS = 200
# Between attempts of a call that retries: the first wait, doubled each time, and the
# longest a provider's Retry-After may ask for before the call gives up instead.
FIRST_BACKOFF_SECONDS = 0.25
MAX_WAIT_SECONDS = 5.0


class ProviderError(Exception):
    """The provider did not give a chat completion; the message says why, naming its status
    and its own message. `latency`: how long it took to say so (None: no answer at all)."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
        latency: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status
        self.retry_after = retry_after
        self.latency = latency


@dataclass(frozen=True)
class Usage:
    """The tokens a call used, as the provider counted them (None: it did not say)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None

    @classmethod
    def read(cls, usage: Any) -> Usage:
        usage = usage if isinstance(usage, dict) else {}
        prompt = usage.get("prompt_tokens_details")
        completion = usage.get("completion_tokens_details")
        return cls(
            _count(usage.get("prompt_tokens")),
            _count(usage.get("completion_tokens")),
            _count(prompt.get("cached_tokens")) if isinstance(prompt, dict) else None,
            _count(completion.get("reasoning_tokens")) if isinstance(completion, dict) else None,
        )

    def cost(self, model: str) -> float | None:
        """In USD, by genai-prices; None when it does not know the model."""
        cost = cost_of(model, None, self.prompt_tokens, self.completion_tokens, self.cached_tokens)
        return cost.total if cost else None


@dataclass(frozen=True)
class Completion:
    """A chat completion's first choice: its `message` (role, content, tool calls), why it
    finished, what it used, and how long it took in seconds."""

    message: dict[str, Any]
    finish_reason: str | None
    usage: Usage
    latency: float
    model: str | None = None

    @property
    def content(self) -> str:
        content = self.message.get("content")
        return content if isinstance(content, str) else ""


@dataclass(frozen=True)
class ChatClient:
    """One endpoint and key. It keeps connections open across calls and is safe to share
    between threads; `close` ends them. `name` is how errors speak of the provider."""

    base_url: str
    api_key: str | None = field(repr=False)  # kept out of logs
    timeout: float
    name: str = "the provider"
    _client: httpx.Client = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)
        object.__setattr__(self, "_client", client)

    @classmethod
    def from_settings(cls, settings: Settings, name: str = "the provider") -> ChatClient:
        """The process's one client for these settings: its connections are reused."""
        return _shared(
            settings.llm_base_url, settings.llm_api_key, settings.llm_timeout_seconds, name
        )

    def close(self) -> None:
        self._client.close()

    def complete(
        self, request: dict[str, Any], *, retries: int = 0, api_key: str | None = None
    ) -> Completion:
        """The chat completion for `request` (an OpenAI request body), or ProviderError.
        `retries`: how many more attempts a transient failure gets, after a short backoff.
        `api_key`: this call's own key instead of the client's (not kept)."""
        return _retrying(lambda: self._complete(request, api_key), retries)

    def stream(
        self, request: dict[str, Any], *, retries: int = 0, api_key: str | None = None
    ) -> Iterator[str | Completion]:
        """The pieces of the answer's text as they come, then the whole Completion (its
        message assembled from the pieces, tool calls included, and the usage, asked for with
        `stream_options.include_usage`). Failures before the first piece are retried as
        `complete`'s; one after it raises ProviderError, not transient (text was sent)."""
        body = {**request, "stream": True, "stream_options": {"include_usage": True}}
        started = time.perf_counter()
        response = _retrying(lambda: self._open(body, api_key), retries)
        try:
            yield from _read_stream(response, self.name, started)
        finally:
            response.close()

    def _headers(self, api_key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def _complete(self, request: dict[str, Any], api_key: str | None) -> Completion:
        started = time.perf_counter()
        try:
            response = self._client.post(
                "/chat/completions", json=request, headers=self._headers(api_key)
            )
        except httpx.TransportError as exc:
            raise self._lost(exc) from exc
        latency = time.perf_counter() - started
        self._check(response, latency)
        try:
            body = response.json()
        except ValueError:
            body = None
        completion = _completion(body, latency)
        if completion is None:
            said = excerpt(response.text)
            raise ProviderError(
                f"{self.name} answered with no chat completion: {said}",
                transient=False,
                status=response.status_code,
                latency=latency,
            )
        return completion

    def _open(self, body: dict[str, Any], api_key: str | None) -> httpx.Response:
        started = time.perf_counter()
        request = self._client.build_request(
            "POST", "/chat/completions", json=body, headers=self._headers(api_key)
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._lost(exc) from exc
        if not response.is_success:
            response.read()
            response.close()
            self._check(response, time.perf_counter() - started)
        return response

    def _lost(self, exc: httpx.TransportError) -> ProviderError:
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return ProviderError(f"{self.name} did not answer ({reason})", transient=True)

    def _check(self, response: httpx.Response, latency: float) -> None:
        """Raise ProviderError for an error status: transient for a 429 or 5xx."""
        if response.is_success:
            return
        message = status_error(response, self.name)
        if response.status_code == 429 or response.status_code >= 500:
            wait = _retry_after(response)
            later = f"; it asks to retry after {wait:g} s" if wait is not None else ""
            raise ProviderError(
                message + later,
                transient=True,
                status=response.status_code,
                retry_after=wait,
                latency=latency,
            )
        raise ProviderError(message, transient=False, status=response.status_code, latency=latency)


@cache
def _shared(base_url: str, api_key: str | None, timeout: float, name: str) -> ChatClient:
    return ChatClient(base_url, api_key, timeout, name)


def _retrying(attempt: Any, retries: int) -> Any:
    """`attempt()`, tried again up to `retries` times after a transient failure, waiting as
    the provider asked (up to MAX_WAIT_SECONDS, else giving up) or backing off."""
    wait = FIRST_BACKOFF_SECONDS
    for left in range(retries, -1, -1):
        try:
            return attempt()
        except ProviderError as exc:
            if not exc.transient or left == 0:
                raise
            pause = exc.retry_after if exc.retry_after is not None else wait
            if pause > MAX_WAIT_SECONDS:
                raise
            time.sleep(pause)
            wait *= 2
    raise AssertionError("unreachable")


def _completion(body: Any, latency: float) -> Completion | None:
    """The first choice of a chat completion body, if it is one."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (LookupError, TypeError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("content"), str | None):
        return None
    finish = choice.get("finish_reason") if isinstance(choice, dict) else None
    model = body.get("model") if isinstance(body.get("model"), str) else None
    return Completion(message, finish, Usage.read(body.get("usage")), latency, model)


def _read_stream(response: httpx.Response, name: str, started: float) -> Iterator[str | Completion]:
    """OpenAI's chunks (`data: {...}` events, `data: [DONE]` last) as text pieces, then the
    Completion they make."""
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = model = None
    usage = Usage()
    role = "assistant"
    try:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise ProviderError(
                    f"{name} streamed what is not a chat completion chunk: {excerpt(data)}",
                    transient=False,
                ) from None
            if not isinstance(chunk, dict):
                continue
            model = chunk.get("model") if isinstance(chunk.get("model"), str) else model
            if chunk.get("usage"):
                usage = Usage.read(chunk["usage"])
            for choice in chunk.get("choices") or ():
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or {}
                role = delta.get("role") or role
                piece = delta.get("content")
                if isinstance(piece, str) and piece:
                    content.append(piece)
                    yield piece
                for call in delta.get("tool_calls") or ():
                    _add_tool_call(calls, call)
                finish = choice.get("finish_reason") or finish
    except httpx.TransportError as exc:
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise ProviderError(f"{name} stopped streaming ({reason})", transient=False) from exc
    message: dict[str, Any] = {"role": role, "content": "".join(content) if content else None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    yield Completion(message, finish, usage, time.perf_counter() - started, model)


def _add_tool_call(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    """A streamed tool call's piece, added to the call of its index (arguments come in
    pieces)."""
    if not isinstance(delta, dict):
        return
    empty = {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
    call = calls.setdefault(delta.get("index", 0), empty)
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]


def _count(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else None


def _retry_after(response: httpx.Response) -> float | None:
    """The wait the provider asked for, in seconds (the form providers send)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def status_error(response: httpx.Response, name: str) -> str:
    """The status and the provider's own message (OpenAI's `{"error": {"message": ...}}`, or
    else the body), which says what to fix: the key, the model's name, the request."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        error = error["message"]
    message = excerpt(error if isinstance(error, str) else response.text)
    status = f"{response.status_code} {response.reason_phrase}".strip()
    return f"{name} answered {status}" + (f": {message}" if message else "")


def excerpt(text: str) -> str:
    """`text` on one line and cut short: enough to see what went wrong, at an error's end."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "…"
