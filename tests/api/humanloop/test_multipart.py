"""`BoundaryFromBody`: a bare `multipart/form-data` Content-Type completed from the body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmtrail.api.humanloop.multipart import BoundaryFromBody


def passed_through(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[Any, bytes]:
    """The Content-Type and the body the app behind the middleware sees."""
    seen: dict[str, Any] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen["type"] = dict(scope["headers"]).get(b"content-type")
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        seen["body"] = body

    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {"type": "http", "headers": headers}
    asyncio.run(BoundaryFromBody(app)(scope, receive, None))
    return seen["type"], seen["body"]


BODY = b'--abc123\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n--abc123--\r\n'


@pytest.mark.parametrize("cut", [len(BODY), 3, 9])  # the first line whole, or split
def test_the_boundary_is_read_from_the_first_line(cut: int) -> None:
    chunks = [BODY[:cut], BODY[cut:]] if cut < len(BODY) else [BODY]
    kind, body = passed_through([(b"content-type", b"multipart/form-data")], chunks)
    assert kind == b"multipart/form-data; boundary=abc123"
    assert body == BODY, "the body reaches the app unchanged"


def test_a_complete_or_other_content_type_is_left_alone() -> None:
    given = b"multipart/form-data; boundary=other"
    assert passed_through([(b"content-type", given)], [BODY]) == (given, BODY)
    assert passed_through([(b"content-type", b"application/json")], [b"{}"])[0] == (
        b"application/json"
    )


def test_a_body_without_a_boundary_line_is_passed_on_as_it_came() -> None:
    kind, body = passed_through([(b"content-type", b"multipart/form-data")], [b"not multipart"])
    assert kind == b"multipart/form-data" and body == b"not multipart"
