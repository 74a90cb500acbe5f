"""The `humanloop` SDK's decorators against a live server: `@flow`, `@tool` and `@prompt`
(around the real `openai` client, instrumented by the SDK) make one Flow log with its children.

No `from __future__ import annotations`: the SDK reads the decorated functions' annotations
as types to build the Tool's JSON schema.
"""

import time

import openai
from humanloop import Humanloop
from opentelemetry.instrumentation.openai import OpenAIInstrumentor

from tests.conftest import Server, Tenant
from tests.fakes.openai_server import FakeOpenAI, completion


def test_humanloop_decorators_make_a_flow_with_its_children(
    server: Server, tenant: Tenant, llm_provider: FakeOpenAI
) -> None:

    # The SDK instruments `openai` once per process, with the provider of the first client:
    # undo an earlier test's, so that this client's provider gets the LLM spans.
    OpenAIInstrumentor().uninstrument()
    hl = Humanloop(api_key=tenant.key, base_url=f"{server.base_url}/v5")
    marker = f"hl-{time.time_ns()}"
    llm_provider.script_for(
        marker, completion("42", prompt_tokens=5, completion_tokens=1, model="gpt-4o-mini")
    )

    @hl.tool(path=f"tests/{marker}/add")
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @hl.prompt(path=f"tests/{marker}/answer")
    def answer(question: str) -> str | None:
        client = openai.OpenAI(api_key="test", base_url=llm_provider.base_url)
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"{question} {marker}"}]
        )
        return reply.choices[0].message.content

    @hl.flow(path=f"tests/{marker}/agent")
    def agent(question: str) -> str:
        total = add(40, 2)
        return f"{answer(question)} ({total})"

    assert agent("What is 40 + 2?") == "42 (42)"
    hl._tracer_provider.force_flush()
    OpenAIInstrumentor().uninstrument()
    with tenant.client("x-api-key") as api:
        found = api.post("/v5/files/retrieve-by-path", json={"path": f"tests/{marker}/agent"})
        logs = api.get("/v5/logs", params={"file_id": found.json()["id"]}).json()["records"]
        deadline = time.monotonic() + 10
        flow = api.get(f"/v5/logs/{logs[0]['id']}").json()
        while flow["log_status"] != "complete" and time.monotonic() < deadline:
            time.sleep(0.2)
            flow = api.get(f"/v5/logs/{logs[0]['id']}").json()
    assert flow["log_status"] == "complete"
    assert flow["output"] == "42 (42)"
    children = {
        c["tool"]["path"] if c.get("tool") else c["prompt"]["path"]: c
        for c in flow["trace_children"]
    }
    tool = children[f"tests/{marker}/add"]
    assert tool["output"] == "42" and tool["inputs"] == {"a": "40", "b": "2"}
    prompt = children[f"tests/{marker}/answer"]
    assert prompt["output_message"]["content"] == "42"
    assert prompt["prompt_tokens"] == 5
