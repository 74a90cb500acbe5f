"""Queries over `organizations` and `api_keys`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from llmtrail.store.tables import api_keys, organizations


def org_id(conn: Connection, name: str, now: datetime) -> int:
    """The organization's id; it is created when new."""
    found = conn.scalar(select(organizations.c.id).where(organizations.c.name == name))
    if found is not None:
        return found
    return conn.scalar(
        organizations.insert().values(name=name, created_at=now).returning(organizations.c.id)
    )


def org_name(conn: Connection, org_id: int) -> str | None:
    return conn.scalar(select(organizations.c.name).where(organizations.c.id == org_id))


def find_org(conn: Connection, name: str) -> int | None:
    return conn.scalar(select(organizations.c.id).where(organizations.c.name == name))


def insert_key(conn: Connection, **values: object) -> int:
    return conn.scalar(api_keys.insert().values(**values).returning(api_keys.c.id))


def live_key(conn: Connection, key_hash: str) -> Row | None:
    """(id, org_id, name, environment, role) of the unrevoked key with this digest."""
    query = select(
        api_keys.c.id, api_keys.c.org_id, api_keys.c.name, api_keys.c.environment, api_keys.c.role
    )
    query = query.where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    return conn.execute(query).first()


def all_keys(conn: Connection, org_id: int | None = None) -> list[Row]:
    """Every key (of one organization, or of all) with its organization's name
    (`org_name`), oldest first."""
    query = (
        select(api_keys, organizations.c.name.label("org_name"))
        .join(organizations, organizations.c.id == api_keys.c.org_id)
        .order_by(api_keys.c.id)
    )
    if org_id is not None:
        query = query.where(api_keys.c.org_id == org_id)
    return conn.execute(query).all()


def revoke(conn: Connection, key_id: int, now: datetime, org_id: int | None = None) -> int | None:
    """Revoke a live key (of one organization, or of any); its organization's id, None when
    there is no such live key."""
    query = update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    if org_id is not None:
        query = query.where(api_keys.c.org_id == org_id)
    return conn.scalar(query.values(revoked_at=now).returning(api_keys.c.org_id))
