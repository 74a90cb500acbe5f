"""The maskers: what each masks, what it leaves (ordinary numbers, dates, ids), and how a
log is masked and marked blurred."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmtrail.core.logs import LogData
from llmtrail.core.privacy import Changes, compile_policy, luhn

ALL = compile_policy(["email", "phone", "card", "secret"], [])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to john.doe+x@example.co.uk today", "write to [email] today"),
        ("call +44 20 7946 0958", "call [phone]"),
        ("call (555) 123-4567 or 555.123.4567", "call [phone] or [phone]"),
        ("card 4111 1111 1111 1111", "card [card]"),
        ("card 5555-5555-5555-4444 ok", "card [card] ok"),
        ("amex 378282246310005", "amex [card]"),
        ("key sk-proj-abcdefghijklmnop1234", "key [secret]"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz.123", "Authorization: Bearer [secret]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [secret]"),
        ("api_key=supersecret123", "api_key=[secret]"),
        ('{"password": "hunter2hunter"}', '{"password": "[secret]"}'),
        ("ghp_" + "a" * 36, "[secret]"),
    ],
)
def test_each_masker_masks_what_it_names(text: str, masked: str) -> None:
    assert ALL.masked(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-01-15 at 12:30:45",
        "ip 192.168.100.200, version 1.2.3",
        "order 1701590400000 and 1234567",
        "total 100 000 000 tokens",
        "4111 1111 1111 1112",  # fails Luhn
        "1234 5678 9012 3456",  # no card starts so, and fails Luhn
        "sk-short task-abcdefghijklmnopqrstuv",
        "user@localhost",
        "ask-me-anything-about-something",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert ALL.masked(text) == text


def test_luhn() -> None:
    assert luhn("4111111111111111")
    assert luhn("79927398713")
    assert not luhn("4111111111111112")


def test_only_the_chosen_maskers_and_custom_patterns_apply() -> None:
    emails = compile_policy(["email"], [r"ACME-\d{4}"])
    assert emails is not None
    text = "a@b.io 4111 1111 1111 1111 ACME-1234"
    assert emails.masked(text) == "[email] 4111 1111 1111 1111 [masked]"
    assert compile_policy([], []) is None, "nothing chosen: no per-log work at all"
    boundaries = compile_policy([], [r"\bx"])
    assert boundaries is not None and boundaries.masked("a xb c") == "a [masked]b c"
    lookahead = compile_policy([], [r"(?=b)"])  # matches only the empty text, before a b
    assert lookahead is not None and lookahead.masked("abc") == "abc"


def test_a_log_is_masked_in_every_text_field_and_blurred() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "I am a@b.io"}]}]
    log = LogData(
        input=messages,
        prompt_messages=messages,
        completion_message={"role": "assistant", "content": "call 555-123-4567"},
        output="call 555-123-4567",
        metadata={"email": "c@d.io", "n": 3, "a@b.io": "kept key"},
        extra={"full_request": {"messages": messages}},
    )
    ALL.mask_log(log)
    assert log.blurred
    assert log.prompt_messages[0]["content"][0]["text"] == "I am [email]"
    assert log.input is log.prompt_messages, "a shared value stays shared"
    assert log.completion_message["content"] == "call [phone]"
    assert log.output == "call [phone]"
    assert log.metadata == {"email": "[email]", "n": 3, "a@b.io": "kept key"}
    assert log.extra == {"full_request": {"messages": log.prompt_messages}}
    assert messages[0]["content"][0]["text"] == "I am a@b.io", "the caller's objects untouched"


def test_a_log_with_nothing_to_mask_is_unchanged_and_not_blurred() -> None:
    log = LogData(input={"q": "hello"}, output="world", metadata={"k": "v"})
    before = (log.input, log.output, log.metadata)
    ALL.mask_log(log)
    assert not log.blurred
    assert (log.input, log.output, log.metadata) == before
    assert log.input is before[0]


@pytest.mark.parametrize(
    ("pattern", "rule"),
    [
        ("(unclosed", "regex"),
        ("a{99999999999}", "regex"),
        ("x*", "regex_empty"),
        ("(a+)+$", "regex_unsafe"),
        ("x" * 501, "regex_too_long"),
    ],
)
def test_bad_custom_patterns_are_refused_naming_the_rule(pattern: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Changes(custom_patterns=["ok", pattern])
    [error] = caught.value.errors()
    assert error["loc"] == ("custom_patterns", 1)
    assert error["type"] == rule
