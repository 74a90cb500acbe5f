"""Settings read from the environment, in one place, so every entry point agrees on them."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_WRITER_QUEUE_ROWS = 50_000
DEFAULT_WRITER_QUEUE_BYTES = 64 * 1024 * 1024
DEFAULT_WRITER_WAIT_SECONDS = 5.0
N = TypeVar("N", int, float)


class ConfigError(ValueError):
    """A setting the server cannot start with; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """What the server, the CLI and the worker need to know about their surroundings."""

    data_dir: Path
    database_url: str
    max_body_bytes: int
    # How long a verified key is trusted before it is looked up again: a revocation made by
    # another process (the CLI) takes effect within this many seconds.
    key_cache_seconds: float = 1.0
    # What may wait for the writer (queued to be sent or sent and not answered), in rows and
    # in bytes of the frames sent, and how long a write waits for room before it is refused.
    writer_queue_rows: int = DEFAULT_WRITER_QUEUE_ROWS
    writer_queue_bytes: int = DEFAULT_WRITER_QUEUE_BYTES
    writer_wait_seconds: float = DEFAULT_WRITER_WAIT_SECONDS

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def server_secret(self) -> str:
        """The secret that signs JWTs, created on first use and kept in the data folder."""
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Let users write plain `postgresql://` URLs; SQLAlchemy needs the psycopg 3 driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _number(name: str, default: N, parse: Callable[[str], N], minimum: N) -> N:
    """The variable's value, or a ConfigError saying which variable is wrong and why."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    kind = "an integer" if parse is int else "a number"
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind} >= {minimum}, got {raw!r}") from None
    if not (value >= minimum and math.isfinite(value)):  # `not >=` also refuses nan
        raise ConfigError(f"{name} must be {kind} >= {minimum}, got {raw!r}")
    return value


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("LLMTRAIL_DATA_DIR", "./.llmtrail")).resolve()
    url = os.environ.get("LLMTRAIL_DATABASE_URL") or f"sqlite:///{data_dir / 'llmtrail.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=normalise_database_url(url),
        max_body_bytes=_number("LLMTRAIL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int, 1),
        key_cache_seconds=_number("LLMTRAIL_KEY_CACHE_SECONDS", 1.0, float, 0.0),
        writer_queue_rows=_number("LLMTRAIL_WRITER_QUEUE_ROWS", DEFAULT_WRITER_QUEUE_ROWS, int, 1),
        writer_queue_bytes=_number(
            "LLMTRAIL_WRITER_QUEUE_BYTES", DEFAULT_WRITER_QUEUE_BYTES, int, 1
        ),
        writer_wait_seconds=_number(
            "LLMTRAIL_WRITER_WAIT_SECONDS", DEFAULT_WRITER_WAIT_SECONDS, float, 0.0
        ),
    )
