"""Filling a dataset, measured: seconds from `POST /api/datasets/{id}/logs/bulk/` (every log
of a store of `--dataset` logs, by a filter that all of them pass) until the dataset says it
is ready with all of them copied, through the server's own job worker."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from bench.server import Server

Fill = Callable[[Server, str, int], None]


def dataset_add(srv: Server, args: argparse.Namespace, out: dict, fill: Fill) -> None:
    key = srv.create_key("bench-dataset")
    fill(srv, key, args.dataset)
    now = datetime.now(UTC)
    body = {
        "start_time": (now - timedelta(days=8)).isoformat(),
        "end_time": (now + timedelta(minutes=1)).isoformat(),
        "filters": {"status_code": {"operator": "gte", "value": 0}},
    }
    with httpx.Client(
        base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        dataset = api.post("/api/datasets/", json={"name": "bench", "is_empty": True}).json()
        began = time.monotonic()
        api.post(f"/api/datasets/{dataset['id']}/logs/bulk/", json=body).raise_for_status()
        while (found := api.get(f"/api/datasets/{dataset['id']}/").json())["status"] != "ready":
            time.sleep(0.1)
        seconds = time.monotonic() - began
    if found["log_count"] != args.dataset:
        raise RuntimeError(f"the dataset holds {found['log_count']} logs, not {args.dataset}")
    out["dataset_add_seconds"] = round(seconds, 2)
    out["dataset_add_logs_per_s"] = round(args.dataset / seconds)
