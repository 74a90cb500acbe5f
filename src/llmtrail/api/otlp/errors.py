"""OTLP error bodies: a `google.rpc.Status` in the request's encoding (contract §1.4), with a
`BadRequest` naming each field of a body that cannot be read."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from llmtrail.api.errors import from_pydantic
from llmtrail.api.otlp import wire
from llmtrail.errors import FieldError, dotted

# HTTP status -> the gRPC code its Status carries (and the gRPC receiver answers).
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14}
KEYS = (
    "send the key as `Authorization: Bearer KEY` or `X-API-KEY: KEY` (in "
    "OTEL_EXPORTER_OTLP_HEADERS, percent-encode the space: Authorization=Bearer%20KEY)"
)


class OtlpErrors:
    def __init__(self, encoding: str = wire.JSON) -> None:
        self.encoding = encoding

    def for_request(self, request: Request) -> OtlpErrors:
        try:
            return OtlpErrors(wire.encoding_of(request.headers.get("content-type")))
        except wire.Unsupported:
            return OtlpErrors(wire.JSON)

    def refused(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        violations: list[tuple[str, str]] | None = None,
    ) -> Response:
        if status == 401:
            message = f"{message} OTLP exporters: {KEYS}."
        body = wire.encode(
            wire.status(GRPC_CODES.get(status, 2), message, violations), self.encoding
        )
        return Response(body, status, headers, media_type=self.encoding)

    def invalid(self, errors: list[FieldError], status: int | None = None) -> Response:
        violations = [(dotted(e.loc), e.msg) for e in errors]
        message = "; ".join(f"{f}: {d}" for f, d in violations)
        return self.refused(status or 400, message, violations=violations)

    def request_invalid(self, errors: list[dict[str, Any]]) -> Response:
        return self.invalid(from_pydantic(errors))
