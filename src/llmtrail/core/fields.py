"""Text fields of a request body, read as Django REST Framework's CharField reads them: a
string as it is, a number as its text, anything else refused (never stored as it came)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtrail.errors import FieldError, Invalid
from llmtrail.store.tables import files

# A File's or Dataset's name: the last part of its path (up to 1,024 characters), kept in a
# name column (255).
NAME_CHARS: int = files.c.name.type.length  # type: ignore[attr-defined]


def text(
    body: Mapping[str, Any],
    name: str,
    *,
    blank: bool = True,
    errors: list[FieldError] | None = None,
) -> str | None:
    """`body[name]` as text, None when absent or null. A value that is no text (or a blank
    one, unless `blank`) is refused: added to `errors`, or raised when there are none."""
    value = body.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and (blank or value.strip())):
        return value
    error = FieldError(
        (name,),
        "Not a valid string." if not isinstance(value, str) else "This field may not be blank.",
    )
    if errors is None:
        raise Invalid([error])
    errors.append(error)
    return None


def name_in(path: str) -> str:
    """The last part of a `path`, the name of what it files; refused (naming `path`) when
    longer than a name column holds, which PostgreSQL would refuse with a 500."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if len(name) > NAME_CHARS:
        message = f"the last part of a path (its name) has at most {NAME_CHARS} characters"
        raise Invalid.at("path", message, "string_too_long")
    return name
