"""What an evaluator says about a log: score values, their types, and what an evaluator run
returns, whichever kind of evaluator ran (an LLM judge, code, a rule, a person).

A score's value is checked against its evaluator's value type before it is stored: the LLM
judge's answer and code's return value are parsed strictly, and anything that is not a value
of the type (or is out of its range) is an error result that says why, never a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

VALUE_TYPES = (
    "numerical",
    "boolean",
    "percentage",
    "single_select",
    "multi_select",
    "json",
    "text",
)
# Older names clients still send.
VALUE_TYPE_ALIASES = {"categorical": "single_select", "comment": "text"}


class InvalidScore(ValueError):
    """A value that is not one of the evaluator's type, or out of its range."""


class Transient(Exception):
    """The evaluation could not run now (a provider's 429 or 5xx, a timeout): try again later.
    Anything else that goes wrong is the evaluation's result, an error score.

    `retry_after` is the wait in seconds the provider asked for, when it said, so that a retry
    need not come back sooner."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ValueSpec:
    """The values an evaluator's scores may take."""

    type: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # for single_select and multi_select

    def coerce(self, raw: Any) -> Any:
        """`raw` as a value of this type, or InvalidScore saying why it is not one."""
        kind = self.type
        if kind in ("numerical", "percentage"):
            return self._number(raw)
        if kind == "boolean":
            return _boolean(raw)
        if kind == "single_select":
            [choice] = self._choices([raw] if not isinstance(raw, list) else raw, exactly_one=True)
            return choice
        if kind == "multi_select":
            return self._choices(raw if isinstance(raw, list) else [raw])
        if kind == "text":
            if not isinstance(raw, str):
                raise InvalidScore(f"a text score must be a string, got {raw!r}")
            return raw
        return raw  # json: any JSON value

    def _number(self, raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            if isinstance(raw, str):
                try:
                    raw = float(raw.strip())
                except ValueError:
                    raise InvalidScore(f"not a number: {raw!r}") from None
            else:
                raise InvalidScore(f"not a number: {raw!r}")
        value = float(raw)
        if not math.isfinite(value):
            raise InvalidScore(f"not a finite number: {raw!r}")
        low, high = self.bounds()
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidScore(f"{value:g} is outside the range {low:g} to {high:g}")
        return value

    def bounds(self) -> tuple[float | None, float | None]:
        if self.type == "percentage":
            return (0.0 if self.minimum is None else self.minimum), (
                100.0 if self.maximum is None else self.maximum
            )
        return self.minimum, self.maximum

    def _choices(self, raw: list[Any], exactly_one: bool = False) -> list[str]:
        if exactly_one and len(raw) != 1:
            raise InvalidScore(f"a single-select score is one choice, got {raw!r}")
        chosen = []
        for item in raw:
            if not isinstance(item, str):
                raise InvalidScore(f"a choice is a string, got {item!r}")
            if self.choices and item not in self.choices:
                raise InvalidScore(f"{item!r} is not one of {', '.join(self.choices)}")
            chosen.append(item)
        return chosen


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in (
        "true",
        "false",
        "yes",
        "no",
        "pass",
        "fail",
    ):
        return raw.strip().lower() in ("true", "yes", "pass")
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    raise InvalidScore(f"not a boolean: {raw!r}")


def normalise_value_type(name: str) -> str:
    return VALUE_TYPE_ALIASES.get(name, name)


@dataclass(frozen=True)
class EvalInputs:
    """What an evaluator looks at, taken from a log (or given to a run)."""

    input: Any = None
    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    ideal_output: Any = None
    # Telemetry rules may test: latency, cost, prompt_tokens, completion_tokens, total_tokens.
    metrics: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The inputs as code evaluators receive them (`eval_inputs`), legacy names included."""
        return {
            "input": self.input,
            "output": self.output,
            "metadata": self.metadata,
            "ideal_output": self.ideal_output,
            "metrics": self.metrics,
            "llm_input": self.input,
            "llm_output": self.output,
        }


@dataclass
class Outcome:
    """An evaluator's result on one log: a value of its type, or the error that stood in the
    way, and what the run cost (an LLM judge's own tokens, cost and latency)."""

    value: Any = None
    explanation: str | None = None
    error: str | None = None
    cost: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency: float | None = None

    @classmethod
    def failed(cls, error: str, **usage: Any) -> Outcome:
        return cls(error=error, **usage)
