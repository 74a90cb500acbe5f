"""When a failed request is sent again, and after how long: shared by the clients and the
background senders, so a 503 is treated the same wherever it comes from."""

from __future__ import annotations

import random
from dataclasses import dataclass

from llmtrail.sdk.errors import ConnectionFailed, LlmtrailError, Overloaded, ServerError


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter (`base`·2ⁿ, half of it random, at most `cap`
    seconds); a server's `Retry-After` is honoured instead, up to `cap`."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, error: LlmtrailError) -> float:
        """Seconds to wait before retry number `attempt` (from 0)."""
        hint = error.retry_after if isinstance(error, Overloaded) else None
        if hint is not None:
            return min(hint, self.cap)
        ceiling = min(self.cap, self.base * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def retryable(error: LlmtrailError, *, idempotent: bool) -> bool:
    """Whether sending the same request again is safe and may succeed. Overload answers say
    nothing was stored; a request that may have reached the server is only sent again when
    a repeat is harmless (`idempotent`: spans are stored once however often they come)."""
    if isinstance(error, Overloaded):
        return True
    if isinstance(error, ConnectionFailed):
        return idempotent or not error.maybe_sent
    return idempotent and isinstance(error, ServerError) and error.status in (502, 504)
