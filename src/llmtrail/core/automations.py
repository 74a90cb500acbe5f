"""Automations: evaluate, with these evaluators, the sampled share of new complete logs that
match a condition (Keywords AI §2, seed 003), or every complete log of a monitored Humanloop
File. The jobs they cause are queued by `core/monitoring.py` in the transaction that
completes the logs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import audit
from llmtrail.core.evaluators import EvaluatorRef, ensure, version_named
from llmtrail.core.fields import text
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.named import Named
from llmtrail.errors import FieldError, Invalid
from llmtrail.store import evaluation as store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import automations, conditions, evaluators

AUTOMATIONS = Named(automations, "Automation")
ONLINE_EVAL = "online_eval"
FILE_MONITOR = "file_monitor"  # a Humanloop File's monitoring evaluators
SAMPLE_SCALE = 2**64


def sampled(automation_id: str, log_unique_id: str, rate: float) -> bool:
    """Whether the log is in the automation's sample: a hash of both, so the same log always
    gets the same answer, and a rate of r takes r of all logs."""
    if rate >= 1:
        return True
    digest = hashlib.blake2b(f"{automation_id}:{log_unique_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * SAMPLE_SCALE


def origin(automation_id: str) -> str:
    """How an automation's jobs say who queued them."""
    return f"automation:{automation_id}"


def _sampling_rate(configuration: Any) -> float:
    rate = configuration.get("sampling_rate") if isinstance(configuration, dict) else None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise Invalid(
            [
                FieldError(
                    ("configuration", "sampling_rate"), "Sampling rate must be between 0.0 and 1.0"
                )
            ]
        )
    return float(rate)


def _evaluator_ids(conn: Connection, org_id: int, given: Any) -> list[str]:
    """The ids of the evaluators named (by id or slug), in order; each must exist."""
    if not isinstance(given, list) or not given:
        raise Invalid.at("evaluator_ids", "At least one evaluator is required")
    found, missing = [], []
    for key in given:
        row = store.by_id_or_slug(conn, evaluators, org_id, str(key)) if key else None
        if row is None:
            missing.append(str(key))
        else:
            found.append(row.id)
    if missing:
        raise Invalid.at("evaluator_ids", f"Evaluators not found: {', '.join(missing)}")
    return list(dict.fromkeys(found))


def _named(body: dict[str, Any]) -> dict[str, str]:
    """The columns of the `name` and `automation_slug` a body gives, as text, not blank."""
    errors: list[FieldError] = []
    given = {
        column: text(body, name, blank=False, errors=errors)
        for name, column in (("name", "name"), ("automation_slug", "slug"))
    }
    if errors:
        raise Invalid(errors)
    return {column: value for column, value in given.items() if value is not None}


def _configuration(body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body["configuration"], dict):
        raise Invalid.at("configuration", "must be an object")
    return body["configuration"]


def _enabled(body: dict[str, Any]) -> bool:
    if not isinstance(body["is_enabled"], bool):  # not bool(): "false" would enable it
        raise Invalid.at("is_enabled", "Must be a valid boolean.")
    return body["is_enabled"]


def _condition(conn: Connection, org_id: int, key: Any) -> Row:
    row = store.by_id_or_slug(conn, conditions, org_id, str(key)) if key else None
    if row is None:
        raise Invalid.at("condition", f"Condition not found: {key}", status=404)
    if row.condition_type != "single_log":
        raise Invalid.at("condition", "aggregation conditions are not yet supported")
    return row


def create(engine: Engine, principal: Principal, body: dict[str, Any]) -> Row:
    errors = [
        FieldError((name,), "This field is required.", "missing")
        for name in ("automation_slug", "name", "automation_type", "condition", "configuration")
        if body.get(name) in (None, "")
    ]
    if errors:
        raise Invalid(errors)
    if body["automation_type"] != ONLINE_EVAL:
        raise Invalid.at("automation_type", f"must be '{ONLINE_EVAL}'")
    named = _named(body)
    is_enabled = _enabled(body) if "is_enabled" in body else False
    org_id = principal.org_id
    with begin_write(engine) as conn:
        evaluator_ids = _evaluator_ids(conn, org_id, body.get("evaluator_ids"))
        configuration = {**_configuration(body), "evaluator_ids": evaluator_ids}
        _sampling_rate(configuration)
        condition = _condition(conn, org_id, body["condition"])
        if store.by_id_or_slug(conn, automations, org_id, named["slug"]) is not None:
            raise Invalid.at(
                "automation_slug", "automation with this automation slug already exists."
            )
        row_id = new_id("auto_")
        now = utcnow()
        store.insert(
            conn,
            automations,
            dict(
                id=row_id,
                org_id=org_id,
                **named,
                automation_type=ONLINE_EVAL,
                condition_id=condition.id,
                file_id=None,
                evaluator_ids=evaluator_ids,
                configuration=configuration,
                is_enabled=is_enabled,
                created_at=now,
                updated_at=now,
            ),
        )
        audit.record(conn, principal, "created", "automation", row_id)
        return AUTOMATIONS.find(conn, principal, row_id)


def listed(
    engine: Engine, principal: Principal, page: int, page_size: int
) -> tuple[int, list[Row]]:
    return AUTOMATIONS.page(engine, principal, page, page_size, automation_type=ONLINE_EVAL)


def update(engine: Engine, principal: Principal, key: str, body: dict[str, Any]) -> Row:
    """Seed 003: a partial update; `configuration` merges into the stored one, `evaluator_ids`
    replaces the list; the create rules apply. Disabling stops new jobs at once: the next
    commit reads the automation afresh."""
    org_id = principal.org_id
    named = _named(body)
    with begin_write(engine) as conn:
        row = AUTOMATIONS.find(conn, principal, key)
        values: dict[str, Any] = {}
        configuration = dict(row.configuration)
        if "configuration" in body:
            configuration |= _configuration(body)
        if "evaluator_ids" in body:
            values["evaluator_ids"] = _evaluator_ids(conn, org_id, body["evaluator_ids"])
            configuration["evaluator_ids"] = values["evaluator_ids"]
        _sampling_rate(configuration)
        values["configuration"] = configuration
        if "is_enabled" in body:
            values["is_enabled"] = _enabled(body)
        if "name" in named:
            values["name"] = named["name"]
        if body.get("condition") is not None:
            values["condition_id"] = _condition(conn, org_id, body["condition"]).id
        slug = named.get("slug")
        if slug is not None and slug != row.slug:
            if store.by_id_or_slug(conn, automations, org_id, slug) is not None:
                raise Invalid.at(
                    "automation_slug", "automation with this automation slug already exists."
                )
            values["slug"] = slug
        store.update_row(conn, automations, org_id, row.id, **values, updated_at=utcnow())
        audit.record(conn, principal, "changed", "automation", row.id, {"fields": sorted(body)})
        return AUTOMATIONS.find(conn, principal, row.id)


def delete(engine: Engine, principal: Principal, key: str) -> int:
    """Delete an automation and cancel the jobs it queued that no worker started; returns
    how many were cancelled."""
    with begin_write(engine) as conn:
        return _delete_in(conn, principal, AUTOMATIONS.find(conn, principal, key))


def _delete_in(conn: Connection, principal: Principal, row: Row) -> int:
    cancelled = store.cancel_pending(conn, principal.org_id, origin(row.id), utcnow())
    store.delete_row(conn, automations, principal.org_id, row.id)
    audit.record(conn, principal, "deleted", "automation", row.id)
    return cancelled


def details(engine: Engine, principal: Principal, rows: list[Row]) -> tuple[dict, dict]:
    """The conditions and evaluators these automations name, by id, read at once."""
    with engine.connect() as conn:
        named = store.many_by_id(
            conn, conditions, principal.org_id, (r.condition_id for r in rows if r.condition_id)
        )
        used = store.many_by_id(
            conn, evaluators, principal.org_id, (e for r in rows for e in r.evaluator_ids)
        )
    return named, used


def set_monitors(
    conn: Connection, principal: Principal, file_id: str, activate: list[str], deactivate: list[str]
) -> list[str]:
    """A Humanloop File's monitoring evaluators, after activating and deactivating some; an
    automation of type `file_monitor` runs them on each complete log of the File."""
    org_id = principal.org_id
    row = store.automation_of_file(conn, org_id, file_id)
    current = list(row.evaluator_ids) if row is not None else []
    current = [e for e in current if e not in deactivate]
    current += [e for e in activate if e not in current]
    now = utcnow()
    if row is None:
        if not current:
            return []
        row_id = new_id("auto_")
        store.insert(
            conn,
            automations,
            dict(
                id=row_id,
                org_id=org_id,
                slug=f"monitor-{file_id}",
                name=f"Monitoring of {file_id}",
                automation_type=FILE_MONITOR,
                condition_id=None,
                file_id=file_id,
                evaluator_ids=current,
                configuration={"evaluator_ids": current, "sampling_rate": 1.0},
                is_enabled=True,
                created_at=now,
                updated_at=now,
            ),
        )
        audit.record(conn, principal, "created", "automation", row_id)
    else:
        store.update_row(
            conn,
            automations,
            org_id,
            row.id,
            evaluator_ids=current,
            configuration={**row.configuration, "evaluator_ids": current},
            is_enabled=bool(current),
            updated_at=now,
        )
        audit.record(
            conn, principal, "changed", "automation", row.id, {"fields": ["evaluator_ids"]}
        )
    return current


def drop_monitor_in(conn: Connection, principal: Principal, file_id: str) -> None:
    """Delete the automation that monitors a File (one being deleted), and cancel the jobs
    it queued that no worker started, in the caller's transaction."""
    row = store.automation_of_file(conn, principal.org_id, file_id)
    if row is not None:
        _delete_in(conn, principal, row)


def monitor(
    engine: Engine,
    principal: Principal,
    file_id: str,
    activate: Sequence[EvaluatorRef],
    deactivate: Sequence[EvaluatorRef],
) -> list[str]:
    """`set_monitors` with the evaluators named by a version or by their File: an activated
    one is made if its File has none yet, and one that names no evaluator, or the monitored
    Evaluator itself, refuses the whole change, saying which. (Evaluators may monitor each
    other: what a monitoring evaluator gives is a score, not a log, so it is not judged in
    turn; only judgments logged to an Evaluator are.)"""
    with begin_write(engine) as conn:
        named = [(ref, version_named(conn, principal, ref)) for ref in activate]
        for ref, version in named:
            if version.file_id == file_id:
                raise Invalid.at(ref.loc, "an Evaluator cannot monitor its own judgments")
        on = [ensure(conn, principal, version).id for _, version in named]
        off = [version_named(conn, principal, ref).file_id for ref in deactivate]
        return set_monitors(conn, principal, file_id, on, off)


def monitors(engine: Engine, principal: Principal, file_ids: Iterable[str]) -> dict[str, Row]:
    """The automation that monitors each of these Files (its `evaluator_ids`, and when it
    was made and last changed), of those that have one, read at once."""
    with engine.connect() as conn:
        return store.automations_of_files(conn, principal.org_id, file_ids)
