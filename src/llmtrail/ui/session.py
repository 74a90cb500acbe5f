"""Browser sessions and CSRF tokens.

The session cookie holds the user's refresh token (`core.sessions.resume`), HttpOnly and
SameSite=Lax, Secure when the page came over HTTPS. CSRF is a signed double submit: a random
nonce lives in a cookie of its own, and every form (and every HTMX request, by header) sends
HMAC(secret, nonce), which a page of another site can neither read nor forge.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend
from llmtrail.core import roles, sessions
from llmtrail.core.keys import Principal
from llmtrail.errors import DomainError, Forbidden, Unauthorized

SESSION_COOKIE = "llmtrail_session"
CSRF_COOKIE = "llmtrail_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_REFUSED = "The form's CSRF token is missing or wrong: reload the page and try again."


class SignInRequired(DomainError):
    """No session, or one that ended: the page answers with the sign-in page."""


def backend(request: Request) -> Backend:
    return request.app.state.backend


def nonce(request: Request) -> str:
    """This browser's CSRF nonce: its cookie's, or a new one the answer sets."""
    found = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE)
    if not found:
        found = request.state.csrf_nonce = secrets.token_urlsafe(24)
    return found


def csrf_token(request: Request) -> str:
    secret = backend(request).signer.secret.encode()
    return hmac.new(secret, f"csrf:{nonce(request)}".encode(), hashlib.sha256).hexdigest()


async def check_csrf(request: Request) -> None:
    """Refuse (403) a writing request whose token does not match this browser's nonce."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # parsed once: the endpoint's Form fields reuse it
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not request.cookies.get(CSRF_COOKIE) or not sent:
        raise Forbidden(CSRF_REFUSED)
    if not hmac.compare_digest(sent, csrf_token(request)):
        raise Forbidden(CSRF_REFUSED)


def set_cookies(request: Request, response: Response) -> None:
    """Set the CSRF nonce when this request made one (the session is set by `start`)."""
    made = getattr(request.state, "csrf_nonce", None)
    if made and made != request.cookies.get(CSRF_COOKIE):
        _cookie(request, response, CSRF_COOKIE, made)


def start(request: Request, response: Response, token: str) -> None:
    """Sign the browser in, with a new CSRF nonce (one planted before sign-in is dropped)."""
    _cookie(request, response, SESSION_COOKIE, token, backend(request).signer.refresh_seconds)
    request.state.csrf_nonce = secrets.token_urlsafe(24)


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def signed_in(request: Request) -> Principal:
    """The signed-in user; SignInRequired when there is none (or the session ended)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("Sign in to continue.")
    found = backend(request)
    try:
        who = await run_in_threadpool(sessions.resume, found.engine, found.signer, token)
    except Unauthorized as exc:
        raise SignInRequired(exc.message) from None
    request.state.principal = who
    return who


async def member(request: Request) -> Principal:
    """A signed-in user who may write (not a viewer)."""
    who = await signed_in(request)
    roles.may_write(who)
    return who


async def admin(request: Request) -> Principal:
    who = await signed_in(request)
    roles.must_be_admin(who)
    return who
