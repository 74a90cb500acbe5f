"""The `Idempotency-Key` header of the create routes, for both dialects (see
`core.idempotency`): a retry of a request that was written is answered with the stored
answer, marked `Idempotent-Replayed: true`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Header, Request, Response
from starlette.concurrency import run_in_threadpool

from llmtrail.api.backend import Backend
from llmtrail.core.idempotency import HEADER, Answer, Claim
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict

KEY = Header(
    None,
    alias=HEADER,
    description="Any unique string (a UUID): a retry with the same key and body is answered "
    "as the first request was and writes nothing again; the same key with another body is "
    "refused with 409. Kept per organization for LLMTRAIL_IDEMPOTENCY_SECONDS (a day).",
)
REPLAYED = "Idempotent-Replayed"


async def idempotent(
    request: Request,
    key: str | None,
    who: Principal,
    backend: Backend,
    write: Callable[[Claim | None], Awaitable[Response]],
) -> Response:
    """`write(claim)` answers the request, storing its answer with `claim` when it has one;
    a request whose key already has an answer is answered from it instead."""
    if key is None:
        return await write(None)
    method, path = request.method.encode(), request.scope["path"].encode()
    body = await request.body()
    claim = Claim.of(
        who.org_id, key, b"%s %s\n%s" % (method, path, body), backend.settings.idempotency_seconds
    )
    answer = await run_in_threadpool(claim.stored, backend.engine)
    if answer is None:
        try:
            return await write(claim)
        except Conflict:  # a twin sent at the same time committed first, or an id is taken
            answer = await run_in_threadpool(claim.stored, backend.engine)
            if answer is None:
                raise
    return _replay(answer)


def _replay(answer: Answer) -> Response:
    return Response(
        answer.body,
        answer.status,
        media_type="application/json",
        headers={REPLAYED: "true"},
    )
