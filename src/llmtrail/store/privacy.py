"""Queries over `org_privacy`: an organization's masking and retention settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.tables import org_privacy


def get(conn: Connection, org_id: int) -> Row | None:
    return conn.execute(select(org_privacy).where(org_privacy.c.org_id == org_id)).first()


def put(conn: Connection, org_id: int, **values: Any) -> None:
    """Insert or replace the organization's settings."""
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(org_privacy)
    statement = insert.values(org_id=org_id, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["org_id"], set_=values))


def with_retention(conn: Connection) -> list[Row]:
    """(org_id, retention_days) of every organization that keeps its logs for a while only."""
    query = select(org_privacy.c.org_id, org_privacy.c.retention_days).where(
        org_privacy.c.retention_days.is_not(None)
    )
    return conn.execute(query.order_by(org_privacy.c.org_id)).all()
