"""What every route needs from the process: the engine, the group writer, the settings, the
caches of verified credentials and what signs and checks JWTs."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from llmtrail.api.limits import RateLimiter
from llmtrail.config import Settings
from llmtrail.core.keys import KeyCache, Principal
from llmtrail.core.privacy import MISSING, Policies, Policy
from llmtrail.core.tokens import Signer
from llmtrail.store.writer import Writer


@dataclass(frozen=True)
class Backend:
    settings: Settings
    engine: Engine
    writer: Writer
    keys: KeyCache
    signer: Signer
    privacy: Policies
    limiter: RateLimiter | None = None  # None: no rate limit


async def get_backend(request: Request) -> Backend:
    """A coroutine although it never waits: FastAPI runs a plain-function dependency in a worker
    thread, a thread hop on every request for one attribute read."""
    return request.app.state.backend


async def masking(backend: Backend, who: Principal) -> Policy | None:
    """What the caller's organization masks in new logs (None: nothing); read from the
    database at most once per `LLMTRAIL_PRIVACY_CACHE_SECONDS`, off the event loop."""
    found = backend.privacy.cached(who.org_id)
    if found is MISSING:
        found = await run_in_threadpool(backend.privacy.load, who.org_id)
    return found
