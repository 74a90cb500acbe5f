"""Errors the API turns into 4xx answers, shared by every layer. Each API surface renders them
in its own wire shape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One broken rule: where (`loc`, a path into the request) and which rule (`msg`)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"


class DomainError(Exception):
    """Base of every error the API turns into a 4xx answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The object does not exist, or belongs to another organization (never tell which)."""


class Conflict(DomainError):
    """The request clashes with what is stored, e.g. an id that is already taken."""


@dataclass
class Invalid(DomainError):
    """The request breaks one or more rules; nothing was written.

    `status` overrides the dialect's status for broken rules where a contract gives another
    (Keywords AI answers some field-keyed errors 404 or 422)."""

    errors: list[FieldError] = field(default_factory=list)
    status: int | None = None

    def __post_init__(self) -> None:
        super().__init__("; ".join(f"{dotted(e.loc)}: {e.msg}" for e in self.errors))

    def __reduce__(self) -> tuple[type[Invalid], tuple[list[FieldError], int | None]]:
        """Rebuilt from its errors, not its message: it crosses from the writer process."""
        return type(self), (self.errors, self.status)

    @classmethod
    def at(
        cls,
        loc: tuple[str | int, ...] | str,
        msg: str,
        type: str = "value_error",
        status: int | None = None,
    ) -> Invalid:
        loc = (loc,) if isinstance(loc, str) else loc
        return cls([FieldError(loc, msg, type)], status)


def dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


class Unauthorized(DomainError):
    """No credentials, or credentials that do not open this door (401)."""


class Forbidden(DomainError):
    """The caller is known, but its role may not do this (403)."""


class Unavailable(DomainError):
    """Something the request needs is not answering now (an LLM provider): 503, retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[type[Unavailable], tuple[str, float | None]]:
        """Rebuilt with its wait: it crosses from the writer process."""
        return type(self), (self.message, self.retry_after)


class BadGateway(DomainError):
    """Something the request needs answered, but not usefully (an LLM provider refused the
    key, the model, the request): 502, the message saying what it said."""


class RateLimited(DomainError):
    """The caller sent more requests than its rate allows: 429, retry after `retry_after`."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
