"""OTLP/HTTP bodies (contract §1.2-§1.4): which encoding a request uses, its decompression
under a size limit, its decoding into the protobuf message, and answers encoded as it was.

OTLP/JSON is protobuf's JSON mapping with deviations: ids are hex, not base64, and unknown
fields are ignored. Ids are read here as hex when they have a hex id's length, else as
base64 (protobuf's own mapping, which the `humanloop` SDK sends).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import AsyncIterable, Iterator
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

PROTOBUF, JSON = "application/x-protobuf", "application/json"
MEDIA_TYPES = {PROTOBUF: PROTOBUF, "application/protobuf": PROTOBUF, JSON: JSON}
ENCODINGS = ("gzip", "deflate", "identity")
M = TypeVar("M", bound=Message)
# JSON id fields and their sizes in bytes.
ID_SIZES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
# The lists of an export, down to its items (spans, log records, ...).
CONTAINERS = ("resourceSpans", "scopeSpans", "spans", "resourceLogs", "scopeLogs", "logRecords")
CONTAINERS += ("links", "events", "resourceMetrics", "scopeMetrics", "metrics")


class Refused(Exception):
    """A request answered with an error status and nothing stored."""

    status = 400

    def __init__(self, message: str, violations: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.violations = violations or []


class Unsupported(Refused):
    status = 415


class TooLarge(Refused):
    status = 413


def encoding_of(content_type: str | None) -> str:
    """The request's encoding, from its media type (any case, parameters ignored)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise Unsupported(
            f"Content-Type {content_type or '(none)'!r} is not supported: send OTLP as "
            f"{PROTOBUF} or {JSON}"
        )
    return MEDIA_TYPES[media]


async def read(chunks: AsyncIterable[bytes], content_encoding: str | None, limit: int) -> bytes:
    """The body, decompressed, refused past `limit` bytes before or after decompression."""
    coding = (content_encoding or "identity").strip().lower()
    if coding not in ENCODINGS:
        raise Unsupported(f"Content-Encoding {coding!r} is not supported: use gzip or deflate")
    raw = bytearray()
    async for chunk in chunks:
        raw += chunk
        if len(raw) > limit:
            raise TooLarge(_too_large(limit))
    if coding == "identity":
        return bytes(raw)
    # gzip, zlib-wrapped deflate, or raw deflate (which some clients send as "deflate")
    window = 16 + zlib.MAX_WBITS if coding == "gzip" else (zlib.MAX_WBITS if _zlib(raw) else -15)
    inflater = zlib.decompressobj(window)
    try:
        body = inflater.decompress(bytes(raw), limit + 1)
    except zlib.error as exc:
        raise Refused(f"the body is not valid {coding} data: {exc}") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise TooLarge(_too_large(limit, decompressed=True))
    return body


def _zlib(raw: bytes) -> bool:
    return len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0


def _too_large(limit: int, decompressed: bool = False) -> str:
    when = " once decompressed" if decompressed else ""
    return f"the body is larger than {limit} bytes{when} (LLMTRAIL_MAX_BODY_BYTES)"


def parse(message: type[M], body: bytes, encoding: str) -> M:
    """The request message, or `Refused` naming what is wrong with the body."""
    out = message()
    if not body:
        return out  # an empty export: nothing to do, and a success
    if encoding == PROTOBUF:
        try:
            out.ParseFromString(body)
        except DecodeError as exc:
            raise Refused(f"the body is not a protobuf {message.__name__}: {exc}") from None
        return out
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused(f"the body must be a JSON object ({message.__name__})")
    _check(data, message)
    try:
        json_format.ParseDict(data, out, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise Refused(f"the body is not an OTLP/JSON {message.__name__}: {exc}") from None
    return out


def _check(data: dict[str, Any], message: type[Message]) -> None:
    """Refuse what decodes "successfully" into nonsense (pitfall 7), and read ids as bytes."""
    expected = message.DESCRIPTOR.fields[0].json_name  # resourceSpans, resourceLogs, ...
    misplaced = [k for k in ("resourceSpans", "resourceLogs", "resourceMetrics") if k in data]
    if misplaced and expected not in data:
        kind = misplaced[0].removeprefix("resource").lower()
        raise Refused(
            f"this looks like an OTLP {kind} payload ({misplaced[0]}), not {message.__name__}"
        )
    violations = []
    for path, item in _items(data):
        attributes = item.get("attributes")
        if attributes is not None and not isinstance(attributes, list):
            violations.append((f"{path}.attributes", "attributes must be a list of {key, value}"))
        for name, size in ID_SIZES.items():
            if isinstance(item.get(name), str):
                item[name] = base64.b64encode(_id_bytes(item[name], size)).decode()
    if violations:
        raise Refused("; ".join(f"{p}: {d}" for p, d in violations), violations)


def _items(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of an export that may carry attributes or ids, with its path."""
    for key in ("resource", "scope"):
        if isinstance(node.get(key), dict):
            yield f"{path}.{key}".lstrip("."), node[key]
    for key in CONTAINERS:
        for index, item in enumerate(node.get(key) or ()):
            if isinstance(item, dict):
                where = f"{path}.{key}[{index}]".lstrip(".")
                yield where, item
                yield from _items(item, where)


def _id_bytes(value: str, size: int) -> bytes:
    """A JSON id's bytes: hex when it has a hex id's length, else base64; a value that is
    neither keeps its own bytes, so its span is refused for its length, alone."""
    text = value.strip()
    if len(text) == 2 * size:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


def encode(message: Message, encoding: str) -> bytes:
    if encoding == PROTOBUF:
        return message.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(message))


def status(code: int, message: str, violations: list[tuple[str, str]] | None = None) -> Message:
    """A `google.rpc.Status` (`code`: gRPC's), with a `BadRequest` naming each field."""
    out = status_pb2.Status(code=code, message=message)
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in violations
            ]
        )
        out.details.add().Pack(bad)
    return out
