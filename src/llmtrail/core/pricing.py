"""Cost of a call from its token counts, priced by the `genai-prices` library.

The library's calculation costs ~90 µs a call, too slow for a write path at 10,000 logs/s.
A flat (untiered) price is linear in the token counts, so for each model we ask the library
once for the price of a million tokens of each kind and combine those coefficients per log.
Tiered prices, which are not linear, and prices that change with the date or the time of
day (DeepSeek's off-peak discount), which a cache would freeze, always go through the
library's own calculation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from genai_prices import Usage, calc_price
from genai_prices.types import TieredPrices

MTOK = 1_000_000


@dataclass(frozen=True)
class Cost:
    prompt: float
    completion: float

    @property
    def total(self) -> float:
        return self.prompt + self.completion


@dataclass(frozen=True)
class _Linear:
    """USD per token: uncached input, cache read, cache write (each on top of input), output."""

    input: float
    cache_read: float
    cache_write: float
    output: float


def cost_of(
    model: str | None,
    provider: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
) -> Cost | None:
    """Cost in USD, or None when the model is unknown to genai-prices (never a made-up 0).

    `prompt_tokens` counts every input token, cached ones included (OpenAI's convention);
    cache reads and writes are priced at their own rates.
    """
    if not model or (prompt_tokens is None and completion_tokens is None):
        return None
    read, write = cache_read_tokens or 0, cache_write_tokens or 0
    inp, out = max(prompt_tokens or 0, read + write), completion_tokens or 0
    rates = _rates(model, provider or None)
    if rates is None:
        return None
    if isinstance(rates, _Linear):
        prompt = inp * rates.input + read * rates.cache_read + write * rates.cache_write
        return Cost(prompt, out * rates.output)
    usage = Usage(
        input_tokens=inp, output_tokens=out, cache_read_tokens=read, cache_write_tokens=write
    )
    price = calc_price(usage, model, provider_id=provider or None)
    return Cost(float(price.input_price), float(price.output_price))


@lru_cache(maxsize=4096)
def _rates(model: str, provider: str | None) -> _Linear | str | None:
    """Per-token coefficients for a flat price, "exact" for one the library must compute
    each time (tiered or conditional), None when the model is unknown."""
    try:
        base = calc_price(Usage(input_tokens=MTOK), model, provider_id=provider)
    except LookupError:
        return None
    price = base.model_price
    conditional = isinstance(base.model.prices, list)  # it depends on when it is asked
    if conditional or any(isinstance(v, TieredPrices) for v in vars(price).values()):
        return "exact"

    def price_of(**tokens: int) -> float:
        return float(calc_price(Usage(**tokens), model, provider_id=provider).total_price)

    per_input = float(base.total_price)
    return _Linear(
        input=per_input / MTOK,
        cache_read=(price_of(input_tokens=MTOK, cache_read_tokens=MTOK) - per_input) / MTOK,
        cache_write=(price_of(input_tokens=MTOK, cache_write_tokens=MTOK) - per_input) / MTOK,
        output=price_of(output_tokens=MTOK) / MTOK,
    )
