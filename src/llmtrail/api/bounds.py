"""The numbers a request may carry, in one place for both dialects.

A body's JSON may hold any integer and any finite float; the store may not: a column holds
64 bits, a JSON column is written by orjson (64-bit integers at most), PostgreSQL keeps no
NUL character, a duration becomes a `timedelta` against a timestamp. These bounds refuse
such values as bad input (naming the field) where the request is validated, long before
the writer would fail on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from pydantic import Field

from llmtrail.bounds import MAX_FILTER_VALUE_CHARS

# Token counts of one log: a billion at most, so that a log's total (its prompt and
# completion tokens added) still fits the 32-bit column PostgreSQL keeps it in (10^12, the
# bound before, was a 500 there: `make fuzz`).
MAX_COUNT = 10**9
# Durations in seconds (about 31 years): a start time before a timestamp stays a date.
MAX_SECONDS = 10**9
# What a 64-bit signed column, and orjson, hold.
INT64 = (-(2**63), 2**63 - 1)
# A decimal integer of 18 digits or fewer always fits: only longer runs need a look. They
# are found by mapping every digit to "0" and looking for 19 of them (`bytes.translate`
# and a substring search, both C: a tenth of what the regex `\d{19}` costs on a 1 MB body).
_DIGITS_AS_ZERO = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord(".") for b in range(256))
_LONG_RUN = b"0" * 19

# JSON nesting, in levels: pydantic-core's own limit, which the direct routes' bodies meet
# (orjson writes 254 at most: anything deeper could not be stored).
MAX_JSON_DEPTH = 200
NUL = "Text must not contain NUL (\\u0000)"

NonNegInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
# A search parameter of a list route: bounded as a filter value is (`llmtrail.bounds`).
SearchText = Annotated[str, Field(max_length=MAX_FILTER_VALUE_CHARS)]


def refuse_unstorable(raw: bytes) -> None:
    """Raise FastAPI's validation error at the first value of a JSON body that no store
    keeps alike: an integer beyond 64 bits, or a NUL character (PostgreSQL's text and JSONB
    refuse it, SQLite would keep it) in a string or a key. Located as `("body", *path)`, so
    each surface answers it in its own shape.

    The common body has neither a run of 19 digits nor `\\u0000` and costs two scans of its
    bytes (in C); only a body with one is parsed again, exactly."""
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZERO) and b"\\u0000" not in raw:
        return
    try:
        parsed = json.loads(raw)
    except ValueError:
        return  # not JSON: the body's own validation says so
    for path, value in _leaves(parsed, ()):
        if isinstance(value, str):
            if "\x00" in value:
                _refuse(path, "nul_character", NUL, value)
        elif not INT64[0] <= value <= INT64[1]:
            _refuse(path, "int_too_big", "Integers must fit in 64 bits (-2^63 to 2^63-1)", value)


def refuse_nul_in_query(items: Iterable[tuple[str, str]]) -> None:
    """A NUL in a query parameter, as in a body: PostgreSQL cannot compare text with it."""
    for name, value in items:
        if "\x00" in value:
            error = {"type": "nul_character", "loc": ("query", name), "msg": NUL, "input": value}
            raise RequestValidationError([error])


def _refuse(path: tuple, kind: str, message: str, value: object) -> None:
    error = {"type": kind, "loc": ("body", *path), "msg": message, "input": str(value)}
    raise RequestValidationError([error])


def _leaves(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple, int | str]]:
    """The integers and strings of a parsed body (keys as strings of their own), by path."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def refuse_deep_nesting(raw: bytes, parsed: Any) -> None:
    """Refuse a parsed body nested deeper than `MAX_JSON_DEPTH` as malformed JSON. Only a
    body with that many brackets in all (one count of its bytes, in C) is walked."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    stack = [(parsed, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            _refuse((), "json_invalid", f"JSON nested deeper than {MAX_JSON_DEPTH} levels", "")
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
