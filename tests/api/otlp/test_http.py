"""OTLP/HTTP against a live server: JSON and protobuf, compression, answers in the request's
encoding, partial success, idempotent re-delivery, and traces assembled across exports."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import httpx
import orjson
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from llmtrail.api.otlp import wire
from llmtrail.api.otlp.mapping.spans import log_id
from tests.api.otlp.examples import EXPECTED, TRACE, export, span, worked_example
from tests.conftest import Server, Tenant, start_server, stop_server

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _get(api: httpx.Client, trace: str, span_id: str) -> dict:
    response = api.get(f"/api/request-logs/{log_id(trace.lower(), span_id.lower())}/")
    assert response.status_code == 200, response.text
    return response.json()


def _count(api: httpx.Client) -> int:
    response = api.post(
        "/api/request-logs/list/?page_size=1&start_time=2000-01-01T00:00:00", json={}
    )
    return response.json()["count"]


def _protobuf(body: dict) -> bytes:
    return wire.parse(ExportTraceServiceRequest, orjson.dumps(body), wire.JSON).SerializeToString()


@pytest.mark.parametrize("path", ["/v1/traces", "/api/v1/traces", "/api/v1/traces/ingest"])
def test_the_worked_example_is_stored_field_by_field(api: httpx.Client, path: str) -> None:
    trace = os.urandom(16).hex().upper()
    response = api.post(path, content=orjson.dumps(worked_example(trace)), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    log = _get(api, trace, "EEE19B7EC3C1B174")
    expected = {**EXPECTED, "trace_unique_id": trace.lower()}
    for name, value in expected.items():
        assert log[name] == value, name
    assert log["start_time"] == "2018-12-13T14:51:00.000000Z"
    assert log["timestamp"] == "2018-12-13T14:51:01.250000Z"
    assert log["cost"] > 0, "priced from its tokens"
    assert log["metadata"]["request_model"] == "gpt-4o"
    assert log["metadata"]["finish_reasons"] == ["tool_calls"]
    assert log["metadata"]["otel"]["resource"]["service.name"] == "support-bot"
    assert log["metadata"]["otel"]["kind"] == "CLIENT"


def test_protobuf_gzip_and_deflate_bodies_answer_in_protobuf(api: httpx.Client) -> None:
    for compress, coding in ((gzip.compress, "gzip"), (zlib.compress, "deflate")):
        trace = os.urandom(16).hex()
        body = compress(_protobuf(export([span("step", trace, "00000000000000aa")])))
        headers = {
            "Content-Type": "Application/X-Protobuf; charset=utf-8",
            "Content-Encoding": coding,
        }
        response = api.post("/v1/traces", content=body, headers=headers)
        assert response.status_code == 200, response.content
        assert response.headers["content-type"] == "application/x-protobuf"
        assert response.content == b"", "full success: an empty ExportTraceServiceResponse"
        assert _get(api, trace, "00000000000000aa")["span_name"] == "step"


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_a_malformed_body_is_400_in_its_encoding_and_stores_nothing(
    api: httpx.Client, encoding: str
) -> None:
    headers = JSON if encoding == "json" else PROTOBUF
    before = _count(api)
    response = api.post("/v1/traces", content=b"\x0a\xff\xff{not", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == headers["Content-Type"]
    if encoding == "json":
        assert response.json()["code"] == 3 and response.json()["message"]
    else:
        status = status_pb2.Status.FromString(response.content)
        assert status.code == 3 and "protobuf" in status.message
    assert _count(api) == before


def test_what_is_wrong_with_a_body_is_named(api: httpx.Client) -> None:
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]}
    response = api.post("/v1/traces", content=orjson.dumps(logs), headers=JSON)
    assert response.status_code == 400 and "logs payload" in response.json()["message"]
    flat = export([span("s", TRACE)])
    flat["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = {"k": "v"}
    response = api.post("/v1/traces", content=orjson.dumps(flat), headers=JSON)
    assert response.status_code == 400
    [violation] = response.json()["details"][0]["fieldViolations"]
    assert violation["field"] == "resourceSpans[0].scopeSpans[0].spans[0].attributes"


def test_a_half_bad_batch_stores_the_good_spans_and_names_the_bad(api: httpx.Client) -> None:
    trace = os.urandom(16).hex()
    spans = [
        span("good-1", trace, "0000000000000001"),
        span("bad-zero", "0" * 32),
        span("good-2", trace, "0000000000000002"),
        span("bad-short", trace, "abcd"),
    ]
    response = api.post("/v1/traces", content=orjson.dumps(export(spans)), headers=JSON)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "spans[1]: traceId" in partial["errorMessage"]
    assert "spans[3]: spanId" in partial["errorMessage"]
    assert _get(api, trace, "0000000000000001")["span_name"] == "good-1"
    assert _get(api, trace, "0000000000000002")["span_name"] == "good-2"


def test_a_redelivered_span_is_stored_once(api: httpx.Client) -> None:
    trace = os.urandom(16).hex()
    body = orjson.dumps(export([span("once", trace, "00000000000000bb")]))
    before = _count(api)
    for _ in range(3):
        response = api.post("/v1/traces", content=body, headers=JSON)
        assert response.status_code == 200 and response.json() == {}
    assert _count(api) == before + 1


def test_children_before_parents_across_exports_make_one_tree(api: httpx.Client) -> None:
    trace = os.urandom(16).hex()
    root, child, grandchild = "00000000000000c1", "00000000000000c2", "00000000000000c3"
    exports = [
        [span("grandchild", trace, grandchild, child, gen_ai__tool__name="lookup")],
        [span("child", trace, child, root, openinference__span__kind="AGENT")],
        [span("root", trace, root, traceloop__span__kind="workflow")],
    ]
    for spans in exports:
        response = api.post("/v1/traces", content=orjson.dumps(export(spans)), headers=JSON)
        assert response.status_code == 200
    tree = api.get(f"/v5/logs/{log_id(trace, root)}")
    assert tree.status_code == 200, tree.text
    [middle] = tree.json()["trace_children"]
    [leaf] = middle["trace_children"]
    assert (middle["id"], leaf["id"]) == (log_id(trace, child), log_id(trace, grandchild))
    assert _get(api, trace, root)["log_type"] == "workflow"


def test_refusals_are_status_bodies(tenant: Tenant) -> None:
    body = orjson.dumps(export([span("s", TRACE)]))
    anonymous = httpx.post(f"{tenant.base_url}/v1/traces", content=body, headers=JSON)
    assert anonymous.status_code == 401
    assert "Authorization=Bearer%20KEY" in anonymous.json()["message"]
    as_protobuf = httpx.post(
        f"{tenant.base_url}/v1/traces", content=b"", headers={**PROTOBUF, "X-API-KEY": "nope"}
    )
    assert as_protobuf.status_code == 401
    assert status_pb2.Status.FromString(as_protobuf.content).code == 16
    with tenant.client() as api:
        text = api.post("/v1/traces", content=body, headers={"Content-Type": "text/plain"})
        assert text.status_code == 415 and "application/x-protobuf" in text.json()["message"]
        zipped = api.post("/v1/traces", content=body, headers={**JSON, "Content-Encoding": "br"})
        assert zipped.status_code == 415


def test_a_body_too_large_once_decompressed_is_413(
    server: Server, tenant: Tenant, tmp_path: Path
) -> None:
    small = start_server(server.database_url, tmp_path, LLMTRAIL_OTLP_MAX_BODY_BYTES="100000")
    try:
        bomb = gzip.compress(b" " * 1_000_000)
        response = httpx.post(
            f"{small.base_url}/v1/traces",
            content=bomb,
            headers={**JSON, "Content-Encoding": "gzip", "X-API-KEY": tenant.key},
        )
        assert response.status_code == 413
        assert "decompressed" in response.json()["message"]
    finally:
        stop_server(small)


def test_metrics_are_accepted_and_discarded_with_a_warning(api: httpx.Client) -> None:
    response = api.post("/v1/metrics", content=b"{}", headers=JSON)
    assert response.status_code == 200
    assert "discarded" in response.json()["partialSuccess"]["errorMessage"]


def test_genai_events_fill_the_messages_of_their_span(api: httpx.Client) -> None:
    trace = os.urandom(16).hex()
    span_id = "00000000000000dd"
    chat = span("chat", trace, span_id, gen_ai__operation__name="chat", gen_ai__request__model="m")
    api.post("/v1/traces", content=orjson.dumps(export([chat])), headers=JSON)

    def event(name: str, body: dict, at: int) -> dict:
        kv = [{"key": k, "value": {"stringValue": v}} for k, v in body.items()]
        return {
            "timeUnixNano": str(1700000000000000000 + at),
            "eventName": name,
            "traceId": trace,
            "spanId": span_id,
            "body": {"kvlistValue": {"values": kv}},
        }

    records = [
        event("gen_ai.choice", {"finish_reason": "stop"}, 3),
        event("gen_ai.user.message", {"content": "hi"}, 1),
        event("gen_ai.system.message", {"content": "be kind"}, 0),
    ]
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}
    response = api.post("/v1/logs", content=orjson.dumps(logs), headers=JSON)
    assert response.status_code == 200, response.text
    log = _get(api, trace, span_id)
    assert log["prompt_messages"] == [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "hi"},
    ]
    assert log["completion_message"]["role"] == "assistant"
