"""Exporting logs, measured: rows/s of `GET /api/request-logs/export/` over a store of
`--export` logs, and how far the server's memory rises above its rest meanwhile (the
target: flat, under 50 MB above rest at 100,000 logs, whatever the export's size)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import httpx

from bench.server import Server

Fill = Callable[[Server, str, int], None]


def export(srv: Server, args: argparse.Namespace, out: dict, fill: Fill) -> None:
    key = srv.create_key("bench-export")
    fill(srv, key, args.export)
    time.sleep(1)
    rest = srv.memory_mb()[0]
    srv.reset_peak()
    rows = 0
    began = time.monotonic()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream(
        "GET", f"{srv.base_url}/api/request-logs/export/", headers=headers, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            rows += chunk.count(b"\n")
    seconds = time.monotonic() - began
    if rows != args.export:
        raise RuntimeError(f"the export held {rows} logs, not {args.export}")
    out["export_rows_per_s"] = round(rows / seconds)
    out["export_peak_above_rest_mb"] = round(srv.memory_mb()[1] - rest, 1)
