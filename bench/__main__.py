"""`python -m bench` (or `make bench`): llmtrail's throughput, latency and memory, measured.

Each backend gets its own `llmtrail serve` on a fresh database; the figures of one run are
printed side by side with their targets and written to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench import report, scale_out, scenarios, server

RESULTS = Path(__file__).parent / "results" / "latest.json"
# The scenarios that run alone, by the flag that asks for one.
ALONE = {
    "overload_only": scenarios.run_overload,
    "otlp_only": scenarios.run_otlp,
    "single_only": scenarios.run_single,
    "export_only": scenarios.run_export,
    "ui_only": scenarios.run_ui,
    "dataset_only": scenarios.run_dataset,
    "search_only": scenarios.run_search,
    "scale_out": scenarios.run_scale_out,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--size", type=int, default=200_000, help="logs stored for the reads (targets: 1000000)"
    )
    parser.add_argument("--ingest", type=int, default=100_000, help="logs for the bulk ingest")
    parser.add_argument(
        "--hl-ingest",
        type=int,
        default=30_000,
        help="single-log Humanloop requests (each one is a request: keeps the default run short)",
    )
    parser.add_argument(
        "--export", type=int, default=100_000, help="logs in the store the export reads"
    )
    parser.add_argument(
        "--export-only", action="store_true", help="run only the export scenario (quick)"
    )
    parser.add_argument(
        "--ui-only",
        action="store_true",
        help="run only the UI pages' server time, at --size logs (quick with a small --size)",
    )
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="run only the log search, at --size logs (quick with a small --size)",
    )
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="run only the bulk ingest and reads under it with 1, 2 and 4 serving processes, "
        "on PostgreSQL",
    )
    parser.add_argument(
        "--dataset",
        type=int,
        default=20_000,
        help="logs copied into a dataset by filter (the issue's figure: 100000)",
    )
    parser.add_argument(
        "--dataset-only", action="store_true", help="run only the dataset scenario (quick)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent ingest clients")
    parser.add_argument(
        "--overload-only", action="store_true", help="run only the overload scenario (quick)"
    )
    parser.add_argument(
        "--otlp-only", action="store_true", help="run only the bulk and OTLP ingest (quick)"
    )
    parser.add_argument(
        "--single-only",
        action="store_true",
        help="run only the single-log Humanloop and Keywords AI creates (quick with a small "
        "--hl-ingest)",
    )
    parser.add_argument(
        "--overload-clients",
        type=int,
        default=128,
        help="connections flooding the server with bulk logs in the overload scenario (16 a "
        "client process)",
    )
    parser.add_argument(
        "--overload-seconds", type=float, default=20, help="how long the overload lasts"
    )
    parser.add_argument(
        "--only", choices=["sqlite", "postgresql"], help="run one backend (default: both)"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LLMTRAIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test"),
        help="a PostgreSQL database to create the benchmark's own database from",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    backends = [args.only] if args.only else ["sqlite", "postgresql"]
    started = time.monotonic()
    # A scenario run alone (`--*-only`, `--scale-out`) or one backend (`--only`) adds to the
    # figures already written, so the backends and the scenarios can be run apart.
    alone = [run for flag, run in ALONE.items() if getattr(args, flag)]
    run = alone[0] if alone else scenarios.run_all
    partial = bool(args.only or alone)
    previous = orjson.loads(args.out.read_bytes()) if partial and args.out.exists() else {}
    results: dict[str, dict[str, float]] = previous.get("results", {})
    runs = [(backend, 1) for backend in backends]
    if args.scale_out:
        runs = [("postgresql", workers) for workers in scale_out.SERVERS]
    for backend, workers in runs:
        srv, pg_name = server.start(backend, args.pg_url, workers)
        try:
            results[backend] = {**results.get(backend, {}), **run(srv, args)}
        finally:
            srv.stop()
            if pg_name:
                server.drop_database(args.pg_url, pg_name)
            shutil.rmtree(srv.data_dir, ignore_errors=True)
        print(report.table({backend: results[backend]}), flush=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "args": {
            "size": args.size,
            "ingest": args.ingest,
            "hl_ingest": args.hl_ingest,
            "export": args.export,
            "dataset": args.dataset,
            "clients": args.clients,
            "overload_clients": args.overload_clients,
            "overload_seconds": args.overload_seconds,
        },
        "seconds": round(time.monotonic() - started, 1),
        "results": results,
        "targets": report.TARGETS,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    args.out.with_suffix(".md").write_text(report.markdown(results) + "\n")
    print()
    print(report.table(results))
    print(f"\n{document['seconds']} s; written to {args.out} (and the table to .md)")


if __name__ == "__main__":
    main()
