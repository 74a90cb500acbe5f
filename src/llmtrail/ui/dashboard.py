"""The dashboard page: charts drawn by the vendored uPlot from series the server computes
(`core.dashboard`), embedded as JSON data (the CSP runs no inline script)."""

from __future__ import annotations

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from llmtrail.core import dashboard
from llmtrail.core.keys import Principal
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()


@router.get("/dashboard")
async def dashboard_page(
    request: Request,
    range: str = dashboard.DEFAULT_RANGE,
    who: Principal = Depends(session.signed_in),
) -> Response:
    engine = session.backend(request).engine
    found = await run_in_threadpool(dashboard.overview, engine, who, range)
    context = {"nav": "dashboard", "range": range, "ranges": dashboard.RANGES, **found}
    return render(request, "dashboard.html", context)
