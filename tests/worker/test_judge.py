"""The LLM judge against a fake provider over real HTTP: what it sends, how strictly it reads
the answer, which failures are retried (`Transient`) and which are the result, and what the
judge's own call cost (as genai-prices prices it)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from llmtrail.config import Settings
from llmtrail.core.scoring import EvalInputs, Outcome, Transient, ValueSpec
from llmtrail.worker.judge import Judge, render
from tests.fakes.openai_server import FakeOpenAI, Reply, completion, error

KNOWN_MODEL = "gpt-4o-mini"
INPUTS = EvalInputs(
    input="What is 2+2?",
    output={"answer": 4},
    metadata={"lang": "en", "tags": ["math"]},
    ideal_output="4",
)
TEMPLATE = (
    "Q: {{input}}\nA: {{ output }}\nMeta: {{metadata}}\nIdeal: {{ideal_output}}\n"
    "Legacy: {{llm_input}} / {{llm_output}}\nUnknown: {{ nope }}"
)
RENDERED = (
    'Q: What is 2+2?\nA: {"answer":4}\nMeta: {"lang":"en","tags":["math"]}\nIdeal: 4\n'
    'Legacy: What is 2+2? / {"answer":4}\nUnknown: {{ nope }}'
)
ONE_TO_FIVE = ValueSpec("numerical", minimum=1, maximum=5)


@pytest.fixture
def provider() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def judge(provider: FakeOpenAI) -> Iterator[Judge]:
    judge = Judge(provider.base_url, "sk-test", timeout=5.0)
    yield judge
    judge.close()


def ask(judge: Judge, spec: ValueSpec = ONE_TO_FIVE, **options: object) -> Outcome:
    return judge.score(model=KNOWN_MODEL, template=TEMPLATE, inputs=INPUTS, spec=spec, **options)


def system_prompt(provider: FakeOpenAI) -> str:
    return provider.requests[-1].body["messages"][0]["content"]


def test_a_json_score_with_its_explanation_and_usage(provider: FakeOpenAI, judge: Judge) -> None:
    provider.script(completion('{"score": 4, "explanation": "Right, but terse."}'))
    outcome = ask(judge, rubric="5 is a correct, complete answer.", temperature=0, max_tokens=50)

    assert (outcome.value, outcome.explanation, outcome.error) == (4.0, "Right, but terse.", None)
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (120, 30)
    assert outcome.cost is not None and outcome.cost > 0
    assert outcome.latency is not None and 0 < outcome.latency < 5
    [request] = provider.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == KNOWN_MODEL
    assert body["response_format"] == {"type": "json_object"}
    assert (body["temperature"], body["max_tokens"]) == (0, 50)
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"] == RENDERED
    assert "5 is a correct, complete answer." in system["content"]
    assert '{"score": <score>, "explanation": "' in system["content"]
    assert "a number from 1 to 5" in system["content"]


def test_options_not_given_are_not_sent(provider: FakeOpenAI) -> None:
    provider.script(completion('{"score": 3}'))
    judge = Judge(provider.base_url, None, timeout=5.0)
    try:
        assert ask(judge).value == 3.0
    finally:
        judge.close()
    [request] = provider.requests
    assert "authorization" not in request.headers
    assert not {"temperature", "max_tokens"} & request.body.keys()
    assert "rubric" not in system_prompt(provider)


def test_render_fills_each_variable_once() -> None:
    inputs = EvalInputs(input="says {{output}}", output=None, metadata={})
    assert render("{{input}} | {{output}} | {{metadata}}", inputs) == "says {{output}} | null | {}"
    assert render("{{ideal_output}}{{}}{{ input }}", inputs) == "null{{}}says {{output}}"


@pytest.mark.parametrize(
    ("answer", "spec", "value"),
    [
        ("4", ONE_TO_FIVE, 4.0),
        (" 2.5\n", ONE_TO_FIVE, 2.5),
        ("true", ValueSpec("boolean"), True),
        ("false", ValueSpec("boolean"), False),
    ],
)
def test_a_bare_number_or_boolean_is_the_score(
    provider: FakeOpenAI, judge: Judge, answer: str, spec: ValueSpec, value: object
) -> None:
    provider.script(completion(answer))
    outcome = ask(judge, spec)
    assert (outcome.value, outcome.explanation, outcome.error) == (value, None, None)


@pytest.mark.parametrize(
    ("spec", "score", "value", "told"),
    [
        (ONE_TO_FIVE, 5, 5.0, "a number from 1 to 5"),
        (ValueSpec("numerical", minimum=0), 12, 12.0, "a number no less than 0"),
        (ValueSpec("percentage"), 85.5, 85.5, "a number from 0 to 100 (a percentage)"),
        (ValueSpec("boolean"), False, False, "true or false, as a JSON boolean"),
        (
            ValueSpec("single_select", choices=("good", "bad")),
            "good",
            "good",
            'exactly one of these strings: "good", "bad"',
        ),
        (
            ValueSpec("multi_select", choices=("a", "b", "c")),
            ["a", "c"],
            ["a", "c"],
            'a JSON array of those of these strings that apply (maybe none): "a", "b", "c"',
        ),
        (ValueSpec("text"), "Polite and correct.", "Polite and correct.", "a string"),
        (ValueSpec("json"), {"k": [1]}, {"k": [1]}, "any JSON value"),
    ],
    ids=lambda case: case.type if isinstance(case, ValueSpec) else None,
)
def test_every_type_is_told_and_read(
    provider: FakeOpenAI, judge: Judge, spec: ValueSpec, score: object, value: object, told: str
) -> None:
    provider.script(completion(json.dumps({"score": score, "explanation": "why"})))
    outcome = ask(judge, spec)
    assert (outcome.value, outcome.error) == (value, None)
    assert f"where <score> is {told}." in system_prompt(provider)


@pytest.mark.parametrize(
    ("reply", "spec", "reason"),
    [
        (completion("The score is 4 because it is right."), ONE_TO_FIVE, "is not a JSON object"),
        (completion("4 out of 5"), ONE_TO_FIVE, "is not a JSON object"),
        (completion('"4"'), ONE_TO_FIVE, "is not a JSON object"),
        (completion("[4]"), ONE_TO_FIVE, "is not a JSON object"),
        (completion('```json\n{"score": 4}\n```'), ONE_TO_FIVE, "is not a JSON object"),
        (completion('{"score": NaN}'), ONE_TO_FIVE, "is not a JSON object"),
        (
            completion('{"score": 9, "explanation": "great"}'),
            ONE_TO_FIVE,
            "outside the range 1 to 5",
        ),
        (completion("0"), ONE_TO_FIVE, "outside the range 1 to 5"),
        (completion('{"score": "great"}'), ONE_TO_FIVE, "not a number"),
        (completion('{"score": 3}'), ValueSpec("boolean"), "not a boolean"),
        (completion('{"score": "meh"}'), ValueSpec("single_select", choices=("a",)), "not one of"),
        (completion('{"explanation": "fine"}'), ONE_TO_FIVE, "has no score"),
        (completion('{"score": 4, "explanation": 1}'), ONE_TO_FIVE, "explanation is not a string"),
        (completion("  "), ONE_TO_FIVE, "the answer is empty"),
        (completion(None), ONE_TO_FIVE, "the answer is empty"),
        (completion(None, refusal="I can't help with that."), ONE_TO_FIVE, "the judge refused"),
    ],
)
def test_an_answer_that_is_not_a_score_is_an_error_quoting_it(
    provider: FakeOpenAI, judge: Judge, reply: Reply, spec: ValueSpec, reason: str
) -> None:
    provider.script(reply)
    outcome = ask(judge, spec)
    assert outcome.value is None and outcome.error is not None
    assert reason in outcome.error
    content = reply.body["choices"][0]["message"]
    said = " ".join((content["content"] or content["refusal"] or "").split())
    assert outcome.error.endswith(f": {said}" if said else reason)
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (120, 30)
    assert outcome.cost is not None and outcome.latency is not None


def test_a_long_answer_is_quoted_short(provider: FakeOpenAI, judge: Judge) -> None:
    provider.script(completion("I think " + "very " * 500 + "good."))
    outcome = ask(judge)
    assert outcome.error is not None and "very very" in outcome.error
    assert len(outcome.error) < 300 and outcome.error.endswith("…")


def test_429_is_transient_with_its_retry_after_then_the_retry_scores(
    provider: FakeOpenAI, judge: Judge
) -> None:
    provider.script(
        error(429, "Rate limit reached for gpt-4o-mini", {"Retry-After": "7"}),
        completion('{"score": 2}'),
    )
    with pytest.raises(Transient) as raised:
        ask(judge)
    assert raised.value.retry_after == 7.0
    assert "429" in str(raised.value) and "Rate limit reached" in str(raised.value)
    assert "retry after 7 s" in str(raised.value)
    assert ask(judge).value == 2.0
    assert len(provider.requests) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            error(500, "The server had an error"),
            "500 Internal Server Error: The server had an error",
        ),
        (Reply(502, ""), "502 Bad Gateway"),
        (error(503, "Overloaded"), "503 Service Unavailable: Overloaded"),
    ],
)
def test_a_server_error_is_transient(
    provider: FakeOpenAI, judge: Judge, reply: Reply, message: str
) -> None:
    provider.script(reply)
    with pytest.raises(Transient) as raised:
        ask(judge)
    assert str(raised.value) == f"the judge's provider answered {message}"
    assert raised.value.retry_after is None


def test_a_provider_that_never_answers_is_transient_after_the_timeout(
    provider: FakeOpenAI,
) -> None:
    provider.script(Reply(hang=True))
    judge = Judge(provider.base_url, "sk-test", timeout=0.5)
    started = time.perf_counter()
    try:
        with pytest.raises(Transient, match="Timeout"):
            ask(judge)
    finally:
        judge.close()
    assert 0.4 < time.perf_counter() - started < 2.0


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once it is closed
    judge = Judge(f"http://127.0.0.1:{port}/v1", "sk-test", timeout=2.0)
    try:
        with pytest.raises(Transient, match="ConnectError"):
            ask(judge)
    finally:
        judge.close()


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (error(401, "Incorrect API key provided: sk-test."), "401 Unauthorized"),
        (error(404, "The model `gpt-9` does not exist"), "404 Not Found"),
        (Reply(400, "<html>Bad Request</html>"), "400 Bad Request"),
    ],
)
def test_a_client_error_is_the_result_naming_status_and_message(
    provider: FakeOpenAI, judge: Judge, reply: Reply, said: str
) -> None:
    provider.script(reply)
    outcome = ask(judge)
    message = reply.body if isinstance(reply.body, str) else reply.body["error"]["message"]
    assert outcome.error == f"the judge's provider answered {said}: {message}"
    assert outcome.value is None and outcome.latency is not None
    assert len(provider.requests) == 1


@pytest.mark.parametrize(
    "body",
    ["not json", [], {"id": "x"}, {"choices": []}, {"choices": [{"text": "4"}]}, {"choices": "4"}],
)
def test_a_body_that_is_not_a_chat_completion_is_an_error(
    provider: FakeOpenAI, judge: Judge, body: object
) -> None:
    provider.script(Reply(200, body))
    outcome = ask(judge)
    assert outcome.error is not None and "no chat completion" in outcome.error
    assert outcome.value is None and outcome.latency is not None


def test_the_cost_is_genai_prices_for_a_known_model_and_unknown_otherwise(
    provider: FakeOpenAI, judge: Judge
) -> None:
    provider.script(
        completion('{"score": 4}', prompt_tokens=1000, completion_tokens=50),
        completion('{"score": 4}', prompt_tokens=1000, completion_tokens=50, cached_tokens=400),
        completion('{"score": 4}', prompt_tokens=1000, completion_tokens=50),
    )
    plain, cached = ask(judge), ask(judge)
    unknown = judge.score(model="my-local-judge", template="", inputs=INPUTS, spec=ONE_TO_FIVE)

    def library(**tokens: int) -> float:
        return float(calc_price(Usage(**tokens), KNOWN_MODEL).total_price)

    assert plain.cost == pytest.approx(library(input_tokens=1000, output_tokens=50))
    assert cached.cost == pytest.approx(
        library(input_tokens=1000, cache_read_tokens=400, output_tokens=50)
    )
    assert cached.cost < plain.cost
    assert unknown.cost is None and unknown.value == 4.0
    assert (unknown.prompt_tokens, unknown.completion_tokens) == (1000, 50)


def test_calls_from_several_threads_share_kept_alive_connections(
    provider: FakeOpenAI, judge: Judge
) -> None:
    provider.script(*[completion('{"score": 1}')] * 12)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: ask(judge), range(12)))
    assert [outcome.value for outcome in outcomes] == [1.0] * 12
    assert len({request.peer for request in provider.requests}) <= 4


def test_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        llm_base_url="http://judge.internal/v1",
        llm_api_key="sk-x",
        llm_timeout_seconds=12.5,
    )
    judge = Judge.from_settings(settings)
    try:
        assert (judge.base_url, judge.api_key, judge.timeout) == (
            settings.llm_base_url,
            "sk-x",
            12.5,
        )
        assert "sk-x" not in repr(judge)
    finally:
        judge.close()
