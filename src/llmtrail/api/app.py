"""The FastAPI application: the surfaces `llmtrail.plugins` lists, mounted over one backend."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from llmtrail import __version__, plugins
from llmtrail.api.backend import Backend
from llmtrail.api.limits import BodySizeLimit, RateLimiter
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.config import Settings, load_settings
from llmtrail.core.keys import KeyCache
from llmtrail.core.privacy import Policies
from llmtrail.core.tokens import Signer
from llmtrail.settle import settle
from llmtrail.store.admission import Admission, Bound
from llmtrail.store.database import make_engine
from llmtrail.store.writer_process import WriterProcess


def surfaces() -> list[Surface]:
    return [importlib.import_module(module).surface for module in plugins.SURFACES]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    mounted = surfaces()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        signer = Signer.of(settings)  # first: no secret, no server
        engine = make_engine(settings.database_url)
        bound = Bound(
            settings.writer_queue_rows, settings.writer_queue_bytes, settings.writer_wait_seconds
        )
        writer = WriterProcess(settings.database_url, plugins.WRITER_SETUP, Admission(bound))
        await writer.start()
        app.state.backend = backend = Backend(
            settings=settings,
            engine=engine,
            writer=writer,
            keys=KeyCache(settings.key_cache_seconds),
            signer=signer,
            privacy=Policies(engine, settings.privacy_cache_seconds),
            limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
            if settings.rate_limit_per_second
            else None,
        )
        try:
            async with AsyncExitStack() as services:
                for surface in mounted:
                    if surface.service is not None:
                        await services.enter_async_context(surface.service(backend))
                _build_routes(app, mounted)
                settle()
                yield
        finally:
            await writer.close(settings.shutdown_timeout_seconds)
            engine.dispose()

    app = FastAPI(
        title="llmtrail",
        version=__version__,
        description="Self-hosted LLM observability. Speaks the Keywords AI (`/api/...`) and "
        "Humanloop (`/v5/...`) APIs over one store of logs and traces.",
        default_response_class=JSONBody,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    for surface in mounted:
        surface.mount(app)
    _document(app, mounted)
    for pages in plugins.PAGES:
        importlib.import_module(pages).mount(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for surface in mounted:
        for middleware in surface.middleware:
            app.add_middleware(middleware)
    if settings.cors_origins:  # closed unless configured: no header, no preflight answered
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            max_age=600,
        )
    exempt = frozenset(path for s in mounted if s.reads_bodies for path in s.paths)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        exempt=exempt,
        body_seconds=settings.body_timeout_seconds,
    )
    return app


def _build_routes(app: FastAPI, mounted: list[Surface]) -> None:
    """Have FastAPI build now what it builds for an included router on the first request
    that reaches it (each route's effective context and validators): a third of a second
    the first requests after a start waited on, and objects that `settle` then freezes
    with the rest. A path under each surface's roots reaches every router on the way."""
    roots = {root for s in mounted for root in (s.router.roots or {""})}
    for root in sorted(roots):
        scope = {"type": "http", "path": f"/{root}/", "method": "GET", "root_path": "",
                 "headers": [], "query_string": b""}  # fmt: skip
        for route in app.router.routes:
            route.matches(scope)


def _document(app: FastAPI, mounted: list[Surface]) -> None:
    """The OpenAPI document, with each surface's security on its operations."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()  # FastAPI's own, cached: the additions below are the same every time
        for surface in mounted:
            surface.document(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
