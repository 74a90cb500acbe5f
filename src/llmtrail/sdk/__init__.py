"""The llmtrail Python SDK (docs/sdk.md): `Client` and `AsyncClient` over the Keywords AI
dialect, `trace` for spans exported as OTLP in the background, and `wrap_openai`.

It imports neither the server nor `openai`: installed with llmtrail, it runs in any
application that reaches a server.
"""

from llmtrail.sdk.client import AsyncClient, Client
from llmtrail.sdk.errors import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    LlmtrailError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    ServerError,
    Unauthorized,
)
from llmtrail.sdk.openai_wrapper import wrap_openai
from llmtrail.sdk.pagination import Page
from llmtrail.sdk.tracing import (
    Span,
    Tracer,
    configure,
    current_span,
    dropped,
    flush,
    shutdown,
    trace,
)

__all__ = [
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "LlmtrailError",
    "NotFound",
    "Overloaded",
    "Page",
    "PayloadTooLarge",
    "ServerError",
    "Span",
    "Tracer",
    "Unauthorized",
    "configure",
    "current_span",
    "dropped",
    "flush",
    "shutdown",
    "trace",
    "wrap_openai",
]
