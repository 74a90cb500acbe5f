"""The llmtrail Python SDK: `Client` and `AsyncClient` over the Keywords AI dialect.

It imports nothing of the server: installed with llmtrail, it runs in any application
that reaches a server.
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
from llmtrail.sdk.pagination import Page

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
    "Unauthorized",
]
