"""`finalize` and `to_row`: what the server derives for a log before it is stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from llmtrail.core.keys import Principal
from llmtrail.core.logs import LOG_FIELDS, LogData, finalize, to_row

NOW = datetime(2024, 5, 1, 12, 0, 0)
EARLIER = NOW - timedelta(seconds=30)


def final(**fields: Any) -> LogData:
    """A log with these fields, finalized at NOW."""
    return finalize(LogData(**fields), now=NOW)


def test_a_log_without_an_id_gets_a_fresh_hex_id() -> None:
    first, second = final(), final()
    assert re.fullmatch(r"[0-9a-f]{32}", first.unique_id)
    assert first.unique_id != second.unique_id


def test_a_given_id_is_kept() -> None:
    assert final(unique_id="mine").unique_id == "mine"


def test_timestamp_defaults_to_now() -> None:
    assert final().timestamp == NOW


def test_timestamp_defaults_to_the_end_time_when_there_is_one() -> None:
    assert final(end_time=EARLIER).timestamp == EARLIER


def test_a_given_timestamp_is_kept() -> None:
    assert final(timestamp=EARLIER).timestamp == EARLIER


@pytest.mark.parametrize("log_status", [None, "complete"])
def test_a_finished_log_ends_at_its_timestamp(log_status: str | None) -> None:
    assert final(timestamp=EARLIER, log_status=log_status).end_time == EARLIER


def test_an_incomplete_log_has_no_end_time_yet() -> None:
    assert final(log_status="incomplete").end_time is None


def test_latency_is_the_time_from_start_to_timestamp() -> None:
    assert final(start_time=EARLIER).latency == 30.0


def test_latency_is_never_negative() -> None:
    assert final(start_time=NOW + timedelta(seconds=5)).latency == 0.0


def test_an_incomplete_log_has_no_latency_yet() -> None:
    assert final(start_time=EARLIER, log_status="incomplete").latency is None


def test_a_given_latency_is_kept_over_the_start_time() -> None:
    assert final(start_time=EARLIER, latency=2.5).latency == 2.5


def test_start_time_is_derived_from_latency() -> None:
    assert final(latency=1.5).start_time == NOW - timedelta(seconds=1.5)


@pytest.mark.parametrize(
    ("prompt", "completion", "total"),
    [(10, 5, 15), (10, None, 10), (None, 5, 5), (None, None, None)],
)
def test_total_tokens_are_prompt_plus_completion(
    prompt: int | None, completion: int | None, total: int | None
) -> None:
    assert final(prompt_tokens=prompt, completion_tokens=completion).total_request_tokens == total


def test_a_given_total_token_count_is_kept() -> None:
    log = final(prompt_tokens=10, completion_tokens=5, total_request_tokens=99)
    assert log.total_request_tokens == 99


def test_tokens_per_second_is_completion_tokens_over_latency() -> None:
    assert final(completion_tokens=50, latency=2.0).tokens_per_second == 25.0


@pytest.mark.parametrize(
    "fields",
    [{"completion_tokens": 50}, {"completion_tokens": 50, "latency": 0.0}, {"latency": 2.0}],
)
def test_tokens_per_second_needs_both_tokens_and_time(fields: dict[str, Any]) -> None:
    assert final(**fields).tokens_per_second is None


def test_a_given_tokens_per_second_is_kept() -> None:
    assert final(completion_tokens=50, latency=2.0, tokens_per_second=7.0).tokens_per_second == 7.0


@pytest.mark.parametrize(
    ("fields", "status", "status_code"),
    [
        ({}, "success", 200),
        ({"error_message": "boom"}, "failed", 400),
        ({"status_code": 500}, "failed", 500),
        ({"status_code": 200, "error_message": "boom"}, "failed", 200),
        ({"status": "warning"}, "warning", 200),
    ],
)
def test_status_follows_the_error_message_and_status_code(
    fields: dict[str, Any], status: str, status_code: int
) -> None:
    log = final(**fields)
    assert (log.status, log.status_code) == (status, status_code)


def test_a_long_span_name_is_truncated_to_255_characters() -> None:
    assert final(span_name="s" * 300).span_name == "s" * 255


def test_a_short_span_name_is_kept() -> None:
    assert final(span_name="retrieve").span_name == "retrieve"


def test_a_known_model_is_priced_by_genai_prices() -> None:
    log = final(model="gpt-4o", prompt_tokens=1000, completion_tokens=200)
    price = calc_price(Usage(input_tokens=1000, output_tokens=200), "gpt-4o")
    assert (log.cost, log.prompt_cost, log.completion_cost) == pytest.approx(
        (float(price.total_price), float(price.input_price), float(price.output_price))
    )


def test_cached_prompt_tokens_are_priced_at_the_cache_rate() -> None:
    log = final(
        model="gpt-4o", prompt_tokens=1000, completion_tokens=200, prompt_cache_hit_tokens=600
    )
    price = calc_price(Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=600), "gpt-4o")
    assert log.cost == pytest.approx(float(price.total_price))


def test_a_given_cost_is_kept_and_not_split() -> None:
    log = final(model="gpt-4o", prompt_tokens=1000, completion_tokens=200, cost=0.5)
    assert (log.cost, log.prompt_cost, log.completion_cost) == (0.5, None, None)


@pytest.mark.parametrize(
    ("prompt_cost", "completion_cost", "cost"),
    [(0.25, 0.5, 0.75), (0.25, None, 0.25), (None, 0.5, 0.5)],
)
def test_cost_is_the_sum_of_the_given_prompt_and_completion_costs(
    prompt_cost: float | None, completion_cost: float | None, cost: float
) -> None:
    log = final(
        model="gpt-4o",
        prompt_tokens=1000,
        completion_tokens=200,
        prompt_cost=prompt_cost,
        completion_cost=completion_cost,
    )
    assert log.cost == cost


@pytest.mark.parametrize(
    "fields",
    [
        {"model": "not-a-model-anyone-sells", "prompt_tokens": 10, "completion_tokens": 5},
        {"model": None, "prompt_tokens": 10, "completion_tokens": 5},
        {"model": "gpt-4o"},
    ],
)
def test_cost_is_unknown_rather_than_zero_when_it_cannot_be_priced(fields: dict[str, Any]) -> None:
    log = final(**fields)
    assert (log.cost, log.prompt_cost, log.completion_cost) == (None, None, None)


PRINCIPAL = Principal(org_id=7, key_id=42, key_name="ci", environment="staging")


def test_a_row_carries_every_log_field() -> None:
    log = final(model="gpt-4o", metadata={"team": "core"})
    row = to_row(log, PRINCIPAL, NOW)
    assert {name: row[name] for name in LOG_FIELDS} == {
        name: getattr(log, name) for name in LOG_FIELDS
    }


def test_a_row_is_stamped_with_the_callers_organization_key_and_environment() -> None:
    row = to_row(final(), PRINCIPAL, NOW)
    assert (row["org_id"], row["api_key_id"], row["environment"], row["created_at"]) == (
        7,
        42,
        "staging",
        NOW,
    )
