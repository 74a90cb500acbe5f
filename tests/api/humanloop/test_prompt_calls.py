"""`prompts.call` through the official SDK, against a local server speaking OpenAI's protocol
(the one the test server's LLM judges call): what is sent, what is answered, plainly and
streamed, and the Prompt Log each call leaves, committed by the time the answer comes."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from humanloop.types import PromptCallResponse, PromptLogResponse

from tests.fakes.openai_server import FakeOpenAI, completion, error, streamed

MODEL = "gpt-4o-mini"  # genai-prices knows it: the log is priced
TOOL = {
    "name": "lookup",
    "description": "Look a city up.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
def hl(tenant) -> Humanloop:  # type: ignore[no-untyped-def]
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


@pytest.fixture
def marker() -> str:
    """In the inputs, hence in what the provider is sent: this test's own replies."""
    return f"m-{uuid.uuid4().hex[:10]}"


def prompt(hl: Humanloop, **kernel: object) -> str:
    path = f"{uuid.uuid4().hex[:8]}/called"
    template = [
        {"role": "system", "content": "You answer as {{persona}}."},
        {"role": "user", "content": "Where is {{place}}?"},
    ]
    hl.prompts.upsert(path=path, model=MODEL, template=template, **kernel)
    return path


def refusal(call, *args, **kwargs) -> ApiError:  # type: ignore[no-untyped-def]
    """The SDK's error for a refused call (its `prompts.call` wraps it in a RuntimeError)."""
    with pytest.raises(Exception) as raised:
        call(*args, **kwargs)
    error = raised.value
    error = error if isinstance(error, ApiError) else error.__cause__
    assert isinstance(error, ApiError), raised.value
    return error


def logged_(hl: Humanloop, log_id: str) -> PromptLogResponse:
    """The stored log, as the SDK's type (its `logs.get` leaves the union as a dict)."""
    return PromptLogResponse.model_validate(hl.logs.get(log_id))


def test_a_call_sends_the_filled_template_and_logs_tokens_cost_and_latency(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl, temperature=0.2, max_tokens=40, tools=[TOOL])
    llm_provider.script_for(
        marker, completion("In France.", prompt_tokens=1000, completion_tokens=50)
    )

    called = hl.prompts.call(
        path=path,
        inputs={"persona": "a guide", "place": marker},
        messages=[{"role": "user", "content": "Briefly."}],
        metadata={"run": 1},
        user="ada",
    )

    assert isinstance(called, PromptCallResponse)
    [sent] = llm_provider.sent(marker)
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer test-judge-key"
    assert sent.body["model"] == MODEL
    assert (sent.body["temperature"], sent.body["max_tokens"]) == (0.2, 40)
    assert sent.body["tools"] == [{"type": "function", "function": TOOL}]
    assert sent.body["messages"] == [
        {"role": "system", "content": "You answer as a guide."},
        {"role": "user", "content": f"Where is {marker}?"},
        {"role": "user", "content": "Briefly."},
    ]
    [sample] = called.logs
    assert sample.output == "In France." and sample.index == 0 and sample.error is None
    assert sample.output_message.content == "In France."
    assert (sample.prompt_tokens, sample.output_tokens, sample.finish_reason) == (1000, 50, "stop")
    assert sample.prompt_cost > 0 and sample.output_cost > 0
    assert sample.provider_latency is not None and sample.provider_latency >= 0
    assert called.prompt.path == path and called.messages[0].content == "You answer as a guide."
    assert called.inputs == {"persona": "a guide", "place": marker}
    assert called.start_time is not None and called.end_time >= called.start_time

    # Committed before the answer: the log is there at once, as the call said.
    logged = logged_(hl, called.id)
    assert (logged.output, logged.prompt_tokens, logged.output_tokens) == ("In France.", 1000, 50)
    assert (logged.prompt_cost, logged.output_cost) == (sample.prompt_cost, sample.output_cost)
    assert logged.provider_latency == sample.provider_latency
    assert logged.output_message.content == "In France."
    assert [m.content for m in logged.messages][-1] == "Briefly."
    assert (logged.metadata, logged.user, logged.finish_reason) == ({"run": 1}, "ada", "stop")
    assert logged.prompt.version_id == called.prompt.version_id


def test_a_streamed_call_yields_the_pieces_then_the_stored_logs_usage(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl)
    llm_provider.script_for(
        marker, streamed("Par", "is", prompt_tokens=200, completion_tokens=3, model=MODEL)
    )

    events = list(hl.prompts.call_stream(path=path, inputs={"persona": "x", "place": marker}))

    [sent] = llm_provider.sent(marker)
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    *pieces, last = events
    assert [e.output for e in pieces] == ["Par", "is"]
    assert len({e.id for e in events}) == 1 and events[0].prompt_id and events[0].version_id
    assert (last.prompt_tokens, last.output_tokens, last.finish_reason) == (200, 3, "stop")
    assert last.prompt_cost > 0 and last.error is None
    logged = logged_(hl, last.id)
    assert (logged.output, logged.output_tokens, logged.prompt_cost) == (
        "Paris",
        3,
        last.prompt_cost,
    )
    assert logged.output_message.content == "Paris"


def test_an_inline_kernel_is_called_and_becomes_a_version(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = f"{uuid.uuid4().hex[:8]}/inline"
    llm_provider.script_for(marker, completion("ok"))
    kernel = {"model": MODEL, "template": "Say {{word}}.", "temperature": 0}
    called = hl.prompts.call(path=path, prompt=kernel, inputs={"word": marker})
    [sent] = llm_provider.sent(marker)
    assert sent.body["messages"] == [{"role": "user", "content": f"Say {marker}."}]
    assert called.prompt.path == path and called.prompt.model == MODEL
    assert hl.prompts.get(called.prompt.id).version_id == called.prompt.version_id


def test_a_refusing_provider_answers_502_and_the_log_keeps_the_error(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl)
    llm_provider.script_for(marker, error(401, "Incorrect API key provided"))
    refused = refusal(hl.prompts.call, path=path, inputs={"persona": "x", "place": marker})
    assert refused.status_code == 502
    detail = refused.body["detail"]
    assert "401 Unauthorized: Incorrect API key provided" in detail
    log_id = detail.rsplit("logged as ", 1)[1].rstrip(")")
    logged = logged_(hl, log_id)
    assert "Incorrect API key provided" in logged.error and logged.output is None
    assert len(llm_provider.sent(marker)) == 1, "a refusal is not retried"


def test_a_transient_failure_is_retried_then_503_with_retry_after(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl)
    inputs = {"persona": "x", "place": marker}
    llm_provider.script_for(marker, error(429, "slow down", {"Retry-After": "0"}), completion("ok"))
    assert hl.prompts.call(path=path, inputs=inputs).logs[0].output == "ok"
    assert len(llm_provider.sent(marker)) == 2

    llm_provider.script_for(marker, *(error(503, "Overloaded") for _ in range(3)))
    failed = refusal(hl.prompts.call, path=path, inputs=inputs)
    assert failed.status_code == 503 and "retry-after" in failed.headers
    assert "503 Service Unavailable: Overloaded" in failed.body["detail"]
    assert len(llm_provider.sent(marker)) == 2 + 3, "LLMTRAIL_LLM_RETRIES=2: three attempts"


def test_a_streamed_call_the_provider_refuses_answers_an_error_not_a_stream(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl)
    llm_provider.script_for(marker, error(404, "The model does not exist"))
    refused = refusal(
        lambda: list(hl.prompts.call_stream(path=path, inputs={"persona": "x", "place": marker}))
    )
    assert refused.status_code == 502
    assert "The model does not exist" in refused.body["detail"]


def test_the_callers_own_provider_key_is_used_and_not_kept(
    hl: Humanloop, llm_provider: FakeOpenAI, marker: str
) -> None:
    path = prompt(hl)
    llm_provider.script_for(marker, completion("ok"))
    called = hl.prompts.call(
        path=path,
        inputs={"persona": "x", "place": marker},
        provider_api_keys={"openai": "sk-callers-own"},
    )
    [sent] = llm_provider.sent(marker)
    assert sent.headers["authorization"] == "Bearer sk-callers-own"
    assert "sk-callers-own" not in logged_(hl, called.id).model_dump_json()


def test_what_cannot_be_called_is_refused_naming_the_field(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/modelless"
    hl.prompts.log(path=path, prompt={"template": "hi"}, output="x")
    refused = refusal(hl.prompts.call, path=path)
    assert refused.status_code == 422
    assert refused.body.detail[0].loc == ["body", "prompt"]
    too_many = refusal(hl.prompts.call, path=path, num_samples=2)
    assert too_many.status_code == 422
    assert too_many.body.detail[0].loc == ["body", "num_samples"]
    missing = refusal(hl.prompts.call, id="pr_nope")
    assert missing.status_code == 404


def test_another_organizations_prompt_is_not_found(hl: Humanloop, tenant_factory) -> None:  # type: ignore[no-untyped-def]
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    theirs = other.prompts.upsert(path="theirs", model=MODEL, template="secret")
    assert refusal(hl.prompts.call, id=theirs.id).status_code == 404
    assert refusal(hl.prompts.call, version_id=theirs.version_id).status_code == 404


def test_a_stream_the_caller_closes_early_is_still_logged(
    hl: Humanloop, tenant, llm_provider: FakeOpenAI, marker: str
) -> None:  # type: ignore[no-untyped-def]
    path = prompt(hl)
    pieces = [f"piece{i} " for i in range(40)]
    llm_provider.script_for(marker, streamed(*pieces, chunk_delay=0.05))
    body = {"path": path, "inputs": {"persona": "x", "place": marker}, "stream": True}
    with tenant.client("x-api-key") as api:
        with api.stream("POST", "/v5/prompts/call", json=body) as events:
            lines = events.iter_lines()
            first = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
        # Closed after the first piece: the server stores what it had when it noticed.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = api.get(f"/v5/logs/{first['id']}")
            if found.status_code == 200:
                break
            time.sleep(0.1)
    assert found.status_code == 200, "the call was logged"
    log = found.json()
    assert log["error"] == "the caller closed the stream before it ended"
    assert log["output"].startswith("piece0 ") and len(log["output"]) < len("".join(pieces))
