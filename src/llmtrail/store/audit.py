"""Queries over `audit_events`."""

from __future__ import annotations

from sqlalchemy import Connection, Row, func, select

from llmtrail.store.tables import audit_events, organizations


def insert(conn: Connection, **values: object) -> None:
    conn.execute(audit_events.insert().values(**values))


def page(conn: Connection, org_id: int | None, offset: int, limit: int) -> tuple[int, list[Row]]:
    """(total, one page newest first, each with its `org_name`), of one organization or of
    all (None)."""
    where = [] if org_id is None else [audit_events.c.org_id == org_id]
    total = conn.scalar(select(func.count()).select_from(audit_events).where(*where))
    query = (
        select(audit_events, organizations.c.name.label("org_name"))
        .join(organizations, organizations.c.id == audit_events.c.org_id)
        .where(*where)
        .order_by(audit_events.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total or 0, conn.execute(query).all()
