"""Humanloop's `logs.list(search=...)` over one Prompt's `--size` logs (the issue's figure:
a million, p95 within 100 ms): a phrase one log in a thousand holds (`data.RARE_PHRASE`, what
a person looks for), text no log holds, and a word nearly every log holds. Each answer counts
its matches (`total`), so the common word reads every match; it is printed, not targeted."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from bench import data, load
from bench.server import Server

Fill = Callable[..., None]
SEARCHES = {
    "search_rare": data.RARE_PHRASE,
    "search_missing": "no log says this",
    "search_common": "refunds",
}


def search_logs(srv: Server, args: argparse.Namespace, out: dict, fill: Fill) -> None:
    key = srv.create_key("bench-search")
    prompt = httpx.post(
        f"{srv.base_url}/v5/prompts",
        headers={"X-API-KEY": key},
        json={"path": "bench/searched", "model": "gpt-4o", "template": "Answer {{question}}"},
        timeout=30,
    )
    prompt.raise_for_status()
    file_id, version_id = prompt.json()["id"], prompt.json()["version_id"]
    fill(srv, key, args.size, file=(file_id, version_id))
    for name, text in SEARCHES.items():
        query = urlencode({"file_id": file_id, "size": 10, "search": text})
        figures = load.figures(srv, key, ("GET", f"/v5/logs?{query}", b""), 20)
        out.update({f"{name}_{k}": v for k, v in figures.items()})
