"""Server time of the UI's heaviest pages: the logs page, a log's page, a 20,000-span trace
and the dashboard over a week, fetched as a signed-in browser fetches them (session cookie)."""

from __future__ import annotations

import re
import time
import uuid

import httpx

from bench.load import percentile
from bench.server import Server
from llmtrail.core import users
from llmtrail.store.database import make_engine

PASSWORD = "bench password"
REPEAT = 20
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _signed_in(srv: Server, org: str) -> httpx.Client:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_engine(srv.database_url)
    try:
        users.create_user(engine, email=email, password=PASSWORD, org=org, role="viewer")
    finally:
        engine.dispose()
    client = httpx.Client(base_url=srv.base_url, timeout=120)
    token = TOKEN.search(client.get("/signin").text).group(1)  # type: ignore[union-attr]
    signed = client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert signed.status_code == 303, signed.text
    return client


def _timed(client: httpx.Client, path: str, repeat: int) -> dict[str, float]:
    client.get(path)  # warm caches, as a live server has them
    latencies = []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = client.get(path)
        latencies.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return {
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
    }


def ui_pages(srv: Server, org: str, trace_id: str, out: dict) -> None:
    """`ui_*_p50_ms` / `_p95_ms` of each page, on the store `scenarios.fill` made."""
    client = _signed_in(srv, org)
    try:
        logs = client.get("/logs?range=7d").text
        log_id = logs.split('data-href="/logs/')[1].split('"')[0]
        pages = {
            "ui_logs_page": ("/logs?range=7d", REPEAT),
            "ui_logs_by_model": ("/logs?range=7d&model=o3-mini", REPEAT),
            "ui_log_detail": (f"/logs/{log_id}", REPEAT),
            "ui_trace_20k_spans": (f"/traces/{trace_id}", 5),
            "ui_dashboard_week": ("/dashboard?range=7d", 5),
        }
        for name, (path, repeat) in pages.items():
            out.update({f"{name}_{k}": v for k, v in _timed(client, path, repeat).items()})
    finally:
        client.close()
