"""The shared chat-completions client against a fake provider over real HTTP: streamed
answers assembled (text and tool calls), retries before the first piece, and what it says
when a provider fails. (The plain call's failures are tested through the judge.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmtrail.core import prompt_calls
from llmtrail.errors import Invalid
from llmtrail.providers.openai_chat import ChatClient, Completion, ProviderError
from tests.fakes.openai_server import FakeOpenAI, Reply, completion, error, streamed

REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def provider() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def client(provider: FakeOpenAI) -> Iterator[ChatClient]:
    chat = ChatClient(provider.base_url, "sk-test", 5.0, "the provider")
    yield chat
    chat.close()


def test_a_stream_yields_its_pieces_then_the_whole_completion(
    provider: FakeOpenAI, client: ChatClient
) -> None:
    provider.script(streamed("Hel", "lo", prompt_tokens=7, completion_tokens=2))
    *pieces, done = list(client.stream(REQUEST))
    assert pieces == ["Hel", "lo"]
    assert isinstance(done, Completion)
    assert (done.content, done.finish_reason, done.message["role"]) == (
        "Hello",
        "stop",
        "assistant",
    )
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (7, 2)
    assert provider.requests[0].body["stream_options"] == {"include_usage": True}


def test_streamed_tool_calls_are_assembled_from_their_pieces(
    provider: FakeOpenAI, client: ChatClient
) -> None:
    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    call = {"index": 0, "id": "call_1", "function": {"name": "lookup", "arguments": '{"ci'}}
    rest = {"index": 0, "function": {"arguments": 'ty": "Paris"}'}}
    chunks = (chunk({"role": "assistant"}), chunk({"tool_calls": [call]}))
    provider.script(Reply(chunks=(*chunks, chunk({"tool_calls": [rest]}, "tool_calls"))))
    [done] = list(client.stream(REQUEST))
    assert done.finish_reason == "tool_calls" and done.message["content"] is None
    assert done.message["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"city": "Paris"}'},
        }
    ]


def test_a_transient_failure_before_the_stream_is_retried(
    provider: FakeOpenAI, client: ChatClient
) -> None:
    provider.script(error(429, "slow down", {"Retry-After": "0"}), streamed("ok"))
    assert list(client.stream(REQUEST, retries=1))[:1] == ["ok"]
    assert len(provider.requests) == 2


def test_a_refusal_is_not_retried(provider: FakeOpenAI, client: ChatClient) -> None:
    provider.script(error(400, "bad request"), completion("never asked"))
    with pytest.raises(ProviderError) as refused:
        client.complete(REQUEST, retries=3)
    assert not refused.value.transient and refused.value.status == 400
    assert str(refused.value) == "the provider answered 400 Bad Request: bad request"
    assert len(provider.requests) == 1


def test_a_long_retry_after_is_left_to_the_caller(provider: FakeOpenAI, client: ChatClient) -> None:
    provider.script(error(429, "later", {"Retry-After": "60"}), completion("never asked"))
    with pytest.raises(ProviderError) as waiting:
        client.complete(REQUEST, retries=3)
    assert waiting.value.transient and waiting.value.retry_after == 60.0
    assert len(provider.requests) == 1, "a minute's wait is the caller's to make"


def test_a_prompt_kernel_becomes_an_openai_request() -> None:
    kernel = {
        "model": "gpt-4o",
        "template": [{"role": "system", "content": "Be {{tone}}."}],
        "temperature": 0.3,
        "stop": ["\n"],
        "other": {"user": "u-1", "model": "not this one"},
        "reasoning_effort": "low",
        "tools": [{"name": "f", "description": None, "parameters": {"type": "object"}}],
    }
    sent = prompt_calls.request(kernel, {"tone": "brief"}, [{"role": "user", "content": "q"}])
    assert sent == {
        "user": "u-1",
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "q"},
        ],
        "temperature": 0.3,
        "stop": ["\n"],
        "reasoning_effort": "low",
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
    }
    text = prompt_calls.request({"model": "m", "template": "Say {{x}}"}, {"x": 1}, None, "none")
    assert (
        text["messages"] == [{"role": "user", "content": "Say 1"}] and text["tool_choice"] == "none"
    )
    with pytest.raises(Invalid) as no_model:
        prompt_calls.request({"template": "x"}, {})
    assert no_model.value.errors[0].loc == ("prompt",)
    with pytest.raises(Invalid) as nothing:
        prompt_calls.request({"model": "m"}, {})
    assert nothing.value.errors[0].loc == ("messages",)
