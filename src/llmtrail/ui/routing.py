"""The route class of every page: security headers on every answer, the CSRF cookie when
one was made, refusals rendered as pages (and sign-in asked for by a redirect)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from llmtrail.api.errors import unreachable
from llmtrail.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized, Unavailable
from llmtrail.store.database import DOWN_RETRY_SECONDS, lost_database
from llmtrail.store.writer_process import WriterGone
from llmtrail.ui import session
from llmtrail.ui.templates import render

# Scripts and styles from this server only (nothing inline but style attributes, which the
# waterfall's bars need); images by URL from anywhere, as logs' messages carry them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATUS = {Unauthorized: 401, Forbidden: 403, NotFound: 404, Invalid: 400, Unavailable: 503}


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handler(request)
            except session.SignInRequired:
                response = _to_sign_in(request)
            except RequestValidationError as exc:
                reasons = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
                response = _refusal(request, 400, reasons)
            except DomainError as exc:
                status = next((s for t, s in STATUS.items() if isinstance(exc, t)), 409)
                response = _refusal(request, status, exc.message)
            except Exception as exc:  # the database or the writer away: a page saying so
                if not (isinstance(exc, WriterGone) or lost_database(exc)):
                    raise
                response = _refusal(request, 503, unreachable(exc))
                response.headers["Retry-After"] = str(DOWN_RETRY_SECONDS)
            response.headers.update(SECURITY_HEADERS)
            session.set_cookies(request, response)
            return response

        return page


def _to_sign_in(request: Request) -> Response:
    target = "/signin?next=" + quote(
        request.url.path + (f"?{request.url.query}" if request.url.query else "")
    )
    if request.headers.get("hx-request"):  # HTMX follows this header, not a 303
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _refusal(request: Request, status: int, message: str) -> Response:
    if request.headers.get("hx-request"):
        return render(request, "partials/error.html", {"message": message}, status)
    return render(request, "error.html", {"status": status, "message": message}, status)


def pages() -> APIRouter:
    """A router of pages: out of the OpenAPI document (they answer HTML, not the API), each
    writing request checked for its CSRF token."""
    return APIRouter(
        route_class=PageRoute, include_in_schema=False, dependencies=[Depends(session.check_csrf)]
    )
