"""Rule evaluators: each rule's verdict and explanation, configurations refused naming the rule
and the field under `rule_config`, the text rules read from chat messages, what a log may lack,
and the guard against regular expressions that take exponential time."""

from __future__ import annotations

from typing import Any

import pytest

from llmtrail.core.rules import MAX_REGEX_TEXT, RULES, evaluate, parse_rule, text_of
from llmtrail.core.scoring import EvalInputs, Outcome
from llmtrail.errors import FieldError, Invalid

ANSWER = {
    "rule": "json_schema",
    "schema": {
        "type": "object",
        "required": ["answer"],
        "properties": {"answer": {"type": "string"}},
    },
}


def part(text: str) -> dict[str, str]:
    """A text part of a message's content, as OpenAI and Anthropic both write it."""
    return {"type": "text", "text": text}


def run(config: dict[str, Any], **inputs: Any) -> Outcome:
    return evaluate(parse_rule(config), EvalInputs(**inputs))


def refusal(config: Any) -> FieldError:
    with pytest.raises(Invalid) as caught:
        parse_rule(config)
    [error] = caught.value.errors
    return error


def case(config: dict[str, Any], inputs: str | dict[str, Any], value: bool, why: str) -> Any:
    """A rule's expected verdict on `inputs`: EvalInputs' fields, or a string for the output."""
    inputs = inputs if isinstance(inputs, dict) else {"output": inputs}
    return pytest.param(config, inputs, value, why, id=f"{config['rule']}-{value}")


VERDICTS = [
    case({"rule": "contains", "value": "refund"}, "A REFUND", True, "output contains 'refund'"),
    case(
        {"rule": "contains", "value": "refund"},
        {"output": {"role": "assistant", "content": [part("No refund"), {"type": "tool_use"}]}},
        True,
        "output contains 'refund'",
    ),
    case(
        {"rule": "contains", "value": "refund", "case_sensitive": True},
        "A REFUND",
        False,
        "output does not contain 'refund'",
    ),
    case(
        {"rule": "contains", "value": ["refund", "today"]},
        "refund soon",
        True,
        "output contains 'refund' but not 'today'",
    ),
    case(
        {"rule": "contains", "value": ["refund", "today"], "match": "all"},
        "refund soon",
        False,
        "output contains 'refund' but not 'today'",
    ),
    case(
        {"rule": "contains", "value": "cancel", "target": "input"},
        {"input": "cancel my order"},
        True,
        "input contains 'cancel'",
    ),
    case(
        {"rule": "not_contains", "value": ["sorry", "as an AI"]},
        "Here you go",
        True,
        "output contains none of 'sorry', 'as an AI'",
    ),
    case(
        {"rule": "not_contains", "value": ["sorry", "as an AI"]},
        "Sorry, as an AI I can't",
        False,
        "output contains 'sorry', 'as an AI'",
    ),
    case(
        {"rule": "not_contains", "value": ["sorry", "ai"], "match": "all"},
        "Sorry!",
        True,
        "output contains 'sorry' but not 'ai'",
    ),
    case(
        {"rule": "regex", "pattern": r"#\d+"}, "order #123", True, r"output matches /#\d+/: '#123'"
    ),
    case(
        {"rule": "regex", "pattern": "^refund", "flags": "im"},
        "Hello\nREFUND issued",
        True,
        "output matches /^refund/im: 'REFUND'",
    ),
    case(
        {"rule": "regex", "pattern": "^refund"},
        "Hi\nrefund",
        False,
        "output does not match /^refund/",
    ),
    case(
        {"rule": "equals_ideal"},
        {"output": " Paris\n", "ideal_output": "Paris"},
        True,
        "output equals the ideal output",
    ),
    case(
        {"rule": "equals_ideal"},
        {"output": "paris", "ideal_output": "Paris"},
        False,
        "output 'paris' differs from the ideal 'Paris'",
    ),
    case(
        {"rule": "equals_ideal", "case_sensitive": False, "collapse_whitespace": True},
        {"output": "New  york\n city", "ideal_output": "New York City"},
        True,
        "output equals the ideal output",
    ),
    case(
        {"rule": "equals_ideal"},
        {"output": {"b": 1, "a": [1, 2]}, "ideal_output": '{"a":[1, 2], "b":1}'},
        True,
        "output equals the ideal as JSON",
    ),
    case(
        {"rule": "equals_ideal"},
        {"output": {"ok": True}, "ideal_output": {"ok": 1}},
        False,
        "output differs from the ideal as JSON",
    ),
    case(
        {"rule": "equals_ideal"},
        {"output": {"role": "assistant", "content": "4"}, "ideal_output": 4},
        True,
        "output equals the ideal output",
    ),
    case({"rule": "valid_json"}, '{"a": 1}', True, "output is valid JSON"),
    case({"rule": "valid_json"}, {"output": {"a": 1}}, True, "output is valid JSON"),
    case(
        {"rule": "valid_json"},
        "{'a': 1}",
        False,
        "output is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    ),
    case({"rule": "valid_json"}, "NaN", False, "output is not valid JSON: NaN is not a JSON value"),
    case(ANSWER, '{"answer": "yes"}', True, "output matches the schema"),
    case(
        ANSWER,
        '{"answer": 5}',
        False,
        "output does not match the schema: at $.answer: 5 is not of type 'string'",
    ),
    case(ANSWER, "{}", False, "output does not match the schema: 'answer' is a required property"),
    case(
        ANSWER, "yes", False, "output is not valid JSON: Expecting value: line 1 column 1 (char 0)"
    ),
    case(
        {"rule": "length", "max": 3, "unit": "words"},
        "one two three four",
        False,
        "output is 4 words, over the maximum of 3",
    ),
    case(
        {"rule": "length", "min": 10},
        "short",
        False,
        "output is 5 characters, under the minimum of 10",
    ),
    case(
        {"rule": "length", "min": 1, "max": 3, "unit": "tokens"},
        "one two",
        True,
        "output is about 2 tokens (at least 1 and at most 3)",
    ),
    case(
        {"rule": "length", "max": 3, "unit": "words"}, "a b", True, "output is 2 words (at most 3)"
    ),
    case(
        {"rule": "latency_below", "threshold": 1.5},
        {"metrics": {"latency": 1.8}},
        False,
        "latency 1.8 s is not below 1.5 s",
    ),
    case(
        {"rule": "latency_below", "threshold": 2},
        {"metrics": {"latency": 0.4}},
        True,
        "latency 0.4 s is below 2 s",
    ),
    case(
        {"rule": "cost_below", "threshold": 0.01},
        {"metrics": {"cost": 0.0042}},
        True,
        "cost $0.0042 is below $0.01",
    ),
    case(
        {"rule": "cost_below", "threshold": 0.01},
        {"metrics": {"cost": 0.01}},
        False,
        "cost $0.01 is not below $0.01",
    ),
    case(
        {"rule": "tokens_below", "threshold": 1000},
        {"metrics": {"total_tokens": 1200}},
        False,
        "total tokens 1,200 is not below 1,000",
    ),
    case(
        {"rule": "tokens_below", "threshold": 1000, "metric": "prompt_tokens"},
        {"metrics": {"prompt_tokens": 800, "total_tokens": 1200}},
        True,
        "prompt tokens 800 is below 1,000",
    ),
]


@pytest.mark.parametrize(("config", "inputs", "value", "explanation"), VERDICTS)
def test_a_rule_scores_a_boolean_and_says_why(
    config: dict[str, Any], inputs: dict[str, Any], value: bool, explanation: str
) -> None:
    outcome = run(config, **inputs)
    assert (outcome.value, outcome.explanation, outcome.error) == (value, explanation, None)


def test_every_rule_is_boolean_and_has_a_passing_and_a_failing_case() -> None:
    verdicts = {(config["rule"], value) for config, _, value, _ in (c.values for c in VERDICTS)}
    assert verdicts == {(name, value) for name in RULES for value in (True, False)}
    assert {kind.value_type for kind in RULES.values()} == {"boolean"}


@pytest.mark.parametrize(
    ("config", "loc", "type"),
    [
        (
            {"rule": "contains", "value": "a", "case_sensitive": "yes"},
            ("case_sensitive",),
            "bool_type",
        ),
        ({"rule": "contains", "value": ["a", 1]}, ("value", 1), "string_type"),
        ({"rule": "contains", "value": []}, ("value",), "too_short"),
        ({"rule": "contains", "value": ""}, ("value", 0), "string_too_short"),
        ({"rule": "contains"}, ("value",), "missing"),
        ({"rule": "contains", "value": "a", "values": "b"}, ("values",), "extra_forbidden"),
        (
            {"rule": "not_contains", "value": "a", "target": "metadata"},
            ("target",),
            "literal_error",
        ),
        ({"rule": "contains", "value": "a", "match": "some"}, ("match",), "literal_error"),
        ({"rule": "regex", "pattern": "(unclosed"}, ("pattern",), "regex"),
        ({"rule": "regex", "pattern": "(?<=a+)b"}, ("pattern",), "regex"),
        ({"rule": "regex", "pattern": "a" * 501}, ("pattern",), "regex_too_long"),
        ({"rule": "regex", "pattern": "a", "flags": "x"}, ("flags",), "string_pattern_mismatch"),
        ({"rule": "equals_ideal", "strip": 1}, ("strip",), "bool_type"),
        ({"rule": "json_schema", "schema": {"type": "objectx"}}, ("schema",), "json_schema"),
        ({"rule": "json_schema", "schema": "object"}, ("schema",), "dict_type"),
        ({"rule": "length"}, (), "length_bounds"),
        ({"rule": "length", "min": 5, "max": 3}, ("max",), "length_bounds"),
        ({"rule": "length", "min": -1}, ("min",), "greater_than_equal"),
        ({"rule": "length", "max": 2.5}, ("max",), "int_type"),
        ({"rule": "length", "max": 3, "unit": "lines"}, ("unit",), "literal_error"),
        ({"rule": "latency_below", "threshold": "1.5"}, ("threshold",), "float_type"),
        ({"rule": "cost_below", "threshold": 0}, ("threshold",), "greater_than"),
        ({"rule": "cost_below"}, ("threshold",), "missing"),
        ({"rule": "tokens_below", "threshold": 9, "metric": "cost"}, ("metric",), "literal_error"),
    ],
)
def test_a_bad_parameter_is_refused_naming_the_rule_and_the_field(
    config: dict[str, Any], loc: tuple[str | int, ...], type: str
) -> None:
    error = refusal(config)
    assert (error.loc, error.type) == (("rule_config", *loc), type)
    assert error.msg.startswith(f"{config['rule']}: ")


@pytest.mark.parametrize(
    ("config", "loc", "says"),
    [
        ({"rule": "contain", "value": "a"}, ("rule_config", "rule"), "unknown rule 'contain'"),
        ({"value": "a"}, ("rule_config", "rule"), "required"),
        ({"rule": 3}, ("rule_config", "rule"), "unknown rule 3"),
        ("contains", ("rule_config",), "an object"),
    ],
)
def test_a_configuration_without_a_known_rule_is_refused(
    config: Any, loc: tuple[str, ...], says: str
) -> None:
    error = refusal(config)
    assert error.loc == loc and error.msg.startswith(says)
    if loc[1:]:
        assert all(name in error.msg for name in RULES)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("as it is\n", "as it is\n", id="string"),
        pytest.param(
            [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
            "Be brief\nHi",
            id="openai-messages",
        ),
        pytest.param({"role": "assistant", "content": "Hello"}, "Hello", id="one-message"),
        pytest.param(
            [{"role": "user", "content": [part("What is this?"), {"type": "image_url"}]}],
            "What is this?",
            id="openai-parts",
        ),
        pytest.param(
            [
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "content": "42"},
            ],
            "42",
            id="tool-call",
        ),
        pytest.param(
            [
                {"role": "user", "content": [part("Hi")]},
                {"role": "assistant", "content": [part("Hello"), {"type": "tool_use", "id": "t1"}]},
            ],
            "Hi\nHello",
            id="anthropic-messages",
        ),
        pytest.param([part("Bonjour"), part("à vous")], "Bonjour\nà vous", id="anthropic-content"),
        pytest.param({"answer": "çà", "n": [1, 2]}, '{"answer":"çà","n":[1,2]}', id="object"),
        pytest.param([1, "a"], '[1,"a"]', id="array"),
        pytest.param(42, "42", id="number"),
    ],
)
def test_rules_read_chat_messages_as_their_text(value: Any, text: str) -> None:
    assert text_of(value) == text


@pytest.mark.parametrize(
    ("config", "inputs", "missing"),
    [
        ({"rule": "equals_ideal"}, {"output": "Paris"}, "ideal_output"),
        ({"rule": "equals_ideal"}, {"ideal_output": "Paris"}, "output"),
        ({"rule": "contains", "value": "a"}, {"input": "a"}, "output"),
        ({"rule": "regex", "pattern": "a", "target": "input"}, {"output": "a"}, "input"),
        ({"rule": "latency_below", "threshold": 1}, {"metrics": {"cost": 0.1}}, "latency"),
        ({"rule": "cost_below", "threshold": 1}, {"metrics": {"cost": None}}, "cost"),
        (
            {"rule": "tokens_below", "threshold": 9, "metric": "completion_tokens"},
            {"metrics": {"total_tokens": 5}},
            "completion_tokens",
        ),
    ],
)
def test_what_the_log_lacks_is_an_error_naming_it(
    config: dict[str, Any], inputs: dict[str, Any], missing: str
) -> None:
    outcome = run(config, **inputs)
    assert (outcome.value, outcome.error) == (None, f"{config['rule']}: the log has no {missing}")


def test_a_schema_reference_outside_the_schema_is_an_error_not_a_fetch() -> None:
    remote = "https://example.com/answer.json"
    outcome = run({"rule": "json_schema", "schema": {"$ref": remote}}, output="{}")
    assert outcome.value is None
    assert f"{remote!r} cannot be resolved" in str(outcome.error)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+b",
        r"(a*)*b",
        r"(a{1,3})+b",
        r"(a+){1,30}b",
        r"(a?){25}a{25}",
        r"(\w+\s?)+$",
        r"(?:x(?:y|z+))*",
        r"(?>(a+)+)",
    ],
)
def test_a_regex_that_can_take_exponential_time_is_refused(pattern: str) -> None:
    error = refusal({"rule": "regex", "pattern": pattern})
    assert (error.loc, error.type) == (("rule_config", "pattern"), "regex_unsafe")


@pytest.mark.parametrize(
    "pattern", [r"(\d{1,3}\.){3}\d{1,3}", r"(a++)+b", r"(?>a+)+b", r"(foo|bar)+b", r"\w+@\w+"]
)
def test_a_regex_whose_repeats_cannot_compound_is_accepted_and_runs_fast(pattern: str) -> None:
    assert run({"rule": "regex", "pattern": pattern}, output="a" * 5000 + "c").value is False


def test_a_regex_searches_only_the_start_of_a_long_text_and_says_so() -> None:
    text = "x" * MAX_REGEX_TEXT + "needle"
    outcome = run({"rule": "regex", "pattern": "needle"}, output=text)
    assert (outcome.value, outcome.explanation) == (
        False,
        f"output does not match /needle/ (searched its first 10,000 of {len(text):,} characters)",
    )
