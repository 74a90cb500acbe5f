"""Queries over `idempotency_keys`: the stored answers of writes, for their retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from llmtrail.store.tables import idempotency_keys as keys


def find(conn: Connection, org_id: int, key: str, now: datetime) -> Row | None:
    """(fingerprint, status, body) of the key's unexpired answer."""
    query = select(keys.c.fingerprint, keys.c.status, keys.c.body).where(
        keys.c.org_id == org_id, keys.c.key == key, keys.c.expires_at > now
    )
    return conn.execute(query).first()


def remember(conn: Connection, row: dict[str, Any]) -> None:
    """Store an answer, in the write's transaction. Expired answers go first (so an expired
    key is free again, and the table holds only live ones); a live one with the same key
    raises IntegrityError, which fails the whole write: a concurrent twin of the request
    committed first."""
    conn.execute(delete(keys).where(keys.c.expires_at <= row["created_at"]))
    conn.execute(insert(keys), [row])
