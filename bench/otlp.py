"""OTLP ingest: spans committed per second over HTTP protobuf and over gRPC (500-span exports
from 8 clients), as a ratio to the bulk log API's logs/s in the same run, and the latency of
single-span exports offered at 1,000 a second."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Callable

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from bench import data, load
from bench.server import Server

# (key, requests, spans, content type) -> figures, and (key, spans, began) -> seconds until
# all are listed: the bulk ingest's measures, from `scenarios`.
Ingest = Callable[[str, list[load.Request], int, str], dict]
Queryable = Callable[[str, int, float], float]

EXPORT = 500
SINGLE_RATE = 1000
SINGLE_SECONDS = 10
PROTOBUF = "application/x-protobuf"


def _kv(key: str, value: str | int | float) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def exports(count: int, size: int, seed: int) -> list[bytes]:
    """`count` spans as GenAI chat spans (ended now: listed in the last hour), `size` an export;
    every eight spans are one trace, a chain."""
    rng = random.Random(seed)
    pool = data.TextPool(rng)
    now = time.time_ns()
    bodies, request = [], ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    parent = b""
    trace = os.urandom(16)
    for n in range(count):
        if n % 8 == 0:
            trace, parent = os.urandom(16), b""
        span_id = uuid.uuid4().bytes[:8]
        prompt = [{"role": "user", "parts": [{"type": "text", "content": pool.text(rng, 600)}]}]
        output = [
            {"role": "assistant", "parts": [{"type": "text", "content": pool.text(rng, 300)}]}
        ]
        spans.append(
            Span(
                trace_id=trace,
                span_id=span_id,
                parent_span_id=parent,
                name="chat gpt-4o-mini",
                kind=3,
                start_time_unix_nano=now - 800_000_000,
                end_time_unix_nano=now,
                attributes=[
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.provider.name", "openai"),
                    _kv("gen_ai.request.model", rng.choice(data.MODELS)),
                    _kv("gen_ai.usage.input_tokens", rng.randint(200, 3000)),
                    _kv("gen_ai.usage.output_tokens", rng.randint(20, 600)),
                    _kv("gen_ai.request.temperature", 0.2),
                    _kv("gen_ai.input.messages", json.dumps(prompt)),
                    _kv("gen_ai.output.messages", json.dumps(output)),
                    _kv("user.id", f"customer-{rng.randrange(data.CUSTOMERS)}"),
                ],
            )
        )
        parent = span_id
        if len(spans) == size:
            bodies.append(request.SerializeToString())
            request = ExportTraceServiceRequest()
            spans = request.resource_spans.add().scope_spans.add().spans
    if spans:
        bodies.append(request.SerializeToString())
    return bodies


def _grpc_client(args: tuple) -> tuple[list[float], int, str | None]:
    target, key, bodies, start_at = args
    latencies, errors, first = [], 0, None
    with grpc.insecure_channel(target, [("grpc.max_send_message_length", 64 << 20)]) as channel:
        export = trace_service_pb2_grpc.TraceServiceStub(channel).Export
        time.sleep(max(0.0, start_at - time.time()))
        for body in bodies:
            began = time.perf_counter()
            try:
                export(ExportTraceServiceRequest.FromString(body), metadata=[("x-api-key", key)])
            except grpc.RpcError as exc:
                errors += 1
                first = first or str(exc)
            latencies.append((time.perf_counter() - began) * 1000)
    return latencies, errors, first


def _grpc_closed_loop(target: str, key: str, plans: list[list[bytes]]) -> load.LoadResult:
    start_at = time.time() + 0.5
    with multiprocessing.get_context("fork").Pool(len(plans)) as pool:
        results = pool.map(_grpc_client, [(target, key, plan, start_at) for plan in plans])
    return load.merge(results, start_at)


def otlp_ingest(
    srv: Server, args: argparse.Namespace, out: dict, ingest: Ingest, queryable: Queryable
) -> None:
    """Needs `bulk_ingest_logs_per_s` in `out` (the bulk API, same run, same server)."""
    spans = args.ingest
    key = srv.create_key("bench-otlp-http")
    requests = [("POST", "/v1/traces", b) for b in exports(spans, EXPORT, seed=11)]
    figures = ingest(key, requests, spans, PROTOBUF)
    out["otlp_http_spans_per_s"] = figures["logs_per_s"]
    key = srv.create_key("bench-otlp-grpc")
    bodies = exports(spans, EXPORT, seed=12)
    plans = [bodies[i :: args.clients] for i in range(args.clients)]
    result = _grpc_closed_loop(f"127.0.0.1:{srv.grpc_port}", key, plans)
    if result.errors:
        raise RuntimeError(f"{result.errors} gRPC exports failed, first: {result.first_error}")
    out["otlp_grpc_spans_per_s"] = round(spans / queryable(key, spans, result.started))
    bulk = out["bulk_ingest_logs_per_s"]
    out["otlp_http_vs_bulk"] = round(out["otlp_http_spans_per_s"] / bulk, 2)
    out["otlp_grpc_vs_bulk"] = round(out["otlp_grpc_spans_per_s"] / bulk, 2)
    key = srv.create_key("bench-otlp-single")
    singles = [("POST", "/v1/traces", b) for b in exports(SINGLE_RATE * SINGLE_SECONDS, 1, 13)]
    split = [singles[i :: args.clients] for i in range(args.clients)]
    result = load.open_loop(srv.host, srv.port, key, split, SINGLE_RATE, content_type=PROTOBUF)
    if result.errors:
        raise RuntimeError(f"{result.errors} exports failed, first: {result.first_error}")
    out["otlp_single_span_at_1000_per_s_p99_ms"] = round(result.percentile(99), 1)
