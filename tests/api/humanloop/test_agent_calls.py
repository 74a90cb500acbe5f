"""`agents.call` and `agents.continue_call` through the official SDK, against the local
OpenAI-protocol server: one model turn at a time, the Agent Log left incomplete while the
model waits for tool results, and completed by the turn that answers without tools."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError

from tests.fakes.openai_server import FakeOpenAI, Reply, completion, error

MODEL = "gpt-4o-mini"
WEATHER = {
    "name": "weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
def hl(tenant) -> Humanloop:  # type: ignore[no-untyped-def]
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def tool_call(city: str, prompt_tokens: int = 100, completion_tokens: int = 10) -> Reply:
    """The model asks for the weather in `city`."""
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": json.dumps({"city": city})},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    return Reply(body={**body, "usage": usage})


def agent(hl: Humanloop) -> str:
    path = f"{uuid.uuid4().hex[:8]}/agent"
    template = [{"role": "system", "content": "Help with {{topic}}."}]
    hl.agents.upsert(
        path=path,
        model=MODEL,
        template=template,
        tools=[{"type": "inline", "json_schema": WEATHER}],
    )
    return path


def refusal(call, *args: Any, **kwargs: Any) -> ApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_a_tool_call_leaves_the_log_open_and_continue_completes_it(
    hl: Humanloop, llm_provider: FakeOpenAI
) -> None:
    marker = f"m-{uuid.uuid4().hex[:10]}"
    path = agent(hl)
    llm_provider.script_for(
        marker,
        tool_call(marker),
        completion("Sunny.", prompt_tokens=150, completion_tokens=5),
    )

    first = hl.agents.call(
        path=path, inputs={"topic": "weather"}, messages=[{"role": "user", "content": marker}]
    )
    assert first.log_status == "incomplete" and first.previous_agent_message is None
    [asked] = first.output_message.tool_calls
    assert asked.function.name == "weather" and marker in asked.function.arguments
    [sent] = llm_provider.sent(marker)
    assert sent.body["tools"] == [{"type": "function", "function": WEATHER}]
    assert sent.body["messages"][0] == {"role": "system", "content": "Help with weather."}
    assert (first.prompt_tokens, first.output_tokens) == (100, 10)

    result = {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21°C"}
    done = hl.agents.continue_call(log_id=first.id, messages=[result])

    assert done.id == first.id and done.log_status == "complete"
    assert done.output == "Sunny." and done.output_message.content == "Sunny."
    assert done.previous_agent_message.tool_calls[0].id == "call_1"
    assert (done.prompt_tokens, done.output_tokens) == (250, 15), "both turns"
    assert done.prompt_cost > first.prompt_cost > 0
    _, second = llm_provider.sent(marker)
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]
    assert second.body["messages"][2]["tool_calls"][0]["id"] == "call_1"
    assert second.body["messages"][3]["content"] == "sunny, 21°C"
    stored = hl.logs.get(first.id)
    assert stored["log_status"] == "complete" and stored["output"] == "Sunny."

    again = refusal(hl.agents.continue_call, log_id=first.id, messages=[result])
    assert again.status_code == 409


def test_an_answer_without_tools_completes_at_once(hl: Humanloop, llm_provider: FakeOpenAI) -> None:
    marker = f"m-{uuid.uuid4().hex[:10]}"
    llm_provider.script_for(marker, completion("Hello."))
    called = hl.agents.call(path=agent(hl), messages=[{"role": "user", "content": marker}])
    assert called.log_status == "complete" and called.output == "Hello."


def test_a_refusing_provider_leaves_an_agent_log_with_the_error(
    hl: Humanloop, llm_provider: FakeOpenAI
) -> None:
    marker = f"m-{uuid.uuid4().hex[:10]}"
    llm_provider.script_for(marker, error(401, "Incorrect API key provided"))
    refused = refusal(
        hl.agents.call, path=agent(hl), messages=[{"role": "user", "content": marker}]
    )
    assert refused.status_code == 502
    log_id = refused.body["detail"].rsplit("logged as ", 1)[1].rstrip(")")
    assert "Incorrect API key provided" in hl.logs.get(log_id)["error"]


def test_what_cannot_continue_is_refused(hl: Humanloop) -> None:
    prompt_log = hl.prompts.log(path=f"{uuid.uuid4().hex[:8]}/p", prompt={"model": "m"})
    tool_result = [{"role": "tool", "tool_call_id": "c", "content": "x"}]
    missing = refusal(hl.agents.continue_call, log_id=prompt_log.id, messages=tool_result)
    assert missing.status_code == 404
    assert refusal(hl.agents.continue_call, log_id="nope", messages=tool_result).status_code == 404
    streamed = refusal(lambda: list(hl.agents.call_stream(path=agent(hl), messages=tool_result)))
    assert streamed.status_code == 422


def test_another_organizations_agent_log_is_not_found(
    hl: Humanloop, llm_provider: FakeOpenAI, tenant_factory
) -> None:  # type: ignore[no-untyped-def]
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    marker = f"m-{uuid.uuid4().hex[:10]}"
    llm_provider.script_for(marker, tool_call(marker))
    theirs = other.agents.call(path=agent(other), messages=[{"role": "user", "content": marker}])
    result = [{"role": "tool", "tool_call_id": "call_1", "content": "x"}]
    assert refusal(hl.agents.continue_call, log_id=theirs.id, messages=result).status_code == 404
    assert refusal(hl.agents.call, id=theirs.agent.id).status_code == 404
