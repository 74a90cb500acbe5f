"""`llmtrail privacy show | set` and `llmtrail retention run`: an organization's masking and
retention, as its admins set them through `/api/privacy/`, and a sweep run now."""

from __future__ import annotations

import json

import typer
from pydantic import ValidationError

from llmtrail.cli.common import engine, err, refused
from llmtrail.core import keys as key_service
from llmtrail.core import privacy, retention
from llmtrail.core.keys import Principal

privacy_app = typer.Typer(
    help="What is masked in an organization's new logs, and how long they are kept.",
    no_args_is_help=True,
)
retention_app = typer.Typer(help="Delete logs past their organization's retention.")

ORG = typer.Option("default", help="The organization.")


def _show(found: privacy.Settings) -> None:
    shown = {**found.as_dict(), "updated_at": str(found.updated_at or "") or None}
    typer.echo(json.dumps(shown, indent=2))


@privacy_app.command("show")
def show(org: str = ORG) -> None:
    """The organization's settings, as JSON."""
    db = engine()
    with refused():
        org_id = key_service.organization(db, org)
    _show(privacy.read(db, org_id))


@privacy_app.command("set")
def set_(
    org: str = ORG,
    mask: list[str] | None = typer.Option(
        None, "--mask", help=f"A built-in masker to switch on ({', '.join(privacy.MASKER_NAMES)})."
    ),
    no_masks: bool = typer.Option(False, "--no-masks", help="Switch every built-in masker off."),
    pattern: list[str] | None = typer.Option(
        None, "--pattern", help="A regex of your own to mask (replaces the list)."
    ),
    no_patterns: bool = typer.Option(False, "--no-patterns", help="Drop every custom regex."),
    retention_days: int | None = typer.Option(None, help="Delete logs older than this."),
    keep_forever: bool = typer.Option(False, "--keep-forever", help="No retention."),
) -> None:
    """Change the settings: options given are set, others kept. Running servers apply
    masking changes within LLMTRAIL_PRIVACY_CACHE_SECONDS."""
    given: dict[str, object] = {}
    if mask or no_masks:
        given["maskers"] = [] if no_masks else mask
    if pattern or no_patterns:
        given["custom_patterns"] = [] if no_patterns else pattern
    if retention_days is not None or keep_forever:
        given["retention_days"] = None if keep_forever else retention_days
    try:
        changes = privacy.Changes.model_validate(given)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            err.print(f"error: {where}: {error['msg']}")
        raise typer.Exit(2) from None
    db = engine()
    with refused():
        org_id = key_service.organization(db, org)
        _show(privacy.update(db, Principal.operator(org_id), changes))


@retention_app.command("run")
def run(
    org: str | None = typer.Option(None, help="Only this organization. [default: all]"),
    batch_size: int = typer.Option(retention.BATCH, min=1, help="Logs deleted per transaction."),
) -> None:
    """Delete, now, every log past its organization's retention, a batch per transaction."""
    db = engine()
    with refused():
        org_id = key_service.organization(db, org) if org is not None else None
    names: dict[int, str] = {}

    def progress(org_id: int, deleted: int) -> None:
        name = names.get(org_id) or names.setdefault(
            org_id, key_service.organization_name(db, org_id)
        )
        err.print(f"{name}: {deleted} deleted")

    swept = retention.run_once(db, batch_size, org_id, progress)
    typer.echo(f"{sum(swept.values())} logs deleted in {len(swept)} organizations")
