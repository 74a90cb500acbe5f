"""Limits on what one request, and one caller, may take of the server.

`BodySizeLimit` refuses oversize bodies with 413 before they are read into memory (pure
ASGI, no overhead). Paths in `exempt` read their bodies under a limit of their own and answer
413 in their own shape (the OTLP receiver: 64 MiB, in the request's encoding).
`RateLimiter` holds each caller to a rate (429 with `Retry-After` past it)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Hashable
from typing import Any

import orjson

from llmtrail.errors import RateLimited


class BodySizeLimit:
    """413 for a body past `max_bytes`, and 408 for one that stops arriving: a client that
    stalls mid-body for `body_seconds` is answered and its connection freed."""

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        exempt: frozenset[str] = frozenset(),
        body_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt
        self.body_seconds = body_seconds

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send, 413, self._too_large())
                return
        seen, whole = 0, False

        async def counted() -> dict:
            nonlocal seen, whole
            if whole:  # the body is in: what comes now (a disconnect) may take its time
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_seconds)
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send, 413, self._too_large())
        except _TooSlow:
            detail = (
                f"The request body stopped arriving for {self.body_seconds:g} s "
                "(LLMTRAIL_BODY_TIMEOUT_SECONDS)."
            )
            await self._refuse(send, 408, detail)

    def _too_large(self) -> str:
        mb = self.max_bytes / (1024 * 1024)
        return f"Request body is larger than the {mb:g} MB limit (LLMTRAIL_MAX_BODY_BYTES)."

    @staticmethod
    async def _refuse(send: Any, status: int, detail: str) -> None:
        body = orjson.dumps({"detail": detail})
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooSlow(Exception):
    pass


class _TooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per caller: `per_second` requests a second, bursts of up to `burst`.

    In memory, per server process (with `--workers N` a caller gets N times the rate): the
    bound protects a process from one caller, it is not a quota."""

    def __init__(self, per_second: float, burst: int = 0) -> None:
        self.per_second = per_second
        self.burst = float(burst or max(1, math.ceil(per_second)))
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # caller -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, caller: Hashable) -> None:
        """Spend one request of the caller's; RateLimited when it has none left."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            if tokens < 1:
                self._buckets[caller] = (tokens, now)
                wait = (1 - tokens) / self.per_second
                raise RateLimited(
                    f"Too many requests: this key may send {self.per_second:g} a second "
                    f"(LLMTRAIL_RATE_LIMIT_PER_SECOND); retry in {math.ceil(wait)} s.",
                    wait,
                )
            self._buckets[caller] = (tokens - 1, now)
