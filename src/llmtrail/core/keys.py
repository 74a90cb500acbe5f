"""API keys: minted once, shown once, stored as a SHA-256 digest.

Keys are 256 random bits, so a fast digest is enough; a slow password hash would only
cost every request a few milliseconds.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from llmtrail.core import audit, roles
from llmtrail.core.ids import utcnow
from llmtrail.errors import Invalid, NotFound
from llmtrail.store import keys as store
from llmtrail.store.database import begin_write

Environment = Literal["prod", "test"]
KEY_PREFIX = "lt_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: every query is scoped to `org_id`, every write stamped with the key
    (None for a signed-in user), and `role` says what it may do. `via` is how it proved
    who it is: an API key, a JWT (then `user_id` is the user), or the command line."""

    org_id: int
    key_id: int | None
    key_name: str
    environment: str
    role: str = roles.MEMBER
    user_id: int | None = None
    via: Literal["key", "jwt", "cli"] = "key"

    @classmethod
    def operator(cls, org_id: int) -> Principal:
        """Whoever runs `llmtrail` on the server: it holds the database, so it is an admin."""
        return cls(org_id, None, "cli", "prod", roles.ADMIN, via="cli")

    @property
    def actor(self) -> tuple[str, int | None]:
        """Who the audit trail says did it: ("user", id), ("key", id) or ("cli", None)."""
        if self.via == "jwt":
            return "user", self.user_id
        return ("key", self.key_id) if self.via == "key" else ("cli", None)


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    organization: str
    environment: str
    role: str
    prefix: str
    created_at: str
    revoked: bool


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    engine: Engine,
    *,
    name: str = "default",
    org: str = "default",
    environment: str = "prod",
    role: str = roles.MEMBER,
    by: Principal | None = None,
) -> tuple[KeyInfo, str]:
    """Create a key (and its organization when new); returns the plaintext, never stored.
    `by`: who the audit trail names (the operator when None)."""
    if environment not in ("prod", "test"):
        raise Invalid.at("environment", "must be 'prod' or 'test'")
    roles.checked(role, roles.KEY_ROLES)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with begin_write(engine) as conn:
        org_id = store.org_id(conn, org, now)
        key_id = store.insert_key(
            conn,
            org_id=org_id,
            name=name,
            prefix=plaintext[:10],
            key_hash=digest(plaintext),
            environment=environment,
            role=role,
            created_at=now,
        )
        who = by or Principal.operator(org_id)
        audit.record(conn, who, "created", "key", key_id, {"role": role})
    info = KeyInfo(key_id, name, org, environment, role, plaintext[:10], now.isoformat(), False)
    return info, plaintext


class KeyCache:
    """Principals of recently verified keys, each trusted for `ttl` seconds. Held by the
    credential's digest: the server keeps no key, nor token, in plaintext."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(digest(key))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal, at_most: float = math.inf) -> None:
        """Trust `principal` for `ttl` seconds, or `at_most` if sooner (when a token expires)."""
        ttl = min(self._ttl, at_most)
        if ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest(key)] = (time.monotonic() + ttl, principal)


def authenticate(engine: Engine, key: str) -> Principal | None:
    """The principal for a live key, or None for an unknown or revoked one."""
    with engine.connect() as conn:
        row = store.live_key(conn, digest(key))
    return Principal(row.org_id, row.id, row.name, row.environment, row.role) if row else None


def list_keys(engine: Engine, org_id: int | None = None) -> list[KeyInfo]:
    """The keys of one organization, or of all."""
    with engine.connect() as conn:
        rows = store.all_keys(conn, org_id)
    return [
        KeyInfo(
            r.id,
            r.name,
            r.org_name,
            r.environment,
            r.role,
            r.prefix,
            r.created_at.isoformat(),
            r.revoked_at is not None,
        )
        for r in rows
    ]


def revoke_key(engine: Engine, key_id: int, by: Principal | None = None) -> None:
    """Revoke a key of any organization (the operator), or of `by`'s own."""
    with begin_write(engine) as conn:
        org_id = store.revoke(conn, key_id, utcnow(), by.org_id if by else None)
        if org_id is None:
            raise NotFound(f"no live key with id {key_id}")
        audit.record(conn, by or Principal.operator(org_id), "deleted", "key", key_id)


def organization_name(engine: Engine, org_id: int) -> str:
    with engine.connect() as conn:
        found = store.org_name(conn, org_id)
    if found is None:
        raise NotFound(f"no organization with id {org_id}")
    return found


def organization_id(engine: Engine, name: str) -> int:
    """The organization's id, made when new."""
    with begin_write(engine) as conn:
        return store.org_id(conn, name, utcnow())


def organization(engine: Engine, name: str) -> int:
    """An organization's id by name (the CLI's `--org`)."""
    with engine.connect() as conn:
        found = store.find_org(conn, name)
    if found is None:
        raise NotFound(f"no organization named '{name}'")
    return found
