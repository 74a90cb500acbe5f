"""`llmtrail serve | worker | evaluate | jobs | migrate | keys ... | users ... | audit |
privacy ... | retention run`:
configured by LLMTRAIL_* environment variables."""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime
from enum import StrEnum

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from llmtrail.cli.common import engine as _engine
from llmtrail.cli.common import err, refused
from llmtrail.cli.common import settings as _settings
from llmtrail.cli.privacy import privacy_app, retention_app
from llmtrail.cli.transfer import datasets_app, logs_app
from llmtrail.core import audit as audit_service
from llmtrail.core import jobs as job_service
from llmtrail.core import keys as key_service
from llmtrail.core import roles
from llmtrail.core import users as user_service
from llmtrail.core.ids import to_utc_naive
from llmtrail.core.keys import Principal
from llmtrail.core.tokens import ensure_secret
from llmtrail.errors import NotFound
from llmtrail.worker import process as worker_process

app = typer.Typer(help="llmtrail: self-hosted LLM observability.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(
    help="Create, list, disable users and set their roles.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
app.add_typer(logs_app, name="logs")
app.add_typer(datasets_app, name="datasets")
app.add_typer(privacy_app, name="privacy")
app.add_typer(retention_app, name="retention")


class Env(StrEnum):
    prod = "prod"
    test = "test"


Role = StrEnum("Role", {role: role for role in roles.ROLES})  # type: ignore[misc]
KeyRole = StrEnum("KeyRole", {role: role for role in roles.KEY_ROLES})  # type: ignore[misc]


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
    ensure_secret(settings)  # before any server process starts: they all read it
    err.print(
        f"llmtrail on http://{host}:{port} (database: {settings.database_url.split('@')[-1]})"
    )
    # The OTLP/gRPC receiver each server process starts listens where HTTP does.
    os.environ.setdefault("LLMTRAIL_OTLP_GRPC_HOST", host)
    if settings.otlp_grpc_port:
        err.print(f"OTLP/gRPC on {host}:{settings.otlp_grpc_port}")
    jobs = worker_process.spawn(settings.job_concurrency) if settings.job_concurrency else None
    # Uvicorn shuts down gracefully on SIGTERM or SIGINT, then raises the signal again for the
    # handler it found: this one lets the job worker be stopped (in its bound) and serve exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
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
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        )
    finally:
        if jobs is not None:
            worker_process.stop(jobs, settings.shutdown_timeout_seconds)


@app.command()
def demo(org: str = typer.Option("default", help="The organization to fill.")) -> None:
    """Load a realistic demo data set (traces, chat calls, errors, scores, a dataset) into
    the current data dir, to see the whole UI at once."""
    from llmtrail import demo as demo_data

    loaded = demo_data.load(_engine(), org)
    err.print(
        f"demo: {loaded.logs} logs in {loaded.traces} traces and single calls, "
        f"{loaded.scores} scores, dataset {loaded.dataset_id} (filled by the server's worker); "
        "open the UI with `llmtrail serve`"
    )


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
def evaluate(
    automation: str = typer.Option(..., help="The automation's slug or id."),
    since: datetime = typer.Option(..., help="Evaluate the complete logs stored since then."),
    org: str = typer.Option("default", help="The automation's organization."),
) -> None:
    """Backfill: queue an automation's evaluations of logs already stored (sampled and
    filtered as new logs are). Safe to run again: what is queued or done is not repeated."""
    from llmtrail.core.monitoring import backfill

    engine = _engine()
    try:
        org_id = key_service.organization(engine, org)
        columns = (TextColumn("logs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, TextColumn("{task.fields[queued]} queued"), console=err) as bar:
            task = bar.add_task("backfill", total=None, queued=0)
            for seen, total, queued in backfill(engine, org_id, automation, to_utc_naive(since)):
                bar.update(task, completed=seen, total=total, queued=queued)
    except NotFound as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    err.print("queued: workers (the one `serve` starts, or `llmtrail worker`) run them")


@app.command()
def jobs(
    org: str = typer.Option("default", help="The organization."),
    state: str | None = typer.Option(None, help="List this state's jobs (say, dead)."),
    limit: int = typer.Option(50, min=1, help="Jobs listed at most."),
) -> None:
    """Background jobs: how many are in each state, per automation; or those of one state."""
    engine = _engine()
    try:
        who = Principal.operator(key_service.organization(engine, org))
    except NotFound as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    if state is None:
        summary = job_service.summary(engine, who)
        table = Table("origin", *job_service.STATES)
        for row in [{"origin": "(all)", "by_state": summary["by_state"]}, *summary["by_origin"]]:
            table.add_row(
                row["origin"] or "-", *(str(row["by_state"][s]) for s in job_service.STATES)
            )
        Console().print(table)
        return
    _, rows = job_service.listed(engine, who, 1, limit, state=state)
    table = Table("id", "kind", "origin", "attempts", "updated", "last error")
    for job in rows:
        table.add_row(
            str(job.id),
            job.kind,
            job.origin or "-",
            f"{job.attempts}/{job.max_attempts}",
            job.updated_at.isoformat(timespec="seconds"),
            (job.last_error or "")[:120],
        )
    Console().print(table)


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
    role: KeyRole = typer.Option(KeyRole.member, help="A viewer key reads and cannot write."),
) -> None:
    """Create a key; its plaintext is printed once, alone on the last line."""
    info, plaintext = key_service.create_key(
        _engine(), name=name, org=org, environment=environment.value, role=role.value
    )
    err.print(
        f"key {info.id} ({info.name}, org {info.organization}, {info.environment}, {info.role})"
    )
    print(plaintext)


@keys_app.command("list")
def list_keys() -> None:
    """Every key, with its organization and state (never the secret)."""
    table = Table("id", "name", "organization", "environment", "role", "prefix", "created", "state")
    for k in key_service.list_keys(_engine()):
        state = "revoked" if k.revoked else "live"
        table.add_row(
            str(k.id), k.name, k.organization, k.environment, k.role, k.prefix, k.created_at, state
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


@users_app.command("create")
def create_user(
    email: str = typer.Option(..., help="Signs in with it; compared without regard to case."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Asked when not given."
    ),
    org: str = typer.Option("default", help="Organization; created when new."),
    role: Role = typer.Option(Role.member, help="What the user may do in the organization."),
) -> None:
    """Create a user who signs in at /auth/jwt/create/."""
    with refused():
        info = user_service.create_user(
            _engine(), email=email, password=password, org=org, role=role.value
        )
    err.print(f"user {info.id} ({info.email}, {info.role} of {info.organization})")


@users_app.command("list")
def list_users() -> None:
    """Every user, once per organization it belongs to (never the password hash)."""
    table = Table("id", "email", "organization", "role", "created", "state")
    for u in user_service.list_users(_engine()):
        state = "disabled" if u.disabled else "active"
        table.add_row(str(u.id), u.email, u.organization or "-", u.role or "-", u.created_at, state)
    Console().print(table)


@users_app.command("set-role")
def set_role(
    email: str = typer.Argument(..., help="The user's email."),
    role: Role = typer.Option(..., help="The user's new role in the organization."),
    org: str = typer.Option("default", help="The organization; the user joins it if not in it."),
) -> None:
    """Set a user's role in an organization: it applies to tokens already issued too."""
    with refused():
        user_service.set_role(_engine(), email, org, role.value)
    err.print(f"{email} is {role.value} of {org}")


@users_app.command("disable")
def disable_user(email: str = typer.Argument(..., help="The user's email.")) -> None:
    """Disable a user: it cannot sign in, and its tokens stop working within
    LLMTRAIL_KEY_CACHE_SECONDS."""
    with refused():
        user_service.disable_user(_engine(), email)
    err.print(f"{email} disabled")


@app.command()
def audit(
    org: str | None = typer.Option(None, help="One organization's trail. [default: all]"),
    limit: int = typer.Option(50, min=1, help="Rows shown at most, newest first."),
) -> None:
    """Who created, changed or deleted keys, users, evaluators, automations, conditions."""
    engine = _engine()
    with refused():
        org_id = key_service.organization(engine, org) if org is not None else None
    table = Table("id", "when", "organization", "who", "action", "object", "changes")
    for r in audit_service.latest(engine, org_id, limit):
        who = r.actor_type if r.actor_id is None else f"{r.actor_type} {r.actor_id}"
        table.add_row(
            str(r.id),
            r.created_at.isoformat(timespec="seconds"),
            r.org_name,
            who,
            r.action,
            f"{r.object_type} {r.object_id}",
            json.dumps(r.changes) if r.changes else "",
        )
    Console().print(table)
