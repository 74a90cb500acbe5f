"""Who is signed in (`GET /auth/users/me/`, djoser style, for a JWT only) and the audit
trail of the organization (`GET /api/audit/`, for its admins)."""

from __future__ import annotations

from fastapi import Depends, Request

from llmtrail.api.auth import SECURITY_SCHEMES, jwt_principal, principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.keywords.responses import AuditPage, FieldErrors, Me
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.core import audit, users
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
