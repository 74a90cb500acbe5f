"""Who is signed in (`GET /auth/users/me/`, djoser style, for a JWT only), the audit
trail of the organization (`GET /api/audit/`, for its admins) and its privacy settings
(`GET|PATCH /api/privacy/`, for its admins: neither dialect has an equivalent)."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from llmtrail.api.auth import SECURITY_SCHEMES, jwt_principal, principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.keywords.responses import AuditPage, FieldErrors, Me, PrivacySettings
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.core import audit, privacy, users
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal

ERRORS = {400: FieldErrors, 401: Detail, 403: Detail, 413: Detail}
surface = Surface(
    "People",
    errors=KeywordsErrors(),
    auth=principal,
    security={"HTTPBearer": SECURITY_SCHEMES["HTTPBearer"]},  # keys are never admins
    responses=failures(ERRORS, 401, 413),
    validation_status=400,
)
router = surface.router


@router.get(
    "/auth/users/me/",
    summary="The signed-in user (a JWT, not an API key)",
    responses=answers(200, Me, ERRORS),
)
def me(
    who: Principal = Depends(jwt_principal), backend: Backend = Depends(get_backend)
) -> dict[str, object]:
    member = users.active_member(backend.engine, who.user_id, who.org_id)  # type: ignore[arg-type]
    return {
        "id": member.user_id,
        "email": member.email,
        "organization_id": member.org_id,
        "role": member.role,
    }


@router.get(
    "/api/audit/",
    summary="Who created, changed or deleted what (admins only)",
    responses=answers(200, AuditPage, ERRORS, 400, 403),
)
def audit_trail(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = audit.listed(backend.engine, who, page, page_size)
    results = [
        {
            "id": r.id,
            "timestamp": iso(r.created_at),
            "actor_type": r.actor_type,
            "actor_id": r.actor_id,
            "action": r.action,
            "object_type": r.object_type,
            "object_id": r.object_id,
            "changes": r.changes,
        }
        for r in rows
    ]
    return paged(request, total, page, page_size, results)


def _privacy(found: privacy.Settings) -> dict[str, object]:
    return {**found.as_dict(), "updated_at": iso(found.updated_at) if found.updated_at else None}


@router.get(
    "/api/privacy/",
    summary="What is masked in new logs, and how long logs are kept (admins only)",
    responses=answers(200, PrivacySettings, ERRORS, 403),
)
async def privacy_settings(
    who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return JSONBody(_privacy(await run_in_threadpool(privacy.settings_of, backend.engine, who)))


@router.patch(
    "/api/privacy/",
    summary="Change what is masked in new logs, and the retention (admins only)",
    description="Fields given are set, others kept. Masking applies to logs stored from now "
    "on (within `LLMTRAIL_PRIVACY_CACHE_SECONDS` on other server processes); a retention "
    "deletes older logs in the background, in batches.",
    responses=answers(200, PrivacySettings, ERRORS, 400, 403),
)
async def change_privacy(
    body: privacy.Changes,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    found = await run_in_threadpool(privacy.update, backend.engine, who, body)
    backend.privacy.forget(who.org_id)
    return JSONBody(_privacy(found))
