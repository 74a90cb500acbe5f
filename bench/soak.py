"""`make soak`: a real `llmtrail serve` under a steady mixed load for a long while.

The benchmark (`python -m bench`) measures how fast; this measures whether it lasts: every
operation kind a deployment sees, at a steady rate, for SOAK_SECONDS (default 600): Keywords
AI bulk and single creates, Humanloop logs, OTLP/HTTP exports, lists, gets, trace reads and
annotation updates, with a rule evaluator and an automation on every log, so evaluation jobs
run all along. It reports each kind's count, errors and p50/p99 latency (from the moment a
request was due, so a slow server is charged for the queue it causes), and the resident
memory of the server, its writer process and its job worker, at the start and every
SOAK_SAMPLE_SECONDS (default 30).

It fails (exit code 1) on any 5xx or lost connection, and when memory keeps growing: for the
total and for each process, the mean of the last third of the samples taken under load is
above the mean of the first third by more than 20 % and by more than 30 MB.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from sqlalchemy import func, select

from bench import data, otlp, server
from bench.evaluation import rule_automation
from bench.load import percentile
from llmtrail.store.database import make_engine
from llmtrail.store.tables import jobs

RESULTS = Path(__file__).parent / "results" / "soak.json"
GROWTH_RATIO = 1.20  # last-third mean over first-third mean, at most
GROWTH_MB = 30.0  # and at most this many MB more
# One cycle of the mix, in the order sent: ingest first, so reads and updates find logs.
MIX = (
    "kw_bulk",
    "kw_single",
    "hl_log",
    "otlp",
    "kw_single",
    "list",
    "get",
    "hl_log",
    "trace",
    "update",
)
BULK_LOGS = 20
OTLP_SPANS = 16
Send = Callable[[httpx.Client], httpx.Response]


@dataclass
class Tally:
    """What each operation kind got: latencies of its answers, statuses, lost connections."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    lost: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_errors: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, kind: str, ms: float, response: httpx.Response | None, error: str = ""
    ) -> None:
        with self.lock:
            if response is None:
                self.lost[kind] += 1
                self.first_errors.setdefault(kind, error)
                return
            self.latencies[kind].append(ms)
            self.statuses[kind][response.status_code] += 1
            if response.status_code >= 300:
                self.first_errors.setdefault(kind, f"{response.status_code} {response.text[:200]}")


class Workload:
    """The requests of each kind, drawing on what earlier ones stored."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pool = data.TextPool(self.rng)
        self.exports = otlp.exports(OTLP_SPANS * 64, OTLP_SPANS, seed)
        self.stored: list[str] = []  # unique ids of single Keywords AI logs
        self.roots: list[str] = []  # Humanloop Flow logs' ids, each the root of a trace
        self.lock = threading.Lock()

    def _remember(self, into: list[str], uid: str) -> None:
        with self.lock:
            into.append(uid)
            del into[:-1000]

    def _pick(self, among: list[str]) -> str | None:
        with self.lock:
            return self.rng.choice(among) if among else None

    def send(self, kind: str) -> Send:
        return getattr(self, kind)

    def kw_bulk(self, api: httpx.Client) -> httpx.Response:
        logs = [data.chat_log(self.rng, self.pool, None) for _ in range(BULK_LOGS)]
        return api.post("/api/request-logs/bulk/", content=orjson.dumps({"logs": logs}))

    def kw_single(self, api: httpx.Client) -> httpx.Response:
        body = {**data.chat_log(self.rng, self.pool, None), "unique_id": uuid.uuid4().hex}
        answer = api.post("/api/request-logs/", content=orjson.dumps(body))
        if answer.is_success:
            self._remember(self.stored, body["unique_id"])
        return answer

    def hl_log(self, api: httpx.Client) -> httpx.Response:
        # An agent run: an open Flow log (no output yet), and a Prompt log under it.
        flow = {"path": "soak/flow", "flow": {"attributes": {"v": 1}}, "inputs": {"q": "x"}}
        answer = api.post("/v5/flows/log", content=orjson.dumps(flow))
        if not answer.is_success:
            return answer
        root = answer.json()["id"]
        self._remember(self.roots, root)
        body = data.prompt_log(self.rng, self.pool, root)
        return api.post("/v5/prompts/log", content=orjson.dumps(body))

    def otlp(self, api: httpx.Client) -> httpx.Response:
        body = self.rng.choice(self.exports)
        headers = {"Content-Type": "application/x-protobuf"}
        return api.post("/v1/traces", content=body, headers=headers)

    def list(self, api: httpx.Client) -> httpx.Response:
        filters = {
            "metadata__tenant": {"operator": "", "value": f"tenant-{self.rng.randrange(50)}"}
        }
        body = orjson.dumps({"filters": filters})
        return api.post("/api/request-logs/list/?page_size=50", content=body)

    def get(self, api: httpx.Client) -> httpx.Response:
        uid = self._pick(self.stored) or "none"
        return api.get(f"/api/request-logs/{uid}/")

    def trace(self, api: httpx.Client) -> httpx.Response:
        return api.get(f"/v5/logs/{self._pick(self.roots) or 'none'}")

    def update(self, api: httpx.Client) -> httpx.Response:
        uid = self._pick(self.stored) or "none"
        change = {"metadata": {"reviewed": self.rng.random() < 0.5}, "note": "soak"}
        return api.patch(f"/api/request-logs/{uid}/", content=orjson.dumps(change))


def roles(srv: server.Server) -> dict[str, int]:
    """The server's processes by role, told apart by their command lines."""
    found = {}
    for pid in srv.processes():
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if "writer_process" in command:
            found["writer"] = pid
        elif "llmtrail.worker" in command:
            found["worker"] = pid
        elif pid == srv.process.pid:
            found["server"] = pid
    return found


def rss_mb(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory of each process (MB), and their total."""
    out = {}
    for role, pid in pids.items():
        status = Path(f"/proc/{pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        out[role] = round(kb / 1024, 1)
    out["total"] = round(sum(out.values()), 1)
    return out


def jobs_by_state(database_url: str) -> dict[str, int]:
    """How many jobs (evaluations and event follow-ups) ended in each state."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = select(jobs.c.state, func.count()).group_by(jobs.c.state)
            return {state: n for state, n in conn.execute(query)}
    finally:
        engine.dispose()


def growth(samples: list[dict[str, float]]) -> dict[str, tuple[float, float, bool]]:
    """For each process and the total: the first and last thirds' means, and whether that
    is growth past both bounds."""
    third = max(1, len(samples) // 3)
    out = {}
    for role in samples[0]:
        first = statistics.fmean(s[role] for s in samples[:third])
        last = statistics.fmean(s[role] for s in samples[-third:])
        grew = last > first * GROWTH_RATIO and last - first > GROWTH_MB
        out[role] = (round(first, 1), round(last, 1), grew)
    return out


def drive(
    srv: server.Server, key: str, workload: Workload, seconds: float, rate: float, clients: int
) -> Tally:
    """Send the mix at `rate` requests a second for `seconds`, from `clients` threads; each
    request goes at its scheduled moment (or as soon as a client is free after it)."""
    tally = Tally()
    ticket = itertools.count()
    began = time.monotonic()
    stop_at = began + seconds

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with httpx.Client(base_url=srv.base_url, headers=headers, timeout=60) as api:
            while True:
                n = next(ticket)
                due = began + n / rate
                if due >= stop_at:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                kind = MIX[n % len(MIX)]
                try:
                    response = workload.send(kind)(api)
                except httpx.TransportError as exc:
                    tally.record(kind, 0.0, None, repr(exc))
                    continue
                tally.record(kind, (time.monotonic() - due) * 1000, response)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 20)))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--sample-seconds", type=float, default=float(os.environ.get("SOAK_SAMPLE_SECONDS", 30))
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LLMTRAIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    srv, pg_name = server.start(args.backend, args.pg_url)
    try:
        key = srv.create_key("soak")
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}) as api:
            rule_automation(api)
            workload = Workload(seed=7)
            workload.kw_single(api).raise_for_status()  # something for the reads from the start
            workload.hl_log(api).raise_for_status()
        pids = roles(srv)
        start = rss_mb(pids)
        samples: list[dict[str, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(args.sample_seconds):
                samples.append(rss_mb(pids))
                print(f"  {len(samples) * args.sample_seconds:5.0f} s  RSS MB {samples[-1]}")

        sampler = threading.Thread(target=sample, daemon=True)
        print(
            f"soak: {args.seconds:.0f} s at {args.rate:g} req/s on {args.backend}; RSS MB {start}"
        )
        sampler.start()
        tally = drive(srv, key, workload, args.seconds, args.rate, args.clients)
        done.set()
        sampler.join()
        samples.append(rss_mb(pids))
        alive = roles(srv) == pids  # none of them died and was replaced
        evaluation = jobs_by_state(srv.database_url)
    finally:
        srv.stop()
        if pg_name:
            server.drop_database(args.pg_url, pg_name)
    return report(args, tally, start, samples, alive, evaluation)


def report(
    args: argparse.Namespace,
    tally: Tally,
    start: dict[str, float],
    samples: list[dict[str, float]],
    alive: bool,
    evaluation: dict[str, int],
) -> int:
    kinds = {}
    print(f"\n{'operation':<11}{'count':>7}{'non-2xx':>9}{'lost':>6}{'p50 ms':>9}{'p99 ms':>9}")
    for kind in sorted(set(MIX)):
        latencies = tally.latencies[kind]
        refused = sum(n for status, n in tally.statuses[kind].items() if status >= 300)
        row = {
            "count": len(latencies) + tally.lost[kind],
            "non_2xx": refused,
            "lost": tally.lost[kind],
            "statuses": {str(status): n for status, n in tally.statuses[kind].items()},
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
        }
        kinds[kind] = row
        print(
            f"{kind:<11}{row['count']:>7}{refused:>9}{row['lost']:>6}"
            f"{row['p50_ms']:>9}{row['p99_ms']:>9}"
        )
    for kind, error in tally.first_errors.items():
        print(f"  first error of {kind}: {error}")
    print(f"  jobs by state at the end: {evaluation}")
    grown = growth(samples)
    print(f"\nRSS MB at start {start}, at end {samples[-1]}")
    for role, (first, last, grew) in grown.items():
        print(
            f"  {role:<7} first third {first:7.1f}  last third {last:7.1f}  "
            + ("GROWS" if grew else "ok")
        )
    faults = sum(n for row in tally.statuses.values() for s, n in row.items() if s >= 500)
    lost = sum(tally.lost.values())
    failed = faults > 0 or lost > 0 or any(g for *_, g in grown.values()) or not alive
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(
        orjson.dumps(
            {
                "seconds": args.seconds,
                "rate": args.rate,
                "backend": args.backend,
                "operations": kinds,
                "rss_start_mb": start,
                "rss_samples_mb": samples,
                "growth": {
                    r: {"first": f, "last": la, "grows": g} for r, (f, la, g) in grown.items()
                },
                "processes_survived": alive,
                "jobs_by_state": evaluation,
                "passed": not failed,
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    verdict = "FAILED" if failed else "passed"
    print(f"\nsoak {verdict}: {faults} 5xx, {lost} lost connections, processes alive: {alive}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
