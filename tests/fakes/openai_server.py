"""A fake OpenAI-compatible chat-completions provider: a real HTTP server on a loopback port,
in a thread, that answers from a script and records what it was sent. Clients under test go
through their whole HTTP stack (connections, keep-alive, headers, timeouts), not a mock.

    with FakeOpenAI() as provider:
        provider.script(completion('{"score": 4}'), Reply(429, headers={"Retry-After": "2"}))
        ...  # call provider.base_url, then look at provider.requests

A `streamed(...)` reply answers as OpenAI does with `stream: true`: server-sent events, one
chunk per piece, the usage chunk only when the request asked for it
(`stream_options.include_usage`), then `[DONE]`.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a JSON body (a `str` is sent as it is), after `delay` seconds, or
    `hang` for none at all; or, when `chunks` is set, those events (`usage`: the last one,
    sent when asked for), `chunk_delay` seconds apart."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    delay: float = 0.0
    chunks: tuple[dict[str, Any], ...] | None = None
    usage: dict[str, Any] | None = None
    chunk_delay: float = 0.0


@dataclass(frozen=True)
class Request:
    """What the provider was sent; `peer` tells connections apart (same peer, same socket)."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any
    peer: tuple[str, int]


def completion(
    content: str | None,
    *,
    prompt_tokens: int = 120,
    completion_tokens: int = 30,
    cached_tokens: int | None = None,
    refusal: str | None = None,
    model: str = "judge-model",
) -> Reply:
    """A successful chat completion whose first choice says `content`, with its usage."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return Reply(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
    )


def streamed(
    *pieces: str,
    prompt_tokens: int = 120,
    completion_tokens: int = 30,
    model: str = "judge-model",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
) -> Reply:
    """A streamed chat completion saying `pieces` in order: a first chunk with the role, one
    chunk per piece, a last one with the finish reason, and the usage chunk."""

    envelope = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = (
        chunk({"role": "assistant", "content": ""}),
        *(chunk({"content": piece}) for piece in pieces),
        chunk({}, "stop"),
    )
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    usage_chunk = {**envelope, "choices": [], "usage": usage}
    return Reply(chunks=chunks, usage=usage_chunk, delay=delay, chunk_delay=chunk_delay)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An error in OpenAI's shape: `{"error": {"message": ...}}`."""
    body = {"error": {"message": message, "type": "fake_error", "code": None}}
    return Reply(status, body, headers or {})


UNSCRIPTED = error(500, "the fake provider has no reply scripted for this request")


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._marked: dict[str, deque[Reply]] = {}
        self._released = threading.Event()  # set on close: hanging replies give up
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        # Polling for shutdown every 10 ms, not 500, keeps each test's teardown short.
        serve = partial(self._server.serve_forever, poll_interval=0.01)
        self._thread = threading.Thread(target=serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order."""
        self._replies.extend(replies)

    def script_for(self, marker: str, *replies: Reply) -> None:
        """Answer the next requests whose body mentions `marker` with these, in order: tests
        that share one provider (a server's evaluators all call it) keep to their own."""
        self._marked.setdefault(marker, deque()).extend(replies)

    def sent(self, marker: str) -> list[Request]:
        """The requests whose body mentions `marker`."""
        return [r for r in self.requests if marker in json.dumps(r.body)]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Request) -> Reply:
        self.requests.append(request)
        text = json.dumps(request.body)
        replies = next((q for m, q in self._marked.items() if m in text), self._replies)
        try:
            return replies.popleft()
        except IndexError:
            return UNSCRIPTED


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers do

    def do_POST(self) -> None:
        fake: FakeOpenAI = self.server.fake  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = fake._answer(Request("POST", self.path, headers, body, self.client_address))
        if reply.hang or fake._released.wait(reply.delay):
            fake._released.wait()
            self.close_connection = True
            return
        if reply.chunks is not None:
            self._stream(reply, body, fake)
            return
        payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = payload.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: Reply, body: Any, fake: FakeOpenAI) -> None:
        """Server-sent events, each written and flushed on its own; the connection closes at
        the end (no length to announce)."""
        options = body.get("stream_options") if isinstance(body, dict) else None
        asked = bool(options and options.get("include_usage"))
        events = [*reply.chunks, *([reply.usage] if asked and reply.usage else [])]
        self.close_connection = True
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            if fake._released.wait(reply.chunk_delay):
                return
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `requests` instead."""
