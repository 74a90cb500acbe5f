"""`python -m bench.profile`: where the server and its writer spend their time under load.

Samples every process of a fresh `llmtrail serve` with py-spy while a bulk ingest (or
single-log Keywords AI or Humanloop creates) runs, and prints, per process, the share of
samples spent in each of the functions that take the most (self time, grouped by function).
The collapsed stacks are kept in bench/results/ for a flame graph. With `--round-trips` (on
PostgreSQL) it samples nothing and counts instead the writer's statements and round trips
per transaction, from its protocol trace (`bench.trips`); tracing slows the writer, so its
time is no figure then.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import data, load, server, trips
from bench.scenarios import BULK, _json, _split, humanloop_requests

RESULTS = Path(__file__).parent / "results"
PY_SPY = str(Path(sys.executable).with_name("py-spy"))


def _requests(
    srv: server.Server, key: str, kind: str, count: int, clients: int
) -> list[load.Request]:
    if kind == "humanloop":
        return humanloop_requests(srv, key, clients, count)
    bodies = data.chat_logs(count, seed=11)
    if kind == "bulk":
        return [
            ("POST", "/api/request-logs/bulk/", _json({"logs": bodies[i : i + BULK]}))
            for i in range(0, count, BULK)
        ]
    return [("POST", "/api/request-logs/", _json(body)) for body in bodies]


def _top(stacks: Path, limit: int) -> list[tuple[str, float]]:
    """Self time by function from py-spy's collapsed stacks (`frame;frame;leaf count`)."""
    counts: Counter[str] = Counter()
    for line in stacks.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        leaf = frames.split(";")[-1]
        counts[leaf.split(" (")[0] + " (" + leaf.split(" (")[-1].split(":")[0]] += int(count)
    total = sum(counts.values()) or 1
    return [(name, 100 * n / total) for name, n in counts.most_common(limit)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--kind", choices=["bulk", "single", "humanloop"], default="bulk")
    parser.add_argument("--logs", type=int, default=30_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--round-trips",
        action="store_true",
        help="count the writer's statements and round trips per transaction (PostgreSQL)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LLMTRAIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    args = parser.parse_args()
    trace_dir = Path(tempfile.mkdtemp(prefix="llmtrail-trips-")) if args.round_trips else None
    if trace_dir is not None:
        os.environ.update(trips.environment(trace_dir))
    srv, pg_name = server.start(args.only, args.pg_url)
    try:
        key = srv.create_key("bench-profile")
        requests = _requests(srv, key, args.kind, args.logs, args.clients)
        time.sleep(1)
        names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in srv.processes()}
        if trace_dir is not None:
            names = {}  # nothing sampled: the trace is the figure
        RESULTS.mkdir(exist_ok=True)
        spies = {}
        for pid in names:
            out = RESULTS / f"profile-{args.kind}-{args.only}-{pid}.txt"
            command = [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--output"]
            spies[pid] = (out, subprocess.Popen([*command, str(out), "--rate", "200"]))
        time.sleep(1)
        began = time.monotonic()
        result = load.closed_loop(srv.host, srv.port, key, _split(requests, args.clients))
        seconds = time.monotonic() - began
        for _, spy in spies.values():
            spy.send_signal(2)
            spy.wait(timeout=60)
        print(f"{args.logs} logs ({args.kind}) in {seconds:.1f} s, {result.errors} errors")
        for pid, (out, _) in spies.items():
            role = names[pid].replace(b"\0", b" ").decode()[-60:]
            print(f"\n## pid {pid}: {role}")
            if out.exists():
                for name, share in _top(out, args.top):
                    print(f"{share:5.1f}%  {name}")
    finally:
        srv.stop()
        if pg_name:
            server.drop_database(args.pg_url, pg_name)
        shutil.rmtree(srv.data_dir, ignore_errors=True)
    if trace_dir is not None:
        print("\n## the writer's transactions\n" + trips.count(trace_dir).report(args.top))
        shutil.rmtree(trace_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
