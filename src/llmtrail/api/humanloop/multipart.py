"""The boundary of a multipart body whose Content-Type does not say it, read from the body.

The `humanloop` SDK's `datasets.upload_csv` sends `Content-Type: multipart/form-data` with no
`boundary` (its own header replaces the one httpx builds), although the body it sends is
delimited by one. A body's first line is `--BOUNDARY`, so the boundary is read there and put
back in the header before the form is parsed; any other request passes untouched.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

BARE = b"multipart/form-data"
BOUNDARY = re.compile(rb"--([0-9A-Za-z'()+_,\-./:=?]{1,70})\r\n")  # RFC 2046's characters
Receive = Callable[[], Awaitable[dict[str, Any]]]


class BoundaryFromBody:
    """Pure ASGI: completes a bare `multipart/form-data` Content-Type from the body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Receive, send: Any) -> None:
        if scope["type"] != "http" or _content_type(scope) != BARE:
            await self.app(scope, receive, send)
            return
        messages, head = [], b""
        while True:  # up to the end of the first line (or of the body)
            message = await receive()
            messages.append(message)
            head += message.get("body", b"")
            if b"\r\n" in head or not message.get("more_body") or len(head) > 1024:
                break
        found = BOUNDARY.match(head)
        if found is not None:
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            headers.append((b"content-type", BARE + b"; boundary=" + found.group(1)))
            scope = {**scope, "headers": headers}
        pending = iter(messages)

        async def replayed() -> dict[str, Any]:
            return next(pending, None) or await receive()

        await self.app(scope, replayed, send)


def _content_type(scope: dict) -> bytes | None:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return value.strip().lower()
    return None
