"""Queries over `users` and `memberships`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from llmtrail.store.tables import memberships, organizations, users


def insert_user(conn: Connection, email: str, password_hash: str, now: datetime) -> int:
    return conn.scalar(
        users.insert()
        .values(email=email, password_hash=password_hash, created_at=now)
        .returning(users.c.id)
    )


def by_email(conn: Connection, email: str) -> Row | None:
    return conn.execute(select(users).where(users.c.email == email)).first()


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def disable(conn: Connection, user_id: int, now: datetime) -> bool:
    """Disable a user; False when it was already disabled."""
    result = conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    return result.rowcount > 0


def set_role(conn: Connection, user_id: int, org_id: int, role: str, now: datetime) -> str | None:
    """Give the user this role in the organization (a member from now on when it was not);
    returns the role it had, None when it was no member."""
    found = conn.scalar(
        select(memberships.c.role).where(
            memberships.c.user_id == user_id, memberships.c.org_id == org_id
        )
    )
    if found is None:
        conn.execute(
            memberships.insert().values(user_id=user_id, org_id=org_id, role=role, created_at=now)
        )
    else:
        conn.execute(
            update(memberships)
            .where(memberships.c.user_id == user_id, memberships.c.org_id == org_id)
            .values(role=role)
        )
    return found


def membership(conn: Connection, user_id: int, org_id: int | None = None) -> Row | None:
    """(user_id, email, disabled_at, org_id, role) of the user in the organization; with
    no organization, in the one it joined first."""
    query = (
        select(
            users.c.id.label("user_id"),
            users.c.email,
            users.c.disabled_at,
            memberships.c.org_id,
            memberships.c.role,
        )
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(users.c.id == user_id)
        .order_by(memberships.c.created_at, memberships.c.org_id)
        .limit(1)
    )
    if org_id is not None:
        query = query.where(memberships.c.org_id == org_id)
    return conn.execute(query).first()


def org_ids_of(conn: Connection, user_id: int) -> list[int]:
    return list(conn.scalars(select(memberships.c.org_id).where(memberships.c.user_id == user_id)))


def all_members(conn: Connection, org_id: int | None = None) -> list[Row]:
    """Every user with each of its organizations (`org_name`, `role`; None for a user of
    none), by user then organization; with `org_id`, the members of that one alone."""
    query = (
        select(users, memberships.c.role, organizations.c.name.label("org_name"))
        .outerjoin(memberships, memberships.c.user_id == users.c.id)
        .outerjoin(organizations, organizations.c.id == memberships.c.org_id)
        .order_by(users.c.id, organizations.c.name)
    )
    if org_id is not None:
        query = query.where(memberships.c.org_id == org_id)
    return conn.execute(query).all()


def any_user(conn: Connection) -> bool:
    return conn.scalar(select(users.c.id).limit(1)) is not None
