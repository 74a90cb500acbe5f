"""`wrap_openai` around the real `openai` client, talking to the fake OpenAI server: every
chat completion, streamed or not, sync or async, becomes a log with its model, tokens,
cost and latency, nested under the current span."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from llmtrail import sdk
from llmtrail.sdk import Tracer, trace, wrap_openai
from tests.conftest import Tenant
from tests.fakes.openai_server import FakeOpenAI, completion, error, streamed

MODEL = "gpt-4o-mini"  # a model genai-prices knows: the log is priced


@pytest.fixture
def tracer(tenant: Tenant) -> Iterator[Tracer]:
    yield sdk.configure(tenant.key, base_url=tenant.base_url, interval=0.05, timeout=60)
    sdk.shutdown(10)


@pytest.fixture
def marker() -> str:
    """Words only this test's requests carry: the fake provider is shared."""
    return uuid.uuid4().hex


def ask(marker: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Weather in Paris? {marker}"}]


def logged(api: httpx.Client, tracer: Tracer, marker: str) -> dict[str, Any]:
    """The one log whose prompt mentions `marker`."""
    assert tracer.flush(60)
    found = api.post(
        "/api/request-logs/list/?page_size=100&start_time=2000-01-01T00:00:00", json={}
    ).json()["results"]
    [log] = [x for x in found if marker in str(x["prompt_messages"])]
    return log


def test_a_completion_is_logged_under_the_current_span(
    tracer: Tracer, api: httpx.Client, llm_provider: FakeOpenAI, marker: str
) -> None:
    llm_provider.script_for(
        marker, completion("Sunny.", prompt_tokens=11, completion_tokens=4, model=MODEL)
    )
    client = wrap_openai(openai.OpenAI(api_key="test", base_url=llm_provider.base_url))

    with trace("weather", kind="workflow") as root:
        answer = client.chat.completions.create(model=MODEL, messages=ask(marker), temperature=0.2)
    assert answer.choices[0].message.content == "Sunny."
    log = logged(api, tracer, marker)
    assert (log["model"], log["prompt_tokens"], log["completion_tokens"]) == (MODEL, 11, 4)
    assert log["cost"] > 0 and log["latency"] > 0
    assert log["completion_message"]["content"] == "Sunny."
    assert (log["log_type"], log["stream"], log["temperature"]) == ("chat", False, 0.2)
    assert log["trace_unique_id"] == root.trace_unique_id
    assert log["span_parent_id"] == root.span_unique_id
    assert log["span_workflow_name"] == "weather"


def stream_text(chunks: Any) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_streamed_completion_is_logged_with_its_time_to_first_token(
    tracer: Tracer, api: httpx.Client, llm_provider: FakeOpenAI, marker: str
) -> None:
    llm_provider.script_for(
        marker,
        streamed(
            "It is ", "sunny.", prompt_tokens=11, completion_tokens=3, model=MODEL, chunk_delay=0.1
        ),
    )
    client = wrap_openai(openai.OpenAI(api_key="test", base_url=llm_provider.base_url))

    began = time.monotonic()
    with client.chat.completions.create(model=MODEL, messages=ask(marker), stream=True) as chunks:
        assert stream_text(chunks) == "It is sunny."
    took = time.monotonic() - began
    [sent] = llm_provider.sent(marker)
    assert sent.body["stream_options"] == {"include_usage": True}
    log = logged(api, tracer, marker)
    assert (log["prompt_tokens"], log["completion_tokens"], log["stream"]) == (11, 3, True)
    assert log["completion_message"] == {"role": "assistant", "content": "It is sunny."}
    assert log["cost"] > 0
    assert 0.15 < log["time_to_first_token"] < log["latency"] <= took  # 2nd chunk's content
    assert log["span_parent_id"] is None  # no span around it: a trace of its own


def test_the_async_client_streamed_and_not(
    tracer: Tracer, api: httpx.Client, llm_provider: FakeOpenAI
) -> None:
    whole, parts = uuid.uuid4().hex, uuid.uuid4().hex
    llm_provider.script_for(
        whole, completion("Rain.", prompt_tokens=9, completion_tokens=2, model=MODEL)
    )
    llm_provider.script_for(
        parts, streamed("Sn", "ow.", prompt_tokens=8, completion_tokens=2, model=MODEL)
    )
    client = wrap_openai(openai.AsyncOpenAI(api_key="test", base_url=llm_provider.base_url))

    @trace(kind="agent")
    async def agent() -> str:
        first = await client.chat.completions.create(model=MODEL, messages=ask(whole))
        chunks = await client.chat.completions.create(model=MODEL, messages=ask(parts), stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        return first.choices[0].message.content + text

    assert asyncio.run(agent()) == "Rain.Snow."
    plain, stream = logged(api, tracer, whole), logged(api, tracer, parts)
    assert (plain["completion_tokens"], plain["stream"], plain["cost"] > 0) == (2, False, True)
    assert (stream["completion_message"]["content"], stream["stream"]) == ("Snow.", True)
    assert stream["time_to_first_token"] is not None and stream["prompt_tokens"] == 8
    assert plain["span_parent_id"] == stream["span_parent_id"] is not None
    assert plain["trace_unique_id"] == stream["trace_unique_id"]


def test_a_failed_call_is_logged_and_raised(
    tracer: Tracer, api: httpx.Client, llm_provider: FakeOpenAI, marker: str
) -> None:
    llm_provider.script_for(marker, error(400, "model not found"))
    client = wrap_openai(openai.OpenAI(api_key="test", base_url=llm_provider.base_url))

    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="no-such-model", messages=ask(marker))
    log = logged(api, tracer, marker)
    assert (log["status"], log["status_code"], log["model"]) == ("failed", 400, "no-such-model")
    assert "model not found" in log["error_message"]


def test_logging_never_waits_for_the_server(
    tenant: Tenant, llm_provider: FakeOpenAI, marker: str
) -> None:
    from tests.conftest import free_port

    llm_provider.script_for(marker, *[completion("ok", model=MODEL)] * 5)
    tracer = sdk.configure(tenant.key, base_url=f"http://127.0.0.1:{free_port()}")
    client = wrap_openai(openai.OpenAI(api_key="test", base_url=llm_provider.base_url))
    unwrapped: Callable[..., Any] = client.chat.completions.create.__wrapped__
    try:
        began = time.monotonic()
        for _ in range(5):
            client.chat.completions.create(model=MODEL, messages=ask(marker))
        wrapped_took = time.monotonic() - began
        assert wrapped_took < 2
        assert wrap_openai(client).chat.completions.create.__wrapped__ is unwrapped  # once
        assert not sdk.shutdown(0.2)
        assert tracer.dropped == 5
    finally:
        sdk.shutdown(0)
