"""Load generators: closed loop (N clients, back to back), open loop (a fixed offered rate)
and a flood (many connections resending as soon as they are answered, for a while).

Clients are separate processes speaking HTTP/1.1 keep-alive through `http.client`, the
cheapest client the standard library has, so the two cores go to the server, not the load.
Bodies are serialized before the clock starts.
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.server import Server

Request = tuple[str, str, bytes]  # method, path, JSON body


@dataclass
class LoadResult:
    requests: int
    errors: int
    started: float  # epoch seconds when the first request was due
    latencies_ms: list[float]
    first_error: str | None = None

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1]


def _connection(host: str, port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.connect()
    return conn


def _send(
    conn: http.client.HTTPConnection, headers: dict[str, str], request: Request
) -> tuple[int, bytes]:
    method, path, body = request
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _headers(key: str, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": content_type}


# Set before forking, so children share the bodies without pickling them.
_PLAN: list[list[Request]] = []


def _closed_client(args: tuple) -> tuple[list[float], int, str | None]:
    host, port, key, index, start_at, content_type = args
    conn = _connection(host, port)
    headers = _headers(key, content_type)
    latencies, errors, first_error = [], 0, None
    time.sleep(max(0.0, start_at - time.time()))
    for request in _PLAN[index]:
        began = time.perf_counter()
        status, body = _send(conn, headers, request)
        latencies.append((time.perf_counter() - began) * 1000)
        if status >= 300:
            errors += 1
            first_error = first_error or f"{status} {body[:300]!r}"
    conn.close()
    return latencies, errors, first_error


def closed_loop(
    host: str,
    port: int,
    key: str,
    plans: list[list[Request]],
    content_type: str = "application/json",
) -> LoadResult:
    """One process per plan, each sending its requests one after another."""
    global _PLAN
    _PLAN = plans
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 0.5
    with context.Pool(len(plans)) as pool:
        results = pool.map(
            _closed_client,
            [(host, port, key, i, start_at, content_type) for i in range(len(plans))],
        )
    return merge(results, start_at)


def _open_client(args: tuple) -> tuple[list[float], int, str | None]:
    """Send each request at its scheduled moment; latency counts from that moment, so a slow
    server is charged for the queue it causes (no coordinated omission)."""
    host, port, key, index, start_at, interval, threads, content_type = args
    plan = _PLAN[index]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = _connection(host, port)
        headers = _headers(key, content_type)
        for n in range(offset, len(plan), threads):
            due = start_at + n * interval
            time.sleep(max(0.0, due - time.time()))
            status, body = _send(conn, headers, plan[n])
            elapsed = (time.time() - due) * 1000
            with lock:
                latencies.append(elapsed)
                if status >= 300:
                    errors.append(f"{status} {body[:300]!r}")
        conn.close()

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, len(errors), errors[0] if errors else None


def open_loop(
    host: str,
    port: int,
    key: str,
    plans: list[list[Request]],
    rate: float,
    threads: int = 8,
    content_type: str = "application/json",
) -> LoadResult:
    """Offer `rate` requests per second in total, spread evenly over the plans' processes."""
    global _PLAN
    _PLAN = plans
    context = multiprocessing.get_context("fork")
    interval = len(plans) / rate
    start_at = time.time() + 0.5
    args = [
        (host, port, key, i, start_at + i / rate, interval, threads, content_type)
        for i in range(len(plans))
    ]
    with context.Pool(len(plans)) as pool:
        results = pool.map(_open_client, args)
    return merge(results, start_at)


@dataclass
class Flood:
    statuses: Counter[int]
    accepted_ms: list[float]  # the latencies of the 2xx answers
    seconds: float  # from the first request until the last answer


def _flood_client(args: tuple) -> tuple[Counter[int], list[float], float]:
    host, port, key, request, start_at, until, threads = args
    statuses: Counter[int] = Counter()
    accepted: list[float] = []
    finished = [start_at]
    lock = threading.Lock()

    def worker() -> None:
        conn = _connection(host, port)
        headers = _headers(key)
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < until:
            began = time.perf_counter()
            status, _ = _send(conn, headers, request)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                statuses[status] += 1
                if status < 300:
                    accepted.append(elapsed)
        conn.close()
        with lock:
            finished.append(time.time())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses, accepted, max(finished)


def flood(
    host: str, port: int, key: str, request: Request, processes: int, threads: int, seconds: float
) -> Flood:
    """`processes` x `threads` connections, each sending `request` again as soon as it is
    answered (whatever the answer, Retry-After ignored) for `seconds`: an offered load with
    no ceiling but the number of connections."""
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 0.5
    args = [(host, port, key, request, start_at, start_at + seconds, threads)] * processes
    with context.Pool(processes) as pool:
        results = pool.map(_flood_client, args)
    return Flood(
        sum((result[0] for result in results), Counter()),
        [value for result in results for value in result[1]],
        max(result[2] for result in results) - start_at,
    )


def merge(results: list[tuple[list[float], int, str | None]], started: float) -> LoadResult:
    latencies = [value for result in results for value in result[0]]
    errors = sum(result[1] for result in results)
    first = next((result[2] for result in results if result[2]), None)
    return LoadResult(len(latencies), errors, started, latencies, first)


def timed(host: str, port: int, key: str, request: Request, repeat: int) -> list[float]:
    """Latencies (ms) of the same read, sent `repeat` times one after another."""
    conn = _connection(host, port)
    headers = _headers(key)
    latencies = []
    for _ in range(repeat):
        began = time.perf_counter()
        status, body = _send(conn, headers, request)
        latencies.append((time.perf_counter() - began) * 1000)
        if status >= 300:
            raise RuntimeError(f"{request[0]} {request[1]} answered {status}: {body[:300]!r}")
    conn.close()
    return latencies


def figures(srv: Server, key: str, request: Request, repeat: int) -> dict[str, float]:
    """p50 and p95 (ms) of a read sent `repeat` times, after two that warm the caches, as a
    live server has them."""
    timed(srv.host, srv.port, key, request, 2)
    latencies = timed(srv.host, srv.port, key, request, repeat)
    return {
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
    }
