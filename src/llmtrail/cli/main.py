"""`llmtrail serve | migrate | keys ...`: configured by LLMTRAIL_* environment variables."""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from llmtrail.config import ConfigError, Settings, load_settings
from llmtrail.core import keys as key_service
from llmtrail.errors import NotFound
from llmtrail.store.database import make_engine
from llmtrail.store.migrate import upgrade
from llmtrail.worker import process as worker_process

app = typer.Typer(help="llmtrail: self-hosted LLM observability.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
err = Console(stderr=True)


class Env(StrEnum):
    prod = "prod"
    test = "test"


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None


def _engine():  # type: ignore[no-untyped-def]
    engine = make_engine(_settings().database_url)
    upgrade(engine)
    return engine


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int | None = typer.Option(
        None,
        min=1,
        help="Server processes sharing the port (one per core). [default: LLMTRAIL_WORKERS or 1]",
    ),
) -> None:
    """Bring the schema up to date, then serve the API."""
    import uvicorn

    settings = _settings()
    _engine().dispose()
    err.print(
        f"llmtrail on http://{host}:{port} (database: {settings.database_url.split('@')[-1]})"
    )
    jobs = worker_process.spawn(settings.job_concurrency) if settings.job_concurrency else None
    try:
        uvicorn.run(
            "llmtrail.api.app:create_app",
            factory=True,
            workers=workers or settings.workers,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,
        )
    finally:
        if jobs is not None:
            worker_process.stop(jobs)


@app.command()
def worker(
    concurrency: int = typer.Option(
        None, min=1, help="Jobs run at once. [default: LLMTRAIL_JOB_CONCURRENCY or 1]"
    ),
) -> None:
    """Run background jobs (evaluations, exports, ...) until stopped; any number may run."""
    settings = _settings()
    _engine().dispose()
    worker_process.run(settings, concurrency or max(settings.job_concurrency, 1))


@app.command()
def openapi() -> None:
    """Print the OpenAPI document the server serves at /openapi.json."""
    from llmtrail.api.app import create_app

    print(json.dumps(create_app(_settings()).openapi(), indent=2, sort_keys=True))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    _engine().dispose()
    err.print("database is up to date")


@keys_app.command("create")
def create_key(
    name: str = typer.Option("default", help="A label for the key."),
    org: str = typer.Option("default", help="Organization; created when new."),
    environment: Env = typer.Option(Env.prod, help="Stamped on every log the key writes."),
) -> None:
    """Create a key; its plaintext is printed once, alone on the last line."""
    info, plaintext = key_service.create_key(
        _engine(), name=name, org=org, environment=environment.value
    )
    err.print(f"key {info.id} ({info.name}, org {info.organization}, {info.environment})")
    print(plaintext)


@keys_app.command("list")
def list_keys() -> None:
    """Every key, with its organization and state (never the secret)."""
    table = Table("id", "name", "organization", "environment", "prefix", "created", "state")
    for k in key_service.list_keys(_engine()):
        state = "revoked" if k.revoked else "live"
        table.add_row(
            str(k.id), k.name, k.organization, k.environment, k.prefix, k.created_at, state
        )
    Console().print(table)


@keys_app.command("revoke")
def revoke_key(key_id: int = typer.Argument(..., help="The key's id, from `keys list`.")) -> None:
    """Revoke a key: running servers refuse it within LLMTRAIL_KEY_CACHE_SECONDS."""
    try:
        key_service.revoke_key(_engine(), key_id)
    except NotFound as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    err.print(f"key {key_id} revoked")
