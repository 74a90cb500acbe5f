"""The audit trail: who created, changed or deleted keys, users, evaluators, automations,
conditions, ... and when.

Each change records itself through `record`, on the connection of its own transaction, so
a change and its audit row commit, or roll back, together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import roles
from llmtrail.core.ids import utcnow
from llmtrail.store import audit as store

if TYPE_CHECKING:  # keys record themselves here
    from llmtrail.core.keys import Principal

Action = Literal["created", "changed", "deleted"]


def record(
    conn: Connection,
    who: Principal,
    action: Action,
    object_type: str,
    object_id: str | int,
    changes: dict[str, Any] | None = None,
) -> None:
    """One audit row in `who`'s organization; `changes` says what a change set, when the
    names of the fields are worth keeping (never their secrets)."""
    actor_type, actor_id = who.actor
    store.insert(
        conn,
        org_id=who.org_id,
        created_at=utcnow(),
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes,
    )


def listed(engine: Engine, who: Principal, page: int, page_size: int) -> tuple[int, list[Row]]:
    """The organization's trail, newest first: for its admins only."""
    roles.must_be_admin(who)
    with engine.connect() as conn:
        return store.page(conn, who.org_id, (page - 1) * page_size, page_size)


def latest(engine: Engine, org_id: int | None, limit: int) -> list[Row]:
    """The newest rows of one organization, or of all (the CLI's `llmtrail audit`)."""
    with engine.connect() as conn:
        return store.page(conn, org_id, 0, limit)[1]
