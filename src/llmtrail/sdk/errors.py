"""What a failed call raises: one class per answer a caller handles differently, each
carrying the status and the body the server sent, so nothing it said is lost."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class LlmtrailError(Exception):
    """Any failure of the SDK: `status` and `body` are the server's answer (None when there
    was none: no connection, no key)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class ConnectionFailed(LlmtrailError):
    """The server could not be reached, or did not answer in time. `maybe_sent` is False
    when the request never left (no connection): sending it again cannot duplicate it."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class BadRequest(LlmtrailError):
    """400 (or 422): the request breaks a rule. `errors` holds the field-keyed messages,
    Django REST Framework style (`{"logs": {"1": {"cost": ["..."]}}}`)."""

    @property
    def errors(self) -> dict[str, Any]:
        body = self.body if isinstance(self.body, dict) else {}
        return {k: v for k, v in body.items() if k not in ("detail", "error")}


class Unauthorized(LlmtrailError):
    """401: no API key, or one that is invalid or revoked."""


class NotFound(LlmtrailError):
    """404: no such object, or another organization's."""


class Conflict(LlmtrailError):
    """409: clashes with what is stored (a slug taken, a second score)."""


class PayloadTooLarge(LlmtrailError):
    """413: the body is larger than the server accepts."""


class Overloaded(LlmtrailError):
    """429 or 503: nothing was stored; the same request may be sent again after
    `retry_after` seconds (None when the server did not say)."""

    def __init__(self, message: str, *, status: int, body: Any, retry_after: float | None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class ServerError(LlmtrailError):
    """Another 5xx: the server failed."""


BY_STATUS: dict[int, type[LlmtrailError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: BadRequest,
}
RETRYABLE = (429, 503)


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, given as a number or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(status: int, body: Any) -> str:
    if isinstance(body, dict):
        said = body.get("detail") or body.get("error")
        if isinstance(said, str):
            return f"{status}: {said}"
    return f"{status}: {str(body)[:500] or httpx.codes.get_reason_phrase(status)}"


def connection_failed(exc: httpx.TransportError) -> ConnectionFailed:
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return ConnectionFailed(f"{type(exc).__name__}: {exc}", maybe_sent=not not_sent)


def error_for(response: httpx.Response) -> LlmtrailError:
    """The exception that a non-2xx answer means."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message = _message(status, body)
    if status in RETRYABLE:
        return Overloaded(message, status=status, body=body, retry_after=retry_after(response))
    kind = BY_STATUS.get(status, ServerError if status >= 500 else LlmtrailError)
    return kind(message, status=status, body=body)
