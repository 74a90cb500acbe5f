"""Signing in and out, and the first-run page that creates the first admin of a fresh data
dir (once: it is refused as soon as any user exists)."""

from __future__ import annotations

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from llmtrail.core import sessions, users
from llmtrail.errors import Conflict, Invalid, Unauthorized
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()


def _safe_next(target: str | None) -> str:
    """Only a path of this site: `next=https://evil.example` must not redirect away."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/logs"
    return target


@router.get("/")
async def home(request: Request) -> Response:
    if not await run_in_threadpool(users.any_user, session.backend(request).engine):
        return RedirectResponse("/setup", status_code=303)
    return RedirectResponse("/logs", status_code=303)


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    return render(request, "signin.html", {"next": _safe_next(next)})


@router.post("/signin")
async def signin(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/logs"),
) -> Response:
    backend = session.backend(request)
    try:
        tokens = await run_in_threadpool(
            sessions.sign_in, backend.engine, backend.signer, email, password
        )
    except Unauthorized as exc:
        context = {"next": _safe_next(next), "email": email, "error": exc.message}
        return render(request, "signin.html", context, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    session.start(request, response, tokens["refresh"])
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    session.end(response)
    return response


@router.get("/setup")
async def setup_page(request: Request) -> Response:
    if await run_in_threadpool(users.any_user, session.backend(request).engine):
        return RedirectResponse("/signin", status_code=303)
    return render(request, "setup.html")


@router.post("/setup")
async def setup(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    repeat: str = Form(""),
) -> Response:
    backend = session.backend(request)
    try:
        if password != repeat:
            raise Invalid.at("repeat", "the two passwords differ")
        await run_in_threadpool(
            users.create_first_admin, backend.engine, email=email, password=password
        )
    except Conflict:
        return RedirectResponse("/signin", status_code=303)
    except Invalid as exc:
        return render(request, "setup.html", {"email": email, "error": exc.message}, 400)
    tokens = await run_in_threadpool(
        sessions.sign_in, backend.engine, backend.signer, email, password
    )
    response = RedirectResponse("/logs", status_code=303)
    session.start(request, response, tokens["refresh"])
    return response
