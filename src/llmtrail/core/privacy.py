"""Privacy: what the server masks in a log as it arrives, and how long it keeps logs, set per
organization by its admins.

Masking runs once, in `ingest.write_logs` (and on what later fills or changes a log's
telemetry), before the log is stored, so every dialect (Keywords AI, Humanloop, OTLP) gets it,
and everything derived from the stored log (the search index, the metadata index, exports)
holds only the masked text. Each match is replaced by a placeholder (`[email]`, `[phone]`,
`[card]`, `[secret]`, `[masked]` for an organization's own patterns) and the log is marked
`blurred`. The original text is never stored.

An organization without settings pays nothing per log: `Policies` caches each
organization's compiled policy (None: nothing to mask) in the server process for `ttl`
seconds, and forgets it when its settings change there.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Engine, Row

from llmtrail.core import audit, retention, roles
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData
from llmtrail.core.rules import safe_pattern
from llmtrail.store import privacy as store
from llmtrail.store.database import begin_write

MaskerName = Literal["email", "phone", "card", "secret"]
MASKER_NAMES: tuple[str, ...] = ("email", "phone", "card", "secret")
CUSTOM = "[masked]"
MAX_PATTERNS = 50
MAX_RETENTION_DAYS = 36_500
# The log fields whose strings are masked (dict keys are not: they name, they do not tell).
# `extra` holds the raw request and response, which repeat the messages.
MASKED_FIELDS = (
    "input",
    "output",
    "prompt_messages",
    "completion_message",
    "metadata",
    "extra",
    "error_message",
)


def luhn(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum every payment card number does."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group())
    return "[card]" if 13 <= len(digits) <= 19 and luhn(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    return "[phone]" if 8 <= len(_digits(match.group())) <= 15 else match.group()


def _custom(match: re.Match[str]) -> str:
    """A custom pattern's match masked; an empty one (`\\b`, `(?=x)`) is left as it is."""
    return CUSTOM if match.group() else ""


def _secret(match: re.Match[str]) -> str:
    """The secret masked, the word that announced it kept (`Bearer [secret]`)."""
    found = match.groupdict()
    return (found.get("bearer") or found.get("pair") or "") + "[secret]"


@dataclass(frozen=True)
class Masker:
    """One kind of thing masked: a pattern, what replaces each match, and a cheap test of
    whether a text may hold one at all (most texts hold no `@`: no email search)."""

    name: str
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]
    hint: Callable[[str], bool] | None = None

    def apply(self, text: str) -> tuple[str, bool]:
        """The text masked, and whether anything was (the hint already passed)."""
        masked, found = self.pattern.subn(self.replace, text)
        # A checked match (a card number failing Luhn) may give its text back unchanged.
        return masked, found > 0 and (isinstance(self.replace, str) or masked != text)


_DIGITS = b"0123456789"


def _digits_at_least(count: int) -> Callable[[str], bool]:
    """A hint: the text holds at least `count` digits (counted in C, in one pass)."""

    def hint(text: str) -> bool:
        encoded = text.encode()
        return len(encoded) - len(encoded.translate(None, _DIGITS)) >= count

    return hint


def _any_of(*needles: str, fold: bool = False) -> Callable[[str], bool]:
    """A hint: the text holds one of the needles (in any case, if `fold`)."""
    if fold:
        return lambda text: any(n in text.lower() for n in needles)
    return lambda text: any(n in text for n in needles)


# Patterns whose first item is a character or class let `re` skip to where one could
# start; a match must not begin inside a word, checked by a lookbehind placed after that
# first character (`s(?<![\w-]s)`: what precedes the `s` is no word character).
_PREFIXED = (
    ("sk-", r"sk-(?<![\w-]sk-)[A-Za-z0-9_-]{16,}"),  # OpenAI, Anthropic (sk-ant-...)
    ("k_live_", r"[spr]k_live_(?<![\w-].k_live_)[A-Za-z0-9]{16,}"),  # Stripe
    ("k_test_", r"[spr]k_test_(?<![\w-].k_test_)[A-Za-z0-9]{16,}"),
    ("AKIA", r"AKIA(?<![A-Za-z0-9]AKIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS access key ids
    ("ASIA", r"ASIA(?<![A-Za-z0-9]ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ("gh", r"gh[pousr]_(?<![\w-]gh._)[A-Za-z0-9]{36,}"),  # GitHub
    ("xox", r"xox[abposr]-(?<![\w-]xox.-)[A-Za-z0-9-]{10,}"),  # Slack
    ("AIza", r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35}"),  # Google
    ("eyJ", r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
)
_LABELS = (
    "api_key", "api-key", "apikey", "secret_key", "secret-key", "secretkey", "access_token",
    "access-token", "accesstoken", "aws_secret_access_key", "password", "passwd",
)  # fmt: skip
# Each built-in masker: one or more passes, applied in order.
BUILT_IN: dict[str, tuple[Masker, ...]] = {
    "secret": (
        Masker(
            "secret",
            re.compile("|".join(p for _, p in _PREFIXED)),
            "[secret]",
            _any_of(*(needle for needle, _ in _PREFIXED)),
        ),
        Masker(
            "secret",
            re.compile(r"(?P<bearer>Bearer(?<![\w-]Bearer)\s+)[A-Za-z0-9._~+/-]{16,}=*"),
            _secret,
            _any_of("Bearer"),
        ),
        Masker(
            "secret",
            re.compile(
                r"(?P<pair>(?i:(?<![\w-])(?:api[_-]?key|secret[_-]?key|access[_-]?token"
                r"|aws_secret_access_key|password|passwd)[\"']?\s*[:=]\s*[\"']?))"
                r"[^\s\"',;]{6,}"
            ),
            _secret,
            _any_of(*_LABELS, fold=True),
        ),
    ),
    "email": (
        Masker(
            "email",
            re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
            "[email]",
            _any_of("@"),
        ),
    ),
    # 13 to 19 digits, spaces or dashes between, starting as Amex, Visa, Mastercard or
    # Discover numbers do; kept unless they pass Luhn (an order id seldom does both).
    "card": (
        Masker(
            "card",
            re.compile(r"[2-6](?<![\w-][2-6])\d(?:[ -]?\d){11,17}(?![\w-])"),
            _card,
            _digits_at_least(13),
        ),
    ),
    # +international (8 to 15 digits) or North American (555) 123-4567, 555-123-4567;
    # dates (2024-01-15), times, IP and version numbers have other shapes.
    "phone": (
        Masker(
            "phone",
            re.compile(
                r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
                r"|(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4})(?![\w])"
            ),
            _phone,
            _digits_at_least(8),
        ),
    ),
}
# Applied in this order: a secret or a card holds digits a phone pattern could take.
ORDER = ("secret", "email", "card", "phone")


def _strings(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _strings(item, into)


def _walk(value: Any, maskers: tuple[Masker, ...]) -> Any:
    """The value with every string in it masked by `maskers`; `_SAME` when nothing was (so
    nothing is copied that needs no change)."""
    if isinstance(value, str):
        changed = False
        for masker in maskers:
            value, hit = masker.apply(value)
            changed = changed or hit
        return value if changed else _SAME
    if isinstance(value, dict):
        out = None
        for key, item in value.items():
            masked = _walk(item, maskers)
            if masked is not _SAME:
                out = dict(value) if out is None else out
                out[key] = masked
        return _SAME if out is None else out
    if isinstance(value, list):
        items = None
        for i, item in enumerate(value):
            masked = _walk(item, maskers)
            if masked is not _SAME:
                items = list(value) if items is None else items
                items[i] = masked
        return _SAME if items is None else items
    return _SAME


@dataclass(frozen=True)
class Policy:
    """An organization's maskers, compiled: what `mask_log` applies to each new log.

    The hints run once over all of a log's text joined, not string by string (a log's
    dozen strings, roles and metadata values among them, would each pay every hint), and
    only the maskers whose hint passed search the strings."""

    maskers: tuple[Masker, ...]

    def _active(self, values: list[Any]) -> tuple[Masker, ...]:
        texts: list[str] = []
        for value in values:
            _strings(value, texts)
        if not texts:
            return ()
        joined = texts[0] if len(texts) == 1 else "\n".join(texts)
        return tuple(m for m in self.maskers if m.hint is None or m.hint(joined))

    def _mask_all(self, values: dict[str, Any]) -> dict[str, Any]:
        """Masked fields -> their masked value, for those that changed. A value two fields
        share (a chat log's `input` is its `prompt_messages`) is masked once, and stays
        shared."""
        distinct = {id(v): v for v in values.values()}
        active = self._active(list(distinct.values()))
        if not active:
            return {}
        done = {key: _walk(value, active) for key, value in distinct.items()}
        return {name: done[id(v)] for name, v in values.items() if done[id(v)] is not _SAME}

    def masked(self, value: Any) -> Any:
        """The value with every string in it masked (itself when nothing was)."""
        return self._mask_all({"value": value}).get("value", value)

    def mask_log(self, log: LogData) -> None:
        """Mask a new log's text in place, and mark it `blurred` when anything was."""
        values = {name: getattr(log, name) for name in MASKED_FIELDS}
        changed = self._mask_all({k: v for k, v in values.items() if v is not None})
        for name, value in changed.items():
            setattr(log, name, value)
        if changed:
            log.blurred = True

    def mask_columns(self, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Mask the masked fields among column values (a change to a stored log); returns the
        values and whether anything was masked."""
        given = {k: values[k] for k in MASKED_FIELDS if values.get(k) is not None}
        changed = self._mask_all(given)
        return {**values, **changed}, bool(changed)


_SAME: Any = object()  # `_walk`'s "nothing masked"


def compile_policy(maskers: list[str], patterns: list[str]) -> Policy | None:
    """The policy of these settings; None when nothing is masked."""
    chosen = [masker for name in ORDER if name in maskers for masker in BUILT_IN[name]]
    for pattern in map(re.compile, patterns):  # hinted by a search of the log's whole text
        chosen.append(
            Masker("custom", pattern, _custom, lambda text, p=pattern: bool(p.search(text)))
        )
    return Policy(tuple(chosen)) if chosen else None


def _masks_something(pattern: str) -> str:
    """A pattern that matches the empty text would mask between every two characters."""
    if re.compile(pattern).match("") is not None:
        raise PydanticCustomError(
            "regex_empty", "matches the empty text: it would mask between every character"
        )
    return pattern


class Changes(BaseModel):
    """A change to an organization's privacy settings: the fields given are set."""

    model_config = ConfigDict(extra="forbid")

    maskers: list[MaskerName] | None = Field(
        None,
        description="Built-in maskers to switch on: email, phone, card (Luhn-checked), "
        "secret (API keys like sk-..., Bearer tokens, AWS access key ids, ...).",
    )
    custom_patterns: (
        Annotated[
            list[Annotated[str, AfterValidator(safe_pattern), AfterValidator(_masks_something)]],
            Field(max_length=MAX_PATTERNS),
        ]
        | None
    ) = Field(None, description="Regular expressions of your own; each match becomes [masked].")
    retention_days: int | None = Field(
        None,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Logs older than this many days are deleted; null keeps them forever.",
    )


@dataclass(frozen=True)
class Settings:
    maskers: list[str]
    custom_patterns: list[str]
    retention_days: int | None
    updated_at: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "maskers": self.maskers,
            "custom_patterns": self.custom_patterns,
            "retention_days": self.retention_days,
            "updated_at": self.updated_at,
        }


NONE = Settings([], [], None)


def _settings(row: Row | None) -> Settings:
    if row is None:
        return NONE
    return Settings(
        list(row.maskers), list(row.custom_patterns), row.retention_days, row.updated_at
    )


def read(engine: Engine, org_id: int) -> Settings:
    with engine.connect() as conn:
        return _settings(store.get(conn, org_id))


def settings_of(engine: Engine, who: Principal) -> Settings:
    """The organization's settings: for its admins only (its patterns may say what it hides)."""
    roles.must_be_admin(who)
    return read(engine, who.org_id)


def update(engine: Engine, who: Principal, changes: Changes) -> Settings:
    """Set the fields given, audited; queues a retention sweep when a retention is set, so
    it applies now rather than at the next hourly run."""
    roles.must_be_admin(who)
    given = changes.model_dump(include=changes.model_fields_set)
    now = utcnow()
    with begin_write(engine) as conn:
        current = _settings(store.get(conn, who.org_id))
        merged = {**current.as_dict(), **given, "updated_at": now}
        merged["maskers"] = [name for name in MASKER_NAMES if name in merged["maskers"]]
        store.put(conn, who.org_id, **merged)
        audit.record(conn, who, "changed", "privacy", who.org_id, given)
        if given.get("retention_days") is not None:
            retention.queue(conn, who.org_id, now)
    return Settings(**merged)


def policy_of(engine: Engine, org_id: int) -> Policy | None:
    """The organization's policy, read now (None: it masks nothing)."""
    found = read(engine, org_id)
    return compile_policy(found.maskers, found.custom_patterns)


MISSING: Any = object()  # `Policies.cached`: not known here (or no longer trusted)


class Policies:
    """Each organization's compiled policy, trusted for `ttl` seconds in this process.

    A miss reads the settings once; an organization without any caches None, so its logs
    cost one dict lookup. Another server process sees a change within `ttl` seconds."""

    MAX_ENTRIES = 10_000

    def __init__(self, engine: Engine, ttl: float) -> None:
        self._engine = engine
        self._ttl = ttl
        self._entries: dict[int, tuple[float, Policy | None]] = {}
        self._lock = threading.Lock()

    def cached(self, org_id: int) -> Policy | None:
        """The policy if known and fresh, else `MISSING`."""
        entry = self._entries.get(org_id)
        if entry is None or entry[0] < time.monotonic():
            return MISSING
        return entry[1]

    def load(self, org_id: int) -> Policy | None:
        policy = policy_of(self._engine, org_id)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[org_id] = (time.monotonic() + self._ttl, policy)
        return policy

    def forget(self, org_id: int) -> None:
        self._entries.pop(org_id, None)
