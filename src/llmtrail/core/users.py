"""Users: people who sign in with an email and a password, with a role in each organization
they belong to.

Passwords are hashed with argon2id, slow on purpose: unlike a 256-bit API key, a password can
be guessed, and a stolen hash should cost a guesser as much as it costs us to check one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Row

from llmtrail.core import audit, roles
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, Invalid, NotFound, Unauthorized
from llmtrail.store import keys as org_store
from llmtrail.store import users as store
from llmtrail.store.database import begin_write

MIN_PASSWORD_CHARS = 8
# simplejwt's words, for every refusal to sign in: it never tells which part was wrong.
BAD_CREDENTIALS = "No active account found with the given credentials"
HASHER = PasswordHasher()
# What an unknown email's password is checked against, so that it takes as long to refuse
# as a wrong password does. Made at import, with the hasher's own parameters.
_NOBODY = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Member:
    """A user in one of its organizations, as a token names it."""

    user_id: int
    email: str
    org_id: int
    role: str


@dataclass(frozen=True)
class UserInfo:
    """A user in one of its organizations (`organization` None: in none), for listing."""

    id: int
    email: str
    organization: str | None
    role: str | None
    created_at: str
    disabled: bool


def canonical(email: str) -> str:
    """Emails are compared without regard to case or surrounding spaces."""
    return email.strip().lower()


def normalise_email(email: str) -> str:
    """The canonical form of an email a user is given, refused when it is none."""
    email = canonical(email)
    if "@" not in email.strip("@"):
        raise Invalid.at("email", f"'{email}' is not an email address")
    return email


def _matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    engine: Engine,
    *,
    email: str,
    password: str,
    org: str = "default",
    role: str = roles.MEMBER,
    by: Principal | None = None,
) -> UserInfo:
    """A new user, with `role` in `org` (made when new); 409 when the email is taken. The
    audit trail names `by` (the server's operator when None: the CLI)."""
    return _create(engine, email, password, org, role, first=False, by=by)


def create_first_admin(engine: Engine, *, email: str, password: str) -> UserInfo:
    """The first user of a fresh data dir, an admin of the default organization: refused
    (409) once any user exists, checked in the transaction that creates it."""
    return _create(engine, email, password, "default", roles.ADMIN, first=True)


def any_user(engine: Engine) -> bool:
    with engine.connect() as conn:
        return store.any_user(conn)


def _create(
    engine: Engine,
    email: str,
    password: str,
    org: str,
    role: str,
    first: bool,
    by: Principal | None = None,
) -> UserInfo:
    email = normalise_email(email)
    roles.checked(role)
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid.at("password", f"must have at least {MIN_PASSWORD_CHARS} characters")
    password_hash = HASHER.hash(password)
    now = utcnow()
    with begin_write(engine) as conn:
        if first and store.any_user(conn):
            raise Conflict("the first user exists already: sign in")
        if store.by_email(conn, email) is not None:
            raise Conflict(f"a user with email '{email}' already exists")
        user_id = store.insert_user(conn, email, password_hash, now)
        org_id = org_store.org_id(conn, org, now)
        store.set_role(conn, user_id, org_id, role, now)
        who = by or Principal.operator(org_id)
        audit.record(conn, who, "created", "user", user_id, {"role": role})
    return UserInfo(user_id, email, org, role, now.isoformat(), False)


def list_users(engine: Engine, org_id: int | None = None) -> list[UserInfo]:
    """Users with their role in each organization (in one organization only, with `org_id`)."""
    with engine.connect() as conn:
        rows = store.all_members(conn, org_id)
    return [
        UserInfo(
            r.id, r.email, r.org_name, r.role, r.created_at.isoformat(), r.disabled_at is not None
        )
        for r in rows
    ]


def set_role(engine: Engine, email: str, org: str, role: str, by: Principal | None = None) -> None:
    """Give the user `role` in `org`, making it a member there if it was not; `by`: who the
    audit trail names (the operator when None)."""
    roles.checked(role)
    now = utcnow()
    with begin_write(engine) as conn:
        user = _user(conn, email)
        org_id = org_store.find_org(conn, org)
        if org_id is None:
            raise NotFound(f"no organization named '{org}'")
        before = store.set_role(conn, user.id, org_id, role, now)
        who = by or Principal.operator(org_id)
        audit.record(conn, who, "changed", "user", user.id, {"role": [before, role]})


def disable_user(engine: Engine, email: str) -> None:
    """The user can no longer sign in, and its tokens stop working (within the key cache's
    seconds); each of its organizations' trails says so."""
    with begin_write(engine) as conn:
        user = _user(conn, email)
        if not store.disable(conn, user.id, utcnow()):
            raise Conflict(f"the user '{user.email}' is already disabled")
        for org_id in store.org_ids_of(conn, user.id):
            audit.record(
                conn, Principal.operator(org_id), "changed", "user", user.id, {"disabled": True}
            )


def _user(conn: Connection, email: str) -> Row:
    found = store.by_email(conn, canonical(email))
    if found is None:
        raise NotFound(f"no user with email '{email}'")
    return found


def verify(engine: Engine, email: str, password: str, org: str | None = None) -> Member:
    """The member whose password this is, in `org` (by name) or the organization it joined
    first. Every refusal is the same 401 after the same work: one argon2 check, against a
    stand-in hash when the email is unknown."""
    with engine.connect() as conn:
        user = store.by_email(conn, canonical(email))
        matches = _matches(user.password_hash if user else _NOBODY, password)
        if user is None or not matches or user.disabled_at is not None:
            raise Unauthorized(BAD_CREDENTIALS)
        found = _membership(conn, user.id, org)
        if found is None:
            raise Unauthorized(BAD_CREDENTIALS)
    if HASHER.check_needs_rehash(user.password_hash):  # the hasher's parameters were raised
        with begin_write(engine) as conn:
            store.set_password_hash(conn, user.id, HASHER.hash(password))
    return Member(user.id, user.email, found.org_id, found.role)


def _membership(conn: Connection, user_id: int, org: str | None) -> Row | None:
    if org is None:
        return store.membership(conn, user_id)
    org_id = org_store.find_org(conn, org)
    return store.membership(conn, user_id, org_id) if org_id is not None else None


def active_member(engine: Engine, user_id: int, org_id: int) -> Member:
    """The user a token names, as it is now: refused once it is disabled or has left the
    organization, with its current role (a token's own claim may be older)."""
    with engine.connect() as conn:
        found = store.membership(conn, user_id, org_id)
    if found is None:
        raise Unauthorized("The token's user is no longer a member of its organization.")
    if found.disabled_at is not None:
        raise Unauthorized("The token's user is disabled.")
    return Member(found.user_id, found.email, found.org_id, found.role)
