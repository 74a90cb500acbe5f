"""Real senders against a live server: the OpenTelemetry SDK with both OTLP exporters, the
OpenInference and OpenLLMetry instrumentations of the `openai` client (talking to a local
OpenAI-protocol server)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from llmtrail.api.otlp.mapping.spans import log_id
from tests.conftest import Server, Tenant, free_port, start_server, stop_server
from tests.fakes.openai_server import FakeOpenAI, completion


def _provider(exporter: SpanExporter) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": "tests"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _exporters(server: Server, key: str) -> dict[str, SpanExporter]:
    return {
        "http": HttpExporter(
            endpoint=f"{server.base_url}/v1/traces",
            headers={"Authorization": f"Bearer {key}"},
            compression=Compression.Gzip,
            timeout=60,  # a loaded CI machine: the exporter's 10 s default drops the spans
        ),
        "grpc": GrpcExporter(
            endpoint=f"127.0.0.1:{server.grpc_port}",
            insecure=True,
            headers={"x-api-key": key},
            timeout=60,
        ),
    }


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_sdk_spans_arrive_as_logs_with_their_tree(
    server: Server, tenant: Tenant, kind: str
) -> None:
    provider = _provider(_exporters(server, tenant.key)[kind])
    tracer = provider.get_tracer("tests")
    with (
        tracer.start_as_current_span(
            "workflow", attributes={"traceloop.span.kind": "workflow"}
        ) as root,
        tracer.start_as_current_span("llm", attributes={"gen_ai.operation.name": "chat"}),
    ):
        pass
    provider.shutdown()
    trace = f"{root.get_span_context().trace_id:032x}"
    root_id = log_id(trace, f"{root.get_span_context().span_id:016x}")
    with tenant.client("x-api-key") as api:
        tree = api.get(f"/v5/logs/{root_id}")
        assert tree.status_code == 200, tree.text
        [child] = tree.json()["trace_children"]
        assert child["trace_children"] == []
        log = api.get(f"/api/request-logs/{root_id}/").json()
    assert (log["log_type"], log["trace_unique_id"], log["span_parent_id"]) == (
        "workflow",
        trace,
        None,
    )
    assert log["metadata"]["otel"]["resource"]["service.name"] == "tests"


def test_grpc_refuses_a_bad_key_unauthenticated(server: Server) -> None:
    exporter = _exporters(server, "not-a-key")["grpc"]
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as failed:
            stub.Export(
                trace_service_pb2.ExportTraceServiceRequest(), metadata=[("x-api-key", "no")]
            )
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Authorization" in failed.value.details()
    provider = _provider(exporter)
    with provider.get_tracer("t").start_as_current_span("s"):
        pass
    assert exporter.export([]) in (SpanExportResult.SUCCESS, SpanExportResult.FAILURE)
    provider.shutdown()


def test_a_taken_grpc_port_is_reported_and_http_serves_on(server: Server, tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        other = start_server(server.database_url, tmp_path, LLMTRAIL_OTLP_GRPC_PORT=str(port))
        try:
            assert httpx.get(f"{other.base_url}/healthz").status_code == 200
            deadline = time.monotonic() + 10
            while "is taken" not in other.log and time.monotonic() < deadline:
                time.sleep(0.1)
            assert f"OTLP/gRPC is off: 127.0.0.1:{port} is taken" in other.log
        finally:
            stop_server(other)


def _chat(llm: FakeOpenAI, marker: str) -> None:
    import openai

    llm.script_for(
        marker,
        completion("It is sunny.", prompt_tokens=11, completion_tokens=4, model="gpt-4o-mini"),
    )
    client = openai.OpenAI(api_key="test", base_url=llm.base_url)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"Weather? {marker}"}]
    )


def _only_log(api: httpx.Client, marker: str) -> dict:
    found = api.post(
        "/api/request-logs/list/?page_size=10&start_time=2000-01-01T00:00:00", json={}
    ).json()["results"]
    [log] = [x for x in found if marker in str(x["prompt_messages"])]
    return log


@pytest.mark.parametrize("family", ["openinference", "openllmetry"])
def test_instrumented_openai_calls_arrive_as_chat_logs(
    server: Server, tenant: Tenant, llm_provider: FakeOpenAI, family: str
) -> None:
    if family == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    provider = _provider(_exporters(server, tenant.key)["http"])
    instrumentor = OpenAIInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:  # the humanloop SDK instruments openai
        instrumentor.uninstrument()  # globally: take over from it, or this call does nothing
    instrumentor.instrument(tracer_provider=provider)
    marker = f"{family}-{time.time_ns()}"
    try:
        _chat(llm_provider, marker)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    with tenant.client() as api:
        log = _only_log(api, marker)
    assert log["log_type"] == "chat"
    assert log["model"] == "gpt-4o-mini"
    assert (log["prompt_tokens"], log["completion_tokens"]) == (11, 4)
    assert log["completion_message"]["content"] == "It is sunny."
    assert log["provider_id"] == "openai"
    assert log["cost"] > 0
