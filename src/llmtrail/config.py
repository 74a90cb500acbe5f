"""Settings read from the environment, in one place, so every entry point agrees on them."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What the server, the CLI and the worker need to know about their surroundings."""

    data_dir: Path
    database_url: str
    max_body_bytes: int
    # How long a verified key is trusted before it is looked up again: a revocation made by
    # another process (the CLI) takes effect within this many seconds.
    key_cache_seconds: float = 1.0

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


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("LLMTRAIL_DATA_DIR", "./.llmtrail")).resolve()
    url = os.environ.get("LLMTRAIL_DATABASE_URL") or f"sqlite:///{data_dir / 'llmtrail.db'}"
    max_body = int(os.environ.get("LLMTRAIL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    return Settings(
        data_dir=data_dir,
        database_url=normalise_database_url(url),
        max_body_bytes=max_body,
        key_cache_seconds=float(os.environ.get("LLMTRAIL_KEY_CACHE_SECONDS", "1")),
    )
