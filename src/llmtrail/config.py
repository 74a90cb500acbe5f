"""Settings read from the environment, in one place, so every entry point agrees on them.

Every `LLMTRAIL_*` variable is read and checked here: a bad value stops the program at start
with a message naming the variable and what it takes, not a traceback from deep inside.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_OTLP_MAX_BODY_BYTES = 64 * 1024 * 1024  # OTLP's recommended limit, after decompression
DEFAULT_OTLP_GRPC_PORT = 4317
DEFAULT_WRITER_QUEUE_ROWS = 50_000
DEFAULT_WRITER_QUEUE_BYTES = 64 * 1024 * 1024
DEFAULT_WRITER_WAIT_SECONDS = 5.0
DEFAULT_JWT_ACCESS_SECONDS = 5 * 60
DEFAULT_JWT_REFRESH_SECONDS = 24 * 60 * 60
DEFAULT_IDEMPOTENCY_SECONDS = 24 * 60 * 60
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30.0
# HS256 wants a key at least as long as its 256-bit digest (RFC 7518 §3.2).
MIN_SECRET_KEY_CHARS = 32
T = TypeVar("T", int, float)


class ConfigError(ValueError):
    """An environment variable holds a value llmtrail cannot use."""


@dataclass(frozen=True)
class Settings:
    """What the server, the CLI and the worker need to know about their surroundings."""

    data_dir: Path
    database_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # How long a verified key is trusted before it is looked up again: a revocation made by
    # another process (the CLI) takes effect within this many seconds.
    key_cache_seconds: float = 1.0
    # How long a server process trusts an organization's masking settings: a change made in
    # another process (another `--workers` process, the CLI) applies within this many seconds.
    privacy_cache_seconds: float = 5.0
    # Server processes sharing the port (`serve --workers`).
    workers: int = 1
    # Jobs the worker process that `serve` starts runs at once; 0 starts none.
    job_concurrency: int = 1
    # How long a worker holds a job it claimed: if it dies, another takes the job after this.
    job_lease_seconds: float = 60.0
    # What may wait for the writer (queued to be sent or sent and not answered), in rows and
    # in bytes of the frames sent, and how long a write waits for room before it is refused.
    writer_queue_rows: int = DEFAULT_WRITER_QUEUE_ROWS
    writer_queue_bytes: int = DEFAULT_WRITER_QUEUE_BYTES
    writer_wait_seconds: float = DEFAULT_WRITER_WAIT_SECONDS
    # The OpenAI-compatible chat-completions endpoint LLM judges call, its key, and how long
    # a call may take.
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: str | None = None
    llm_timeout_seconds: float = 60.0
    # How many more attempts a Prompt call makes at once after a 429, 5xx or timeout (the
    # judge's jobs are retried later by the worker instead).
    llm_retries: int = 2
    # What a code evaluator may use: seconds of wall time, megabytes of memory.
    code_timeout_seconds: float = 5.0
    code_memory_mb: int = 256
    # OTLP: the largest export body (also once decompressed), and the OTLP/gRPC port (0: off).
    otlp_max_body_bytes: int = DEFAULT_OTLP_MAX_BODY_BYTES
    otlp_grpc_port: int = DEFAULT_OTLP_GRPC_PORT
    # Where it listens: `serve --host` sets it for the server processes it starts.
    otlp_grpc_host: str = "127.0.0.1"
    # What signs JWTs; None: the secret `serve` generates into the data dir.
    secret_key: str | None = None
    # How long a JWT access token, and the refresh token that renews it, are good for.
    jwt_access_seconds: int = DEFAULT_JWT_ACCESS_SECONDS
    jwt_refresh_seconds: int = DEFAULT_JWT_REFRESH_SECONDS
    # How long the answer of a write sent with an `Idempotency-Key` answers its retries.
    idempotency_seconds: float = DEFAULT_IDEMPOTENCY_SECONDS
    # On SIGTERM, how long each step of stopping may take: requests in flight finishing,
    # the writer committing what it holds, the job worker finishing its running jobs.
    shutdown_timeout_seconds: float = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
    # Requests a second each key (or signed-in user) may send, with bursts of up to
    # `rate_limit_burst`, per server process; 0: no limit.
    rate_limit_per_second: float = 0.0
    rate_limit_burst: int = 0  # 0: one second's worth
    # Origins a browser may call the API from (CORS); none: no cross-origin call at all.
    cors_origins: tuple[str, ...] = ()
    # How long a request body may stop arriving before the request is answered 408.
    body_timeout_seconds: float = 30.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Let users write plain `postgresql://` URLs; SQLAlchemy needs the psycopg 3 driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _number(
    env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], minimum: T
) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw.strip())
    except ValueError:
        kind = "an integer" if parse is int else "a number"
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    if not (value >= minimum and math.isfinite(value)):  # `not >=` also refuses nan
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _secret_key(env: Mapping[str, str]) -> str | None:
    raw = env.get("LLMTRAIL_SECRET_KEY") or None
    if raw is not None and len(raw) < MIN_SECRET_KEY_CHARS:
        raise ConfigError(
            f"LLMTRAIL_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters, "
            f"got {len(raw)}"
        )
    return raw


def _token_lifetimes(env: Mapping[str, str]) -> tuple[int, int]:
    """(access, refresh) seconds: a refresh token that died before its access token could
    never renew it."""
    access = _number(env, "LLMTRAIL_JWT_ACCESS_SECONDS", DEFAULT_JWT_ACCESS_SECONDS, int, 1)
    refresh = _number(env, "LLMTRAIL_JWT_REFRESH_SECONDS", DEFAULT_JWT_REFRESH_SECONDS, int, 1)
    if refresh < access:
        raise ConfigError(
            f"LLMTRAIL_JWT_REFRESH_SECONDS must be at least LLMTRAIL_JWT_ACCESS_SECONDS "
            f"({access}), got {refresh}"
        )
    return access, refresh


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    access_seconds, refresh_seconds = _token_lifetimes(env)
    data_dir = Path(env.get("LLMTRAIL_DATA_DIR") or "./.llmtrail").resolve()
    url = env.get("LLMTRAIL_DATABASE_URL") or f"sqlite:///{data_dir / 'llmtrail.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=normalise_database_url(url),
        max_body_bytes=_number(env, "LLMTRAIL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int, 1),
        key_cache_seconds=_number(env, "LLMTRAIL_KEY_CACHE_SECONDS", 1.0, float, 0.0),
        privacy_cache_seconds=_number(env, "LLMTRAIL_PRIVACY_CACHE_SECONDS", 5.0, float, 0.0),
        workers=_number(env, "LLMTRAIL_WORKERS", 1, int, 1),
        job_concurrency=_number(env, "LLMTRAIL_JOB_CONCURRENCY", 1, int, 0),
        job_lease_seconds=_number(env, "LLMTRAIL_JOB_LEASE_SECONDS", 60.0, float, 1.0),
        writer_queue_rows=_number(
            env, "LLMTRAIL_WRITER_QUEUE_ROWS", DEFAULT_WRITER_QUEUE_ROWS, int, 1
        ),
        writer_queue_bytes=_number(
            env, "LLMTRAIL_WRITER_QUEUE_BYTES", DEFAULT_WRITER_QUEUE_BYTES, int, 1
        ),
        writer_wait_seconds=_number(
            env, "LLMTRAIL_WRITER_WAIT_SECONDS", DEFAULT_WRITER_WAIT_SECONDS, float, 0.0
        ),
        llm_base_url=env.get("LLMTRAIL_LLM_BASE_URL") or "https://api.openai.com/v1",
        llm_api_key=env.get("LLMTRAIL_LLM_API_KEY") or None,
        llm_timeout_seconds=_number(env, "LLMTRAIL_LLM_TIMEOUT_SECONDS", 60.0, float, 0.1),
        llm_retries=_number(env, "LLMTRAIL_LLM_RETRIES", 2, int, 0),
        code_timeout_seconds=_number(env, "LLMTRAIL_CODE_TIMEOUT_SECONDS", 5.0, float, 0.1),
        code_memory_mb=_number(env, "LLMTRAIL_CODE_MEMORY_MB", 256, int, 32),
        otlp_max_body_bytes=_number(
            env, "LLMTRAIL_OTLP_MAX_BODY_BYTES", DEFAULT_OTLP_MAX_BODY_BYTES, int, 1
        ),
        otlp_grpc_port=_port(env, "LLMTRAIL_OTLP_GRPC_PORT", DEFAULT_OTLP_GRPC_PORT),
        otlp_grpc_host=env.get("LLMTRAIL_OTLP_GRPC_HOST") or "127.0.0.1",
        secret_key=_secret_key(env),
        jwt_access_seconds=access_seconds,
        jwt_refresh_seconds=refresh_seconds,
        idempotency_seconds=_number(
            env, "LLMTRAIL_IDEMPOTENCY_SECONDS", DEFAULT_IDEMPOTENCY_SECONDS, float, 1.0
        ),
        rate_limit_per_second=_number(env, "LLMTRAIL_RATE_LIMIT_PER_SECOND", 0.0, float, 0.0),
        rate_limit_burst=_number(env, "LLMTRAIL_RATE_LIMIT_BURST", 0, int, 0),
        cors_origins=tuple(
            origin.strip()
            for origin in (env.get("LLMTRAIL_CORS_ORIGINS") or "").split(",")
            if origin.strip()
        ),
        body_timeout_seconds=_number(env, "LLMTRAIL_BODY_TIMEOUT_SECONDS", 30.0, float, 0.1),
        shutdown_timeout_seconds=_number(
            env, "LLMTRAIL_SHUTDOWN_TIMEOUT_SECONDS", DEFAULT_SHUTDOWN_TIMEOUT_SECONDS, float, 0.1
        ),
    )


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    """A TCP port, or 0 for none."""
    port = _number(env, name, default, int, 0)
    if port > 65535:
        raise ConfigError(f"{name} must be a port (1-65535) or 0 for off, got {env[name]!r}")
    return port
