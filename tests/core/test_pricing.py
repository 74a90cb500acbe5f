"""`cost_of`: the cost stored on a log is what genai-prices says, or unknown, never made up.

Every expected price is asked of genai-prices itself, so these tests hold whatever its price
list says; they check that llmtrail's fast path gives the library's answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import genai_prices.data_snapshot
import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from llmtrail.core.pricing import Cost, cost_of

# Flat-priced models of several providers, with and without cache-write prices.
FLAT_MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1-mini",
    "o3-mini",
    "claude-3-5-sonnet-latest",
    "claude-3-haiku-20240307",
    "mistral-large-latest",
]
TIERED_MODEL = "gemini-2.5-pro"  # priced higher above 200k prompt tokens


def library_price(
    model: str,
    prompt: int,
    completion: int,
    read: int = 0,
    write: int = 0,
    provider: str | None = None,
    at: datetime | None = None,
) -> Cost:
    usage = Usage(
        input_tokens=prompt,
        output_tokens=completion,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )
    price = calc_price(usage, model, provider_id=provider, genai_request_timestamp=at)
    return Cost(float(price.input_price), float(price.output_price))


def assert_same_price(actual: Cost | None, expected: Cost) -> None:
    assert actual is not None
    assert (actual.prompt, actual.completion) == pytest.approx(
        (expected.prompt, expected.completion), rel=1e-9, abs=1e-12
    )


def test_a_known_model_costs_what_genai_prices_says() -> None:
    assert_same_price(cost_of("gpt-4o", None, 1000, 200), library_price("gpt-4o", 1000, 200))


def test_the_total_is_prompt_plus_completion_cost() -> None:
    cost = cost_of("gpt-4o", None, 1000, 200)
    assert cost is not None
    assert cost.total == cost.prompt + cost.completion


def test_a_named_provider_is_priced_as_that_provider() -> None:
    expected = library_price("gpt-4o", 1000, 200, provider="openai")
    assert_same_price(cost_of("gpt-4o", "openai", 1000, 200), expected)


def test_an_empty_provider_is_no_provider() -> None:
    assert cost_of("gpt-4o", "", 1000, 200) == cost_of("gpt-4o", None, 1000, 200)


def test_cache_reads_are_priced_at_the_cache_read_rate() -> None:
    expected = library_price("gpt-4o", 1000, 200, read=600)
    assert_same_price(cost_of("gpt-4o", None, 1000, 200, cache_read_tokens=600), expected)


def test_cache_reads_make_a_call_cheaper() -> None:
    cached = cost_of("gpt-4o", None, 1000, 200, cache_read_tokens=600)
    uncached = cost_of("gpt-4o", None, 1000, 200)
    assert cached is not None and uncached is not None
    assert cached.prompt < uncached.prompt


def test_cache_writes_are_priced_at_the_cache_write_rate() -> None:
    model = "claude-3-5-sonnet-latest"
    expected = library_price(model, 1000, 100, write=400)
    assert_same_price(cost_of(model, None, 1000, 100, cache_write_tokens=400), expected)


def test_cached_tokens_beyond_the_prompt_count_as_prompt_tokens() -> None:
    # A caller that counts cached tokens apart from the prompt, as Anthropic does.
    expected = library_price("gpt-4o", 300, 10, read=300)
    assert_same_price(cost_of("gpt-4o", None, 100, 10, cache_read_tokens=300), expected)


@pytest.mark.parametrize("model", ["not-a-model-anyone-sells", "", None])
def test_an_unknown_or_missing_model_has_no_cost(model: str | None) -> None:
    assert cost_of(model, None, 1000, 200) is None


def test_a_call_without_token_counts_has_no_cost() -> None:
    assert cost_of("gpt-4o", None, None, None) is None


@pytest.mark.parametrize("prompt", [100_000, 250_000])
def test_a_tiered_price_uses_the_tier_of_the_prompt_size(prompt: int) -> None:
    expected = library_price(TIERED_MODEL, prompt, 1000)
    assert_same_price(cost_of(TIERED_MODEL, None, prompt, 1000), expected)


@st.composite
def usages(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """Prompt, completion, cache-read and cache-write counts; cached tokens within the prompt."""
    prompt = draw(st.integers(0, 2_000_000))
    read = draw(st.integers(0, prompt))
    write = draw(st.integers(0, prompt - read))
    return prompt, draw(st.integers(0, 200_000)), read, write


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(model=st.sampled_from(FLAT_MODELS), usage=usages())
def test_the_fast_path_equals_genai_prices_for_flat_prices(
    model: str, usage: tuple[int, int, int, int]
) -> None:
    prompt, completion, read, write = usage
    expected = library_price(model, prompt, completion, read, write)
    assert_same_price(cost_of(model, None, prompt, completion, read, write), expected)


class FrozenClock(datetime):
    """genai-prices' clock, stopped at `at`."""

    at: datetime

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        return cls.at.astimezone(tz) if tz else cls.at.replace(tzinfo=None)


def test_a_price_that_depends_on_the_time_of_day_follows_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genai_prices.data_snapshot, "datetime", FrozenClock)
    for hour in (10, 20):  # DeepSeek's peak and off-peak hours, UTC
        FrozenClock.at = datetime(2025, 1, 6, hour, tzinfo=UTC)
        expected = library_price("deepseek-chat", 1000, 1000, at=FrozenClock.at)
        assert_same_price(cost_of("deepseek-chat", None, 1000, 1000), expected)
