"""The FastAPI application: both dialects mounted over one backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from llmtrail import __version__
from llmtrail.api import errors
from llmtrail.api.auth import document_security
from llmtrail.api.backend import Backend
from llmtrail.api.humanloop import router as humanloop_router
from llmtrail.api.keywords import router as keywords_router
from llmtrail.api.limits import BodySizeLimit
from llmtrail.api.paths import KeywordsPathForms
from llmtrail.api.routing import JSONBody
from llmtrail.config import Settings, load_settings
from llmtrail.core import events
from llmtrail.core.keys import KeyCache
from llmtrail.store.admission import Admission, Bound
from llmtrail.store.database import make_engine
from llmtrail.store.writer_process import WriterProcess


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.load_subscribers()
        engine = make_engine(settings.database_url)
        bound = Bound(
            settings.writer_queue_rows, settings.writer_queue_bytes, settings.writer_wait_seconds
        )
        writer = WriterProcess(settings.database_url, Admission(bound))
        await writer.start()
        app.state.backend = Backend(
            settings=settings,
            engine=engine,
            writer=writer,
            keys=KeyCache(settings.key_cache_seconds),
        )
        try:
            yield
        finally:
            await writer.close()
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
    errors.install(app)
    routers = [keywords_router.router, humanloop_router.router]
    for router in routers:
        app.include_router(router)
    document_security(app, routers)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(KeywordsPathForms)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
