"""Scale-out on PostgreSQL (`--scale-out`): the bulk ingest with 1, 2 and 4 serving processes
(`llmtrail serve --workers N`, each with its own writer), and the newest 100 logs read while
that ingest runs, so a user knows what one more process (and core) buys."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable

from bench import data, load
from bench.load import percentile
from bench.server import Server

Ingest = Callable[[str, list[dict]], dict]
SERVERS = (1, 2, 4)
NEWEST = ("POST", "/api/request-logs/list/?page_size=100", b"{}")  # the last hour's newest


def under_ingest(srv: Server, args: argparse.Namespace, ingest: Ingest) -> dict[str, float]:
    """Logs/s of a bulk ingest, and the p50/p95 of reads sent back to back meanwhile."""
    key = srv.create_key("bench-scale-out")
    bodies = data.chat_logs(args.ingest, seed=1)
    latencies: list[float] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            latencies.extend(load.timed(srv.host, srv.port, key, NEWEST, 1))

    reader = threading.Thread(target=read, name="reads-under-ingest")
    reader.start()
    try:
        figures = ingest(key, bodies)
    finally:
        done.set()
        reader.join()
    return {
        "bulk_ingest_logs_per_s": figures["logs_per_s"],
        "list_newest_100_under_ingest_p50_ms": round(percentile(latencies, 50), 1),
        "list_newest_100_under_ingest_p95_ms": round(percentile(latencies, 95), 1),
    }


def named(servers: int, figures: dict[str, float]) -> dict[str, float]:
    """`figures` under names that say how many serving processes made them."""
    return {f"{name}_{servers}_servers": value for name, value in figures.items()}
