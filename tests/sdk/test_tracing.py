"""`@trace` and `with trace(...)` against a live server: nested calls of every shape arrive
as one trace with the right parents, failures are recorded on their span, and a server
that is down never holds the application up."""

from __future__ import annotations

import asyncio
import contextvars
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from llmtrail import sdk
from llmtrail.sdk import Tracer, current_span, trace
from llmtrail.sdk.retry import Backoff
from tests.conftest import Tenant, free_port


@pytest.fixture
def tracer(tenant: Tenant) -> Iterator[Tracer]:
    yield sdk.configure(tenant.key, base_url=tenant.base_url, interval=0.05, timeout=60)
    sdk.shutdown(10)


def trace_logs(api: httpx.Client, trace_id: str) -> list[dict[str, Any]]:
    """The logs of a trace, found by the list's `trace_unique_id` filter."""
    answer = api.post(
        "/api/request-logs/list/?page_size=100&start_time=2000-01-01T00:00:00",
        json={"filters": {"trace_unique_id": {"operator": "", "value": [trace_id]}}},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def by_name(logs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Logs by span name, the local part of a qualified name (the last of namesakes)."""
    return {log["span_name"].rsplit(".", 1)[-1]: log for log in logs}


@trace(kind="tool")
def lookup(city: str) -> dict[str, str]:
    return {"city": city, "sky": "sunny"}


@trace
def cities(n: int) -> Iterator[str]:
    for i in range(n):
        yield lookup(f"c{i}")["city"]


@trace(name="summarise", kind="llm")
async def summarise(found: list[str]) -> str:
    await asyncio.sleep(0)
    return f"sunny in {len(found)} cities"


@trace(kind="agent")
async def forecast(days: int) -> AsyncIterator[int]:
    for day in range(days):
        yield (await asyncio.gather(summarise([str(day)])))[0].count("sunny")


@trace(name="answer", kind="workflow")
def answer(question: str) -> dict[str, Any]:
    with trace("retrieve", inputs={"q": question}) as span:
        span.set_output(["doc-1"])
        span.set_metadata(source="wiki")
    found = list(cities(2))

    async def rest() -> tuple[str, list[int]]:
        return await summarise(found), [n async for n in forecast(1)]

    summary, days = asyncio.run(rest())  # asyncio.run copies the context: same trace
    return {"summary": summary, "days": days, "trace": current_span().trace_unique_id}


def test_nested_calls_of_every_shape_arrive_as_one_trace(tracer: Tracer, api: httpx.Client) -> None:
    result = answer("weather?")
    assert tracer.flush(60)
    found = trace_logs(api, result["trace"])
    assert len(found) == 8  # two lookups, two summaries
    logs = by_name(found)
    assert sorted(logs) == ["answer", "cities", "forecast", "lookup", "retrieve", "summarise"]

    root = logs["answer"]
    parent_of = {name: log["span_parent_id"] for name, log in logs.items()}
    assert parent_of["answer"] is None
    assert parent_of["retrieve"] == parent_of["cities"] == root["span_unique_id"]
    assert parent_of["lookup"] == logs["cities"]["span_unique_id"]  # called inside the generator
    assert parent_of["forecast"] == root["span_unique_id"]
    kinds = {name: log["log_type"] for name, log in logs.items()}
    assert kinds == {
        "answer": "workflow",
        "retrieve": "task",
        "cities": "task",
        "lookup": "tool",
        "summarise": "generation",
        "forecast": "agent",
    }
    assert json.loads(root["input"]) == {"question": "weather?"}
    assert json.loads(root["output"])["summary"] == "sunny in 2 cities"
    assert json.loads(logs["cities"]["output"]) == ["c0", "c1"]
    assert json.loads(logs["retrieve"]["input"]) == {"q": "weather?"}
    assert logs["retrieve"]["metadata"]["source"] == "wiki"
    assert {log["span_workflow_name"] for log in logs.values()} == {"answer"}
    assert all(log["status"] == "success" and log["latency"] >= 0 for log in logs.values())
    assert root["start_time"] <= logs["retrieve"]["start_time"] <= root["timestamp"]

    tree = api.get(f"/v5/logs/{root['unique_id']}").json()  # the Humanloop view of the trace
    name_of = {log["unique_id"]: log["span_name"].rsplit(".", 1)[-1] for log in found}
    children = {name_of[child["id"]]: child for child in tree["trace_children"]}
    assert sorted(children) == ["cities", "forecast", "retrieve", "summarise"]
    assert [name_of[c["id"]] for c in children["cities"]["trace_children"]] == ["lookup"] * 2
    assert [name_of[c["id"]] for c in children["forecast"]["trace_children"]] == ["summarise"]


def test_an_exception_is_recorded_on_its_span_and_raised_on(
    tracer: Tracer, api: httpx.Client
) -> None:
    @trace
    def parse(text: str) -> int:
        return int(text)

    @trace(kind="workflow")
    def outer() -> str:
        try:
            parse("not a number")
        except ValueError:
            return current_span().trace_unique_id
        raise AssertionError("parse did not raise")

    trace_id = outer()
    with pytest.raises(KeyError), trace("block", kind="task"):
        raise KeyError("missing")
    assert tracer.flush(60)
    logs = by_name(trace_logs(api, trace_id))
    failed = logs["parse"]
    assert failed["status"] == "failed" and failed["failed"] is True
    assert (
        failed["error_message"]
        == "ValueError: invalid literal for int() with base 10: 'not a number'"
    )
    assert "int(text)" in failed["metadata"]["otel"]["exception"]["stacktrace"]
    assert logs["outer"]["status"] == "success"
    listed = api.post(
        "/api/request-logs/list/",
        json={"filters": {"span_name": {"operator": "", "value": ["block"]}}},
    ).json()["results"]
    assert [log["error_message"] for log in listed] == ["KeyError: 'missing'"]


def test_a_generator_closed_early_is_not_a_failure(tracer: Tracer, api: httpx.Client) -> None:
    @trace
    def numbers() -> Iterator[int]:
        yield from range(100)

    with trace("consumer", kind="workflow") as root:
        stream = numbers()
        assert [next(stream), next(stream)] == [0, 1]
        assert current_span() is root  # the consumer's code is not inside the generator
        stream.close()
    assert tracer.flush(60)
    closed = by_name(trace_logs(api, root.trace_unique_id))["numbers"]
    assert (closed["status"], json.loads(closed["output"])) == ("success", [0, 1])


def test_a_stopped_server_never_blocks_the_app(tenant: Tenant) -> None:
    tracer = sdk.configure(
        tenant.key,
        base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        interval=0.01,
        max_queue=20,
        backoff=Backoff(base=10),
    )

    @trace
    def double(n: int) -> int:
        return 2 * n

    try:
        began = time.monotonic()
        assert [double(i) for i in range(50)] == [2 * i for i in range(50)]
        assert time.monotonic() - began < 0.5  # 50 calls, no waiting on the network
        began = time.monotonic()
        assert not tracer.flush(0.3)
        assert not sdk.shutdown(0.3)
        assert time.monotonic() - began < 1.5
        assert tracer.dropped == 50  # queue full, or still undelivered at shutdown
    finally:
        sdk.shutdown(0)


EXITING = """
import json, sys, time
from llmtrail import sdk
from llmtrail.sdk.retry import Backoff
sdk.configure(sys.argv[1], base_url=sys.argv[2], exit_timeout=float(sys.argv[3]),
              backoff=Backoff(base=10))

@sdk.trace(name="at-exit", kind="workflow")
def work():
    return sdk.current_span().trace_unique_id

print(json.dumps({"trace": work(), "exiting_at": time.time()}), flush=True)
"""


def run_and_exit(key: str, base_url: str, exit_timeout: float) -> tuple[str, float]:
    """Run a program that makes a span and ends; its trace id, and how long its exit took
    (from its last line to the end of the process, start-up left out)."""
    done = subprocess.run(
        [sys.executable, "-c", EXITING, key, base_url, str(exit_timeout)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ended = time.time()
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    return said["trace"], ended - said["exiting_at"]


def test_spans_are_flushed_at_exit(tenant: Tenant, api: httpx.Client) -> None:
    trace_id, _ = run_and_exit(tenant.key, tenant.base_url, 30)
    assert [log["span_name"] for log in trace_logs(api, trace_id)] == ["at-exit"]


def test_exit_with_the_server_down_waits_no_longer_than_its_bound(tenant: Tenant) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert run_and_exit(tenant.key, nowhere, 0)[1] < 1
    assert 1.4 < run_and_exit(tenant.key, nowhere, 1.5)[1] < 3.5  # the bound, not the retries'


def test_threads_join_the_trace_when_handed_the_context(tracer: Tracer, api: httpx.Client) -> None:
    @trace(kind="tool")
    def work(n: int) -> int:
        return n + 1

    with ThreadPoolExecutor(2) as pool, trace("fan-out", kind="workflow") as root:
        context = contextvars.copy_context()
        handed = [pool.submit(context.copy().run, work, n) for n in range(2)]
        alone = pool.submit(work, 9)
        assert [f.result() for f in handed] == [1, 2] and alone.result() == 10
    assert tracer.flush(60)
    logs = trace_logs(api, root.trace_unique_id)
    children = [log for log in logs if log["span_parent_id"] == root.span_unique_id]
    assert sorted(json.loads(log["output"]) for log in children) == [1, 2]
    assert len(logs) == 3  # the call made without the context is a trace of its own
