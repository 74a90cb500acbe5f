"""What every `llmtrail` command shares: its settings, the database, how it says it failed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy import Engine

from llmtrail.config import ConfigError, Settings, load_settings
from llmtrail.errors import DomainError
from llmtrail.store.database import make_engine
from llmtrail.store.migrate import upgrade

err = Console(stderr=True)


@contextmanager
def refused() -> Iterator[None]:
    """A domain error (not found, taken, invalid) said in one line, exit status 1."""
    try:
        yield
    except DomainError as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None


def engine() -> Engine:
    """The configured database, its schema brought up to date."""
    found = make_engine(settings().database_url)
    upgrade(found)
    return found
