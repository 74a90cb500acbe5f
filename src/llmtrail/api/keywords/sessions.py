"""Sign-in (contract §0): `POST /auth/jwt/create/` and `/auth/jwt/refresh/`, in the
djoser/simplejwt style the Keywords AI platform's front end calls. Open routes: they are how
a user gets its credentials.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.keywords.responses import AccessToken, FieldErrors, TokenPair
from llmtrail.api.keywords.schemas import Refresh, SignIn
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.surface import Surface
from llmtrail.core import sessions
from llmtrail.errors import Invalid

ERRORS = {400: FieldErrors, 401: Detail, 413: Detail}
surface = Surface(
    "Sessions",
    errors=KeywordsErrors(),
    auth=None,
    responses=failures(ERRORS, 400, 401, 413),
    validation_status=400,
)
router = surface.router


@router.post(
    "/auth/jwt/create/",
    summary="Sign in: an access and a refresh token",
    description="Every refusal is the same 401, whether the email is unknown, the password "
    "wrong or the user disabled.",
    responses=answers(200, TokenPair, ERRORS),
)
def create_tokens(body: SignIn, backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    email = body.email or body.username
    if not email:
        raise Invalid.at("email", "This field is required.", "missing")
    return sessions.sign_in(backend.engine, backend.signer, email, body.password, body.organization)


@router.post(
    "/auth/jwt/refresh/",
    summary="A new access token for a refresh token",
    responses=answers(200, AccessToken, ERRORS),
)
def refresh_token(body: Refresh, backend: Backend = Depends(get_backend)) -> dict[str, Any]:
    return sessions.refresh(backend.engine, backend.signer, body.refresh)
