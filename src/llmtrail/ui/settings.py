"""Settings: the organization's API keys (a new key is shown once), its users and their
roles, its privacy settings (masking, retention; admins only) and its audit trail. Admins
change them; everyone else reads what they may."""

from __future__ import annotations

from fastapi import Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from llmtrail.core import audit, keys, privacy, roles, users
from llmtrail.core.keys import Principal
from llmtrail.errors import FieldError, Invalid, NotFound
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()
AUDIT_PAGE = 50


def _engine(request: Request) -> Engine:
    return session.backend(request).engine


@router.get("/settings")
async def settings_home() -> Response:
    return RedirectResponse("/settings/keys", status_code=303)


async def _keys_page(
    request: Request, who: Principal, new_key: str | None = None, status: int = 200
) -> Response:
    listed = await run_in_threadpool(keys.list_keys, _engine(request), who.org_id)
    context = {
        "nav": "settings",
        "tab": "keys",
        "keys": listed,
        "new_key": new_key,
        "key_roles": roles.KEY_ROLES,
    }
    return render(request, "settings/keys.html", context, status)


@router.get("/settings/keys")
async def keys_page(request: Request, who: Principal = Depends(session.signed_in)) -> Response:
    return await _keys_page(request, who)


@router.post("/settings/keys")
async def create_key(
    request: Request,
    name: str = Form("default"),
    environment: str = Form("prod"),
    role: str = Form(roles.MEMBER),
    who: Principal = Depends(session.admin),
) -> Response:
    """The new key's plaintext is in this answer alone: it is stored as a digest."""
    engine = _engine(request)
    org = await run_in_threadpool(keys.organization_name, engine, who.org_id)
    _, plaintext = await run_in_threadpool(
        keys.create_key,
        engine,
        name=name or "default",
        org=org,
        environment=environment,
        role=role,
        by=who,
    )
    return await _keys_page(request, who, plaintext, 201)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: int, who: Principal = Depends(session.admin)
) -> Response:
    await run_in_threadpool(keys.revoke_key, _engine(request), key_id, who)
    return RedirectResponse("/settings/keys", status_code=303)


@router.get("/settings/users")
async def users_page(request: Request, who: Principal = Depends(session.signed_in)) -> Response:
    listed = await run_in_threadpool(users.list_users, _engine(request), who.org_id)
    context = {"nav": "settings", "tab": "users", "users": listed, "roles": roles.ROLES}
    return render(request, "settings/users.html", context)


@router.post("/settings/users")
async def create_user(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    role: str = Form(roles.MEMBER),
    who: Principal = Depends(session.admin),
) -> Response:
    """A new member of this organization; they sign in with the password given here."""
    engine = _engine(request)
    org = await run_in_threadpool(keys.organization_name, engine, who.org_id)
    await run_in_threadpool(
        lambda: users.create_user(
            engine, email=email, password=password, org=org, role=role, by=who
        )
    )
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{user_id}/role")
async def set_role(
    request: Request,
    user_id: int,
    role: str = Form(...),
    who: Principal = Depends(session.admin),
) -> Response:
    engine = _engine(request)
    members = await run_in_threadpool(users.list_users, engine, who.org_id)
    member = next((u for u in members if u.id == user_id), None)
    if member is None or member.organization is None:
        raise NotFound(f"no user with id {user_id} in this organization")
    await run_in_threadpool(users.set_role, engine, member.email, member.organization, role, who)
    return RedirectResponse("/settings/users", status_code=303)


MASKERS = (
    ("email", "addresses like jo@example.com"),
    ("phone", "+44 20 7946 0958, (555) 123-4567"),
    ("card", "payment card numbers (Luhn-checked)"),
    ("secret", "API keys (sk-..., AKIA...), Bearer tokens, password=..."),
)


@router.get("/settings/privacy")
async def privacy_page(request: Request, who: Principal = Depends(session.admin)) -> Response:
    found = await run_in_threadpool(privacy.settings_of, _engine(request), who)
    context = {"nav": "settings", "tab": "privacy", "settings": found, "maskers": MASKERS}
    return render(request, "settings/privacy.html", context)


@router.post("/settings/privacy")
async def change_privacy(
    request: Request,
    maskers: list[str] = Form([]),
    custom_patterns: str = Form(""),
    retention_days: str = Form(""),
    who: Principal = Depends(session.admin),
) -> Response:
    """The whole form is the settings: what is left unticked or empty is switched off."""
    given = {
        "maskers": maskers,
        "custom_patterns": [line.strip() for line in custom_patterns.splitlines() if line.strip()],
        "retention_days": retention_days.strip() or None,
    }
    try:
        changes = privacy.Changes.model_validate(given)
    except ValidationError as exc:
        raise Invalid(
            [FieldError(tuple(e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
        ) from None
    await run_in_threadpool(privacy.update, _engine(request), who, changes)
    session.backend(request).privacy.forget(who.org_id)
    return RedirectResponse("/settings/privacy", status_code=303)


@router.get("/settings/audit")
async def audit_page(
    request: Request, page: int = 1, who: Principal = Depends(session.signed_in)
) -> Response:
    total, rows = await run_in_threadpool(
        audit.listed, _engine(request), who, max(page, 1), AUDIT_PAGE
    )
    context = {
        "nav": "settings",
        "tab": "audit",
        "rows": rows,
        "page": max(page, 1),
        "more": max(page, 1) * AUDIT_PAGE < total,
    }
    return render(request, "settings/audit.html", context)
