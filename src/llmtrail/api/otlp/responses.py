"""The OTLP answers as the OpenAPI document shows them: their JSON form (OTLP/JSON), also
sent as protobuf to a protobuf request."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from llmtrail.api.otlp import wire


class PartialSuccess(BaseModel):
    rejectedSpans: str | None = Field(None, description="int64, as a decimal string")
    rejectedLogRecords: str | None = None
    rejectedDataPoints: str | None = None
    errorMessage: str | None = Field(None, description="each rejected item and why; warnings")


class ExportResponse(BaseModel):
    """`Export{Trace,Logs,Metrics}ServiceResponse`: `{}` (protobuf: no bytes) on full success."""

    partialSuccess: PartialSuccess | None = None


class HumanloopRecords(BaseModel):
    """What the `humanloop` SDK's exporter reads: the ids of the logs the spans became."""

    records: list[str]


class Status(BaseModel):
    """`google.rpc.Status`; `details` may hold a `google.rpc.BadRequest` naming each field."""

    code: int = Field(description="the gRPC code: 3 invalid, 8 exhausted, 14 unavailable, 16 key")
    message: str
    details: list[dict[str, Any]] = []


MEANINGS = {
    400: "The body cannot be decoded (nothing was stored); `details` names the fields.",
    401: "No API key, or one that is invalid or revoked; the message says how to send it.",
    413: "The body is larger than LLMTRAIL_OTLP_MAX_BODY_BYTES, before or after decompression.",
    415: "Content-Type is not application/x-protobuf or application/json, or Content-Encoding "
    "is not gzip or deflate.",
    503: "The writer is overloaded: nothing was stored; retry after `Retry-After` seconds.",
}
BINARY = {wire.PROTOBUF: {"schema": {"type": "string", "format": "binary"}}}


def documented(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: its 200 body in both encodings, and the Status of each error."""
    errors = {
        code: {"model": Status, "description": text, "content": BINARY}
        for code, text in MEANINGS.items()
    }
    return {200: {"model": model, "description": description, "content": BINARY}, **errors}


def request_body(message: str) -> dict[str, Any]:
    """The `openapi_extra` that documents an export body FastAPI does not parse itself."""
    schema = {"type": "object", "description": f"OTLP/JSON `{message}`"}
    return {
        "requestBody": {
            "required": True,
            "description": f"`{message}`, protobuf or OTLP/JSON, optionally gzip or deflate",
            "content": {**BINARY, wire.JSON: {"schema": schema}},
        }
    }
