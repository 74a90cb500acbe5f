"""`Client` and `AsyncClient`: the Keywords AI dialect over httpx.

Both build requests and read answers with the same code (`_Base`); they differ only in
how they wait: for the network and between retries.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self, TypeVar

import httpx

from llmtrail import __version__
from llmtrail.sdk.encoding import dumps
from llmtrail.sdk.errors import LlmtrailError, connection_failed, error_for
from llmtrail.sdk.models import Model
from llmtrail.sdk.pagination import Page, aitems, items
from llmtrail.sdk.resources import (
    Automations,
    Awaiting,
    Blocking,
    Call,
    Conditions,
    Evaluators,
    Jobs,
    Logs,
    Scores,
)
from llmtrail.sdk.retry import Backoff, retryable

T = TypeVar("T")
Obj = TypeVar("Obj", bound=Model)
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def settings(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    """The key and base URL given, else from `LLMTRAIL_API_KEY` and `LLMTRAIL_BASE_URL`."""
    key = api_key or os.environ.get("LLMTRAIL_API_KEY")
    if not key:
        raise LlmtrailError("no API key: pass api_key= or set LLMTRAIL_API_KEY")
    url = base_url or os.environ.get("LLMTRAIL_BASE_URL") or DEFAULT_BASE_URL
    return key, url.rstrip("/")


class _Base:
    """Settings, request building and answers, shared by both clients.

    `max_retries`: how often a request is sent again after an overload answer (429, 503:
    nothing was stored) or a connection that could not be made, waiting as `Retry-After`
    says or with exponential backoff. 0 turns retries off.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        backoff: Backoff,
    ) -> None:
        key, self.base_url = settings(api_key, base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self._backoff = backoff
        self._headers = {
            "Authorization": f"Bearer {key}",
            "User-Agent": f"llmtrail-sdk/{__version__}",
        }

    def _request(
        self, http: httpx.Client | httpx.AsyncClient, call: Call[Any], url: str | None
    ) -> httpx.Request:
        """The HTTP request of `call`, or of the page at `url` (a `next` link, query
        included)."""
        content = None if call.body is None else dumps(call.body).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        params = None if url else call.params
        return http.build_request(
            call.method, url or call.path, params=params, content=content, headers=headers
        )

    @staticmethod
    def _result(call: Call[T], response: httpx.Response) -> T:
        if response.is_error:
            raise error_for(response)
        return call.parse(response.json() if response.content else None)

    def _retry_delay(self, attempt: int, error: LlmtrailError) -> float | None:
        """Seconds before sending again, or None to give up with `error`."""
        if attempt >= self.max_retries or not retryable(error, idempotent=False):
            return None
        return self._backoff.delay(attempt, error)


class Client(_Base):
    """A blocking client: `with Client(api_key=...) as client: client.logs.list(...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, backoff)
        self._http = httpx.Client(base_url=self.base_url, headers=self._headers, timeout=timeout)
        self.logs = Logs[Blocking](self)
        self.evaluators = Evaluators[Blocking](self)
        self.scores = Scores[Blocking](self)
        self.conditions = Conditions[Blocking](self)
        self.automations = Automations[Blocking](self)
        self.jobs = Jobs[Blocking](self)

    def _send(self, call: Call[T], url: str | None = None) -> T:
        attempt = 0
        while True:
            try:
                return self._result(call, self._attempt(call, url))
            except LlmtrailError as error:
                delay = self._retry_delay(attempt, error)
                if delay is None:
                    raise
            time.sleep(delay)
            attempt += 1

    def _attempt(self, call: Call[Any], url: str | None) -> httpx.Response:
        try:
            return self._http.send(self._request(self._http, call, url))
        except httpx.TransportError as exc:
            raise connection_failed(exc) from exc

    def _items(self, call: Call[Page[Obj]]) -> Iterator[Obj]:
        return items(call, self._send)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """The same API for asyncio: `async with AsyncClient() as client: await client.logs.get(id)`,
    `async for log in client.logs.iter(...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, backoff)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=timeout
        )
        self.logs = Logs[Awaiting](self)
        self.evaluators = Evaluators[Awaiting](self)
        self.scores = Scores[Awaiting](self)
        self.conditions = Conditions[Awaiting](self)
        self.automations = Automations[Awaiting](self)
        self.jobs = Jobs[Awaiting](self)

    async def _send(self, call: Call[T], url: str | None = None) -> T:
        attempt = 0
        while True:
            try:
                return self._result(call, await self._attempt(call, url))
            except LlmtrailError as error:
                delay = self._retry_delay(attempt, error)
                if delay is None:
                    raise
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(self, call: Call[Any], url: str | None) -> httpx.Response:
        try:
            return await self._http.send(self._request(self._http, call, url))
        except httpx.TransportError as exc:
            raise connection_failed(exc) from exc

    def _items(self, call: Call[Page[Obj]]) -> AsyncIterator[Obj]:
        return aitems(call, self._send)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
