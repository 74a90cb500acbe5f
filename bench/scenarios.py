"""The measured scenarios, run in order against one server: ingest, raw baseline, online
evaluation, latency under an offered rate, reads over a large store, batch update, memory,
overload."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from sqlalchemy import Float, String, cast, literal, select, text

from bench import ceilings, data, load, scale_out, ui
from bench.datasets import dataset_add
from bench.evaluation import evaluation
from bench.exports import export
from bench.load import Request, percentile
from bench.otlp import otlp_ingest
from bench.raw import Driver, rows_for, spread
from bench.search import search_logs
from bench.server import Server
from llmtrail.config import load_settings
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal, authenticate
from llmtrail.store import metadata_index, rollups, search
from llmtrail.store.database import begin_write, make_engine
from llmtrail.store.tables import logs, scores

BULK = 500
LATENCY_RATE = 1000
LATENCY_SECONDS = 10
TRACE_SPANS = 20_000
TRACE_STEPS = 100
OVERLOAD_THREADS = 16  # connections per client process


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _since(days: float) -> str:
    return (utcnow() - timedelta(days=days)).isoformat()


def _split(requests: list[Request], clients: int) -> list[list[Request]]:
    return [requests[i::clients] for i in range(clients)]


def _principal(srv: Server, key: str) -> Principal:
    engine = make_engine(srv.database_url)
    try:
        found = authenticate(engine, key)
    finally:
        engine.dispose()
    assert found is not None
    return found


def _count(srv: Server, key: str, days: float = 30) -> int:
    response = httpx.post(
        f"{srv.base_url}/api/request-logs/list/?page_size=1&start_time={_since(days)}",
        headers={"Authorization": f"Bearer {key}"},
        json={},
        timeout=120,
    )
    response.raise_for_status()
    return response.json()["count"]


def _until_queryable(srv: Server, key: str, expected: int, began: float) -> float:
    """Seconds from `began` until a list query sees all `expected` logs."""
    deadline = time.monotonic() + 300
    while _count(srv, key) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_count(srv, key)} of {expected} logs became queryable")
        time.sleep(0.05)
    return time.time() - began


def _ingest(
    srv: Server,
    key: str,
    requests: list[Request],
    clients: int,
    logs: int,
    content_type: str = "application/json",
) -> dict:
    result = load.closed_loop(srv.host, srv.port, key, _split(requests, clients), content_type)
    if result.errors:
        raise RuntimeError(f"{result.errors} requests failed, first: {result.first_error}")
    seconds = _until_queryable(srv, key, logs, result.started)
    return {
        "logs_per_s": round(logs / seconds),
        "p50_ms": round(result.percentile(50), 1),
        "p99_ms": round(result.percentile(99), 1),
    }


def bulk_ingest(srv: Server, args: argparse.Namespace, out: dict) -> list[dict]:
    key = srv.create_key("bench-bulk")
    bodies = data.chat_logs(args.ingest, seed=1)
    figures = _bulk(srv, args)(key, bodies)
    out.update({f"bulk_ingest_{name}": value for name, value in figures.items()})
    return bodies


def raw_baseline(srv: Server, bodies: list[dict], out: dict) -> None:
    key = srv.create_key("bench-raw")
    rows = rows_for(bodies, _principal(srv, key))
    driver = Driver(srv.database_url)
    try:
        seconds = driver.insert(rows)
    finally:
        driver.close()
    out["raw_insert_logs_per_s"] = round(len(rows) / seconds)
    out["bulk_ingest_vs_raw"] = _ratio(out["bulk_ingest_logs_per_s"], out["raw_insert_logs_per_s"])
    out["raw_minimal_logs_per_s"] = round(ceilings.minimal_insert(srv, bodies))
    out["bulk_ingest_vs_raw_minimal"] = _ratio(
        out["bulk_ingest_logs_per_s"], out["raw_minimal_logs_per_s"]
    )


def _ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 2)


def _single_logs(
    srv: Server, args: argparse.Namespace, out: dict, name: str, key: str, requests: list[Request]
) -> None:
    """Single-log requests from `args.clients` clients, and the same requests sent to an empty
    route on the same HTTP stack: the ceiling their logs/s is a share of."""
    figures = _ingest(srv, key, requests, args.clients, _count(srv, key) + len(requests))
    out.update({f"{name}_{figure}": value for figure, value in figures.items()})
    with ceilings.EmptyRoute() as empty:
        out[f"{name}_empty_route_per_s"] = round(
            empty.requests_per_s(_split(requests, args.clients))
        )
    out[f"{name}_vs_empty_route"] = _ratio(
        out[f"{name}_logs_per_s"], out[f"{name}_empty_route_per_s"]
    )


def keywords_ingest(srv: Server, args: argparse.Namespace, out: dict) -> None:
    """Keywords AI single creates, as many as the Humanloop scenario sends."""
    key = srv.create_key("bench-keywords")
    bodies = data.chat_logs(args.hl_ingest, seed=8)
    requests = [("POST", "/api/request-logs/", _json(b)) for b in bodies]
    _single_logs(srv, args, out, "keywords_create", key, requests)


def humanloop_ingest(srv: Server, args: argparse.Namespace, out: dict) -> None:
    key = srv.create_key("bench-humanloop")
    requests = humanloop_requests(srv, key, args.clients, args.hl_ingest)
    _single_logs(srv, args, out, "humanloop_ingest", key, requests)


def humanloop_requests(srv: Server, key: str, clients: int, count: int) -> list[Request]:
    """`count` single Prompt logs, a quarter of them in one of `clients` open Flow logs."""
    headers = {"X-API-KEY": key}
    flows = []
    for n in range(clients):  # each client's agent run: an open Flow log its calls join
        response = httpx.post(
            f"{srv.base_url}/v5/flows/log",
            headers=headers,
            json={"path": "bench/agent-run", "flow": {"attributes": {"v": 1}}, "inputs": {"n": n}},
            timeout=30,
        )
        response.raise_for_status()
        flows.append(response.json()["id"])
    rng, pool = random.Random(2), data.TextPool(random.Random(2))
    return [
        (
            "POST",
            "/v5/prompts/log",
            _json(data.prompt_log(rng, pool, flows[i % clients] if i % 4 == 0 else None)),
        )
        for i in range(count)
    ]


def latency_at_rate(srv: Server, args: argparse.Namespace, out: dict) -> None:
    """Single-log creates offered at a fixed rate: what a steady production stream sees."""
    key = srv.create_key("bench-latency")
    total = LATENCY_RATE * LATENCY_SECONDS
    requests = [("POST", "/api/request-logs/", _json(b)) for b in data.chat_logs(total, seed=3)]
    result = load.open_loop(
        srv.host, srv.port, key, _split(requests, args.clients), rate=LATENCY_RATE
    )
    if result.errors:
        raise RuntimeError(f"{result.errors} requests failed, first: {result.first_error}")
    out["latency_at_1000_per_s_p50_ms"] = round(result.percentile(50), 1)
    out["latency_at_1000_per_s_p99_ms"] = round(result.percentile(99), 1)


def fill(srv: Server, key: str, size: int, file: tuple[str, str] | None = None) -> None:
    """`size` logs over the last week, written by the driver: the store the reads run against.
    With `file` (a File's id and version id), they are that Prompt's logs."""
    principal = _principal(srv, key)
    templates = rows_for(data.mention(data.chat_logs(2000, seed=4)), principal)
    if file is not None:
        for row in templates:
            row["file_id"], row["version_id"] = file
    engine = make_engine(srv.database_url)
    try:
        postgresql = engine.dialect.name == "postgresql"
        if postgresql:  # its trigram index is built once over them, as the migration does
            with engine.begin() as conn:
                search.uninstall(conn)
        driver = Driver(srv.database_url)
        try:
            for chunk in spread(templates, size, days=7, seed=5):
                driver.insert(chunk)
        finally:
            driver.close()
        # Rows written past the write path: recount and index them, as a migration does for a
        # store it meets, with PostgreSQL's statistics gathered first and after, as
        # autovacuum or the writer would (planned without, scoring a twentieth of a million
        # logs read them in an index's order, over ten minutes).
        if postgresql:
            _analyze(engine, ("logs",))
        rating = _rating(srv, key)
        with begin_write(engine) as conn:  # SQLite: the write lock first, as the worker's
            rollups.rebuild(conn)  # search indexer may hold it a moment
            metadata_index.rebuild(conn)
            _score_some(conn, principal.org_id, rating)
        with begin_write(engine) as conn:
            if postgresql:
                search.install(conn)
            else:  # the search queue, indexed at once
                search.drain(conn, None)
        if postgresql:
            rolled = tuple(rollup.table.name for rollup in rollups.ROLLUPS)
            _analyze(engine, ("logs", "log_metadata", *rolled, "scores", search.TABLE))
    finally:
        engine.dispose()


def _analyze(engine: Any, tables: tuple[str, ...]) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))


RATED_ONE_IN = 20  # logs the rating scores, of the store the reads run against


def _rating(srv: Server, key: str) -> str:
    """A human evaluator (its scores are written straight into the store); its id."""
    answer = httpx.post(
        f"{srv.base_url}/api/evaluators/",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": "bench rating", "type": "human", "score_value_type": "numerical"},
    )
    answer.raise_for_status()
    return answer.json()["id"]


def _score_some(conn: Any, org_id: int, evaluator_id: str) -> None:
    """One log in RATED_ONE_IN gets a rating from 1 to 5, as people would have given it."""
    value = (logs.c.id % 5 + 1).cast(Float)
    columns = {
        "id": literal("sc_") + cast(logs.c.id, String),
        "org_id": logs.c.org_id,
        "log_id": logs.c.id,
        "log_unique_id": logs.c.unique_id,
        "evaluator_id": literal(evaluator_id),
        "evaluator_slug": literal("bench_rating"),
        "evaluator_name": literal("bench rating"),
        "value_type": literal("numerical"),
        "numerical_value": value,
        "source": literal("bench"),
        "environment": logs.c.environment,
        "created_at": logs.c.timestamp,
        "updated_at": logs.c.timestamp,
    }
    chosen = select(*(c.label(n) for n, c in columns.items())).where(
        logs.c.org_id == org_id, logs.c.id % RATED_ONE_IN == 0
    )
    conn.execute(scores.insert().from_select(list(columns), chosen))


def big_trace(srv: Server, key: str) -> str:
    """A Flow log with 20,000 spans under it: 100 agent steps of 199 calls each."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=srv.base_url, headers=headers, timeout=120) as client:
        root = client.post(
            "/v5/flows/log",
            json={"path": "bench/big-trace", "flow": {"attributes": {"v": 1}}, "inputs": {}},
        ).json()["id"]
        bodies = data.chat_logs(TRACE_SPANS, seed=6)
        per_step = TRACE_SPANS // TRACE_STEPS
        for n, body in enumerate(bodies):
            step = n // per_step
            body["trace_unique_id"] = root
            body["span_unique_id"] = f"{root}-{n}"
            body["span_parent_id"] = root if n % per_step == 0 else f"{root}-{step * per_step}"
        for i in range(0, len(bodies), BULK):
            client.post("/api/request-logs/bulk/", json={"logs": bodies[i : i + BULK]})
    return root


def reads(srv: Server, args: argparse.Namespace, out: dict) -> None:
    key = srv.create_key("bench-reads")
    fill(srv, key, args.size)
    root = big_trace(srv, key)
    # The window is in the URL, as the list endpoint takes it; a week holds every stored log.
    week = urlencode({"start_time": _since(8), "end_time": _since(0)})
    hour = urlencode({"start_time": _since(3 + 1 / 24), "end_time": _since(3)})
    page = "/api/request-logs/list/?page_size=100"
    listing = {
        "list_newest_100": (week, {}),
        "list_by_model": (week, {"filters": {"model": {"operator": "", "value": "o3-mini"}}}),
        "list_by_metadata": (
            week,
            {"filters": {"metadata__tenant": {"operator": "", "value": "tenant-7"}}},
        ),
        "list_by_score": (
            week,
            {"filters": {"scores__bench_rating": {"operator": "gte", "value": [5]}}},
        ),
        "list_time_window": (hour, {}),
        # No window given: the API's default, the last hour.
        "list_default_window": ("", {}),
    }
    for name, (window, body) in listing.items():
        figures = load.figures(srv, key, ("POST", f"{page}&{window}", _json(body)), 30)
        out.update({f"{name}_{k}": v for k, v in figures.items()})
    figures = load.figures(srv, key, ("POST", f"/api/request-logs/summary/?{week}", b"{}"), 10)
    out.update({f"summary_{k}": v for k, v in figures.items()})
    newest = httpx.post(
        f"{srv.base_url}{page}&{week}", headers={"Authorization": f"Bearer {key}"}, json={}
    ).json()["results"]
    ids = [log["unique_id"] for log in newest]
    gets = [
        load.timed(srv.host, srv.port, key, ("GET", f"/api/request-logs/{i}/", b""), 1)[0]
        for i in ids
    ]
    out["get_one_p50_ms"] = round(percentile(gets, 50), 1)
    out["get_one_p95_ms"] = round(percentile(gets, 95), 1)
    figures = load.figures(srv, key, ("GET", f"/v5/logs/{root}", b""), 5)
    out.update({f"trace_20k_spans_{k}": v for k, v in figures.items()})
    out["trace_20k_raw_read_ms"] = round(ceilings.raw_read_ms(srv, root), 1)
    out["trace_20k_vs_raw_read"] = _ratio(
        out["trace_20k_spans_p95_ms"], out["trace_20k_raw_read_ms"]
    )
    ui.ui_pages(srv, "bench-reads", root, out)
    batch_update(srv, key, out)


def batch_update(srv: Server, key: str, out: dict) -> None:
    """Five batch-updates of 1,000 different logs each."""
    org_id = _principal(srv, key).org_id
    driver = Driver(srv.database_url)
    try:
        cursor = driver.conn.execute(
            f"SELECT unique_id FROM logs WHERE org_id = {org_id} ORDER BY id DESC LIMIT 5000"
        )
        ids = [row[0] for row in cursor.fetchall()]
    finally:
        driver.close()
    latencies = []
    for n in range(5):
        items = [{"unique_id": i, "metadata": {"reviewed": n}, "note": "ok"} for i in ids[n::5]]
        request = ("PATCH", "/api/request-logs/batch-update/", _json({"logs": items}))
        latencies += load.timed(srv.host, srv.port, key, request, 1)
    out["batch_update_1000_p50_ms"] = round(percentile(latencies, 50), 1)
    out["batch_update_1000_max_ms"] = round(max(latencies), 1)
    out["batch_update_1000_raw_ms"] = round(ceilings.raw_update_ms(srv, ids[::5]), 1)
    out["batch_update_vs_raw"] = _ratio(
        out["batch_update_1000_p50_ms"], out["batch_update_1000_raw_ms"]
    )


def overload(srv: Server, args: argparse.Namespace, out: dict) -> None:
    """Bulk logs offered far above what the writer commits, for a while: what waits for the
    writer stays within its bound, the excess is refused with 503, and every 201 is stored."""
    key = srv.create_key("bench-overload")
    request = ("POST", "/api/request-logs/bulk/", _json({"logs": data.chat_logs(BULK, seed=7)}))
    processes = max(1, args.overload_clients // OVERLOAD_THREADS)
    srv.reset_peak()
    result = load.flood(
        srv.host, srv.port, key, request, processes, OVERLOAD_THREADS, args.overload_seconds
    )
    if unexpected := set(result.statuses) - {201, 503}:
        raise RuntimeError(f"overload answered {unexpected}: {result.statuses}")
    accepted = result.statuses[201] * BULK
    if (stored := _count(srv, key)) != accepted:
        raise RuntimeError(f"{accepted} logs acknowledged under overload, {stored} stored")
    out["overload_accepted_logs_per_s"] = round(accepted / result.seconds)
    out["overload_accepted_p99_ms"] = round(percentile(result.accepted_ms, 99), 1)
    out["overload_201"] = result.statuses[201]
    out["overload_503"] = result.statuses[503]
    out["overload_rss_peak_mb"] = round(srv.memory_mb()[1])
    out["overload_bound_mb"] = round(load_settings().writer_queue_bytes / 2**20)


def _timed(srv: Server, name: str, stage: Callable[[], None]) -> None:
    began = time.monotonic()
    stage()
    print(f"[{srv.backend}] {name}: {time.monotonic() - began:.0f} s", flush=True)


def _at_rest(srv: Server) -> dict[str, float]:
    time.sleep(1)
    return {"rss_at_rest_mb": round(srv.memory_mb()[0])}


def _bulk(srv: Server, args: argparse.Namespace) -> Callable[[str, list[dict]], dict]:
    """A bulk ingest of these logs under this key, measured as `bulk_ingest` measures it."""

    def ingest(key: str, bodies: list[dict]) -> dict:
        requests = [
            ("POST", "/api/request-logs/bulk/", _json({"logs": bodies[i : i + BULK]}))
            for i in range(0, len(bodies), BULK)
        ]
        return _ingest(srv, key, requests, args.clients, len(bodies))

    return ingest


def _otlp(srv: Server, args: argparse.Namespace, out: dict) -> None:
    def ingest(key: str, requests: list[Request], logs: int, content_type: str) -> dict:
        return _ingest(srv, key, requests, args.clients, logs, content_type)

    def queryable(key: str, expected: int, began: float) -> float:
        return _until_queryable(srv, key, expected, began)

    otlp_ingest(srv, args, out, ingest, queryable)


def run_all(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    out = _at_rest(srv)
    _timed(srv, "bulk ingest", lambda: raw_baseline(srv, bulk_ingest(srv, args, out), out))
    _timed(srv, "OTLP ingest", lambda: _otlp(srv, args, out))
    _timed(srv, "evaluation", lambda: evaluation(srv, args, out, _bulk(srv, args)))
    _timed(srv, "humanloop ingest", lambda: humanloop_ingest(srv, args, out))
    _timed(srv, "keywords ai single creates", lambda: keywords_ingest(srv, args, out))
    _timed(srv, "latency at 1,000 logs/s", lambda: latency_at_rate(srv, args, out))
    out["rss_peak_ingest_mb"] = round(srv.memory_mb()[1])
    _timed(srv, f"reads at {args.size:,} logs", lambda: reads(srv, args, out))
    _timed(srv, f"search over {args.size:,} logs", lambda: search_logs(srv, args, out, fill))
    _timed(srv, f"export of {args.export:,} logs", lambda: export(srv, args, out, fill))
    _timed(srv, f"dataset of {args.dataset:,} logs", lambda: dataset_add(srv, args, out, fill))
    _timed(srv, "overload", lambda: overload(srv, args, out))
    return out


def run_export(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The export scenario alone, on a fresh server (`--export-only`)."""
    out = _at_rest(srv)
    _timed(srv, f"export of {args.export:,} logs", lambda: export(srv, args, out, fill))
    return out


def run_dataset(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """Filling a dataset alone, on a fresh server (`--dataset-only`)."""
    out = _at_rest(srv)
    _timed(srv, f"dataset of {args.dataset:,} logs", lambda: dataset_add(srv, args, out, fill))
    return out


def run_otlp(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The bulk ingest and the OTLP scenario alone, on a fresh server (`--otlp-only`)."""
    out = _at_rest(srv)
    _timed(srv, "bulk ingest", lambda: bulk_ingest(srv, args, out))
    _timed(srv, "OTLP ingest", lambda: _otlp(srv, args, out))
    return out


def run_single(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The single-log Humanloop and Keywords AI creates alone, on a fresh server
    (`--single-only`), `--hl-ingest` requests each."""
    out = _at_rest(srv)
    _timed(srv, "humanloop ingest", lambda: humanloop_ingest(srv, args, out))
    _timed(srv, "keywords ai single creates", lambda: keywords_ingest(srv, args, out))
    return out


def run_ui(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The UI's pages alone, on a fresh server (`--ui-only`), at `--size` logs."""
    out = _at_rest(srv)
    org = "bench-ui"
    key = srv.create_key(org)

    def pages() -> None:
        fill(srv, key, args.size)
        ui.ui_pages(srv, org, big_trace(srv, key), out)

    _timed(srv, f"UI pages at {args.size:,} logs", pages)
    return out


def run_search(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The log search alone, on a fresh server (`--search-only`), at `--size` logs."""
    out = _at_rest(srv)
    _timed(srv, f"search over {args.size:,} logs", lambda: search_logs(srv, args, out, fill))
    return out


def run_scale_out(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """Bulk ingest and reads under it, with this server's number of serving processes."""
    figures: dict[str, float] = {}
    stage = f"bulk ingest with {srv.workers} serving processes"
    _timed(srv, stage, lambda: figures.update(scale_out.under_ingest(srv, args, _bulk(srv, args))))
    return scale_out.named(srv.workers, figures)


def run_overload(srv: Server, args: argparse.Namespace) -> dict[str, float]:
    """The overload scenario alone, on a fresh server (`--overload-only`)."""
    out = _at_rest(srv)
    _timed(srv, "overload", lambda: overload(srv, args, out))
    return out
