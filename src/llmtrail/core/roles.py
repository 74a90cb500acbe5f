"""Roles: what a member of an organization, or an API key, may do there.

A viewer reads; a member also writes (logs, datasets, evaluators, automations, ...); an admin
also manages keys and users and reads the audit trail. Keys are members or viewers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmtrail.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from llmtrail.core.keys import Principal

ADMIN, MEMBER, VIEWER = "admin", "member", "viewer"
ROLES = (ADMIN, MEMBER, VIEWER)
KEY_ROLES = (MEMBER, VIEWER)


def checked(role: str, allowed: tuple[str, ...] = ROLES) -> str:
    if role not in allowed:
        raise Invalid.at("role", f"must be one of {', '.join(allowed)}, got '{role}'")
    return role


def may_write(who: Principal) -> None:
    if who.role == VIEWER:
        raise Forbidden(f"Your role, {who.role}, may read but not write.")


def must_be_admin(who: Principal) -> None:
    if who.role != ADMIN:
        raise Forbidden(f"Your role, {who.role}, may not do this: it is for admins only.")
