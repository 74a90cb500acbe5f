"""Editing what people say about logs: metadata, note, feedback, identifier, blur.

Telemetry never changes here. Every effective change appends one revision per field (who,
when, old value, new value), in the same transaction as the change, which the writer
commits and which publishes `LogsAnnotated`. A request that breaks a rule anywhere is
refused whole: nothing of it is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row

from llmtrail.core import events
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import EDITABLE_FIELDS, text_errors
from llmtrail.core.privacy import Policy
from llmtrail.errors import FieldError, Invalid, NotFound
from llmtrail.store import logs as store
from llmtrail.store import metadata_index, rollups
from llmtrail.store.writer import Writer, WriteTx, apply

_TYPES: dict[str, tuple[type, ...]] = {
    "metadata": (dict,),
    "note": (str,),
    "positive_feedback": (bool,),
    "custom_identifier": (str, int),
    "blurred": (bool,),
}


@dataclass(frozen=True)
class Annotation:
    """Changes to one log. `metadata` is a patch: keys merge in, a key set to None is removed."""

    unique_id: str
    changes: dict[str, Any]


def check(changes: dict[str, Any], loc: tuple[str | int, ...], allowed: tuple[str, ...]) -> None:
    """Refuse any field outside `allowed`, and values of the wrong type, naming each."""
    errors = []
    for name, value in changes.items():
        if name not in allowed:
            errors.append(
                FieldError(
                    (*loc, name),
                    f"field '{name}' cannot be updated; only {', '.join(allowed)} may change",
                    "immutable_field",
                )
            )
        elif value is not None and not isinstance(value, _TYPES[name]):
            kinds = " or ".join(t.__name__ for t in _TYPES[name])
            errors.append(FieldError((*loc, name), f"must be {kinds}", "type_error"))
        elif isinstance(value, bool) and _TYPES[name] == (str, int):
            errors.append(FieldError((*loc, name), "must be str or int", "type_error"))
    errors += text_errors({k: v for k, v in changes.items() if k in allowed}, loc=loc)
    if errors:
        raise Invalid(errors)


async def annotate(
    writer: Writer,
    principal: Principal,
    annotations: list[Annotation],
    source: str,
    allowed: tuple[str, ...] = EDITABLE_FIELDS,
    policy: Policy | None = None,
) -> list[dict[str, Any]]:
    """Apply every annotation or none; returns the updated logs' columns in request order.
    Metadata is masked by the organization's `policy`, as at ingest (the log then blurred)."""
    for index, item in enumerate(annotations):
        check(item.changes, ("logs", index), allowed)
    if policy is not None:
        annotations = [_masked(item, policy) for item in annotations]
    return await apply(writer, Annotate(principal, tuple(annotations), source))


def _masked(item: Annotation, policy: Policy) -> Annotation:
    changes, hit = policy.mask_columns(item.changes)
    return Annotation(item.unique_id, {**changes, "blurred": True} if hit else changes)


@dataclass(frozen=True)
class Annotate:
    """The annotations, applied in the writer's transaction (checked beforehand)."""

    principal: Principal
    annotations: tuple[Annotation, ...]
    source: str

    def __call__(self, tx: WriteTx) -> list[dict[str, Any]]:
        org_id = self.principal.org_id
        found = store.get_many(tx.conn, org_id, (a.unique_id for a in self.annotations))
        missing = [
            FieldError(
                ("logs", i, "unique_id"), f"no log with unique_id '{a.unique_id}'", "not_found"
            )
            for i, a in enumerate(self.annotations)
            if a.unique_id not in found
        ]
        if missing:
            raise Invalid(missing)
        current = {uid: dict(row._mapping) for uid, row in found.items()}
        changes = []
        for item in self.annotations:
            row = current[item.unique_id]
            values = _new_values(row, item.changes)
            changes.append((dict(row), values))
            row.update(values)
        record_many(tx, self.principal, changes, self.source, utcnow())
        return [current[a.unique_id] for a in self.annotations]


def record_many(
    tx: WriteTx,
    principal: Principal,
    changes: list[tuple[Mapping[str, Any], dict[str, Any]]],
    source: str,
    now: datetime,
) -> None:
    """Change logs' columns, for many (row, new values) pairs applied in order, in one
    statement per kind, and append one revision per changed field: who, when, old, new.
    The hourly rollups and the metadata index follow what changed; `LogsAnnotated` says it."""
    conn = tx.conn
    changed = [(row, values) for row, values in changes if values]
    store.update_many(conn, [(row["id"], values) for row, values in changed])
    moved = [(row, {**row, **values}) for row, values in changed]
    rollups.add(conn, principal.org_id, rollups.moved(moved))
    metadata_index.changed(conn, moved)
    for fields, rows in _by_fields(changed).items():
        ids = tuple(dict.fromkeys(row["id"] for row in rows))
        uids = tuple(dict.fromkeys(row["unique_id"] for row in rows))
        tx.publish(events.LogsAnnotated(principal.org_id, ids, uids, fields))
    store.add_revisions(
        conn,
        [
            {
                "org_id": principal.org_id,
                "log_id": row["id"],
                "created_at": now,
                "api_key_id": principal.key_id,
                "source": source,
                "field": name,
                "old_value": row[name],
                "new_value": new,
            }
            for row, values in changes
            for name, new in values.items()
        ],
    )


def _by_fields(
    changed: list[tuple[Mapping[str, Any], dict[str, Any]]],
) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    """The changed rows, grouped by which fields changed."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row, values in changed:
        groups.setdefault(tuple(sorted(values)), []).append(row)
    return groups


def _new_values(row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The columns that really change; metadata merges and drops keys set to None."""
    values = {}
    for name, value in changes.items():
        if name == "metadata":
            merged = dict(row["metadata"] or {})
            for key, item in (value or {}).items():
                if item is None:
                    merged.pop(key, None)
                else:
                    merged[key] = item
            value = merged
        if value != row[name]:
            values[name] = value
    return values


def history(engine: Engine, principal: Principal, unique_id: str) -> list[Row]:
    with engine.connect() as conn:
        row = store.get_by_unique_id(conn, principal.org_id, unique_id)
        if row is None:
            raise NotFound("Log not found")
        return store.revisions_of(conn, row.id)
