"""Rule evaluators: checks of a log that need no LLM and no user code, so they are cheap enough
to run on every log and give the same answer every time.

A rule's configuration is `{"rule": NAME, **params}`. `parse_rule` checks it once, when the
evaluator is saved, so that a bad one is refused naming the field rather than failing on every
log; `evaluate` then only reads the log. Every rule scores a boolean with an explanation a
person can read, or an error outcome when the log lacks what the rule reads.

Rules that read text (`target`: the output or the input) see it through `text_of`: chat
messages become their text contents, so one rule serves plain, OpenAI and Anthropic logs alike.

Regular expressions run on Python's `re`, which backtracks and cannot be interrupted. Rather
than a timeout (a thread cannot stop `re`, a process per log is too dear), the guard is static:
a pattern is at most `MAX_PATTERN` characters; one with a repeat of varying count inside a
repeat of many (`(a+)+`, `(a{1,3})+`, `(a?){30}`, the usual causes of exponential time) is
refused; and only the first `MAX_REGEX_TEXT` characters of a text are searched, which keeps a
quadratic pattern such as `\\s+$` under a second. Overlapping alternatives (`(a|a)+`) and
backreferences can still be slow: the guard catches the common mistakes, not every one.
"""

from __future__ import annotations

import json
import math
import re
import re._constants as sre  # re's own parser: the only way to see how a pattern nests
import re._parser as sre_parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from referencing.exceptions import Unresolvable

from llmtrail.core.scoring import EvalInputs, Outcome
from llmtrail.errors import FieldError, Invalid

MAX_PATTERN = 500
MAX_REGEX_TEXT = 10_000
MANY = 10  # repeats of a group up to this count are not worth refusing: (\d{1,3}\.){3}
CHARS_PER_TOKEN = 4  # the usual estimate for English; no tokenizer is loaded to count exactly


class _Missing(Exception):
    """The log lacks what the rule reads (its output, ideal output or a metric): neither a pass
    nor a fail, so `evaluate` makes it an error outcome."""


class _Params(BaseModel):
    """Parameters are strict: a configuration is JSON a person wrote, and `"yes"` for a boolean
    or `"5"` for a number is a mistake to report, not to guess at."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OnText(_Params):
    target: Literal["output", "input"] = "output"

    def text(self, inputs: EvalInputs) -> str:
        value = getattr(inputs, self.target)
        if value is None:
            raise _Missing(self.target)
        return text_of(value)


NonEmpty = Annotated[str, Field(min_length=1)]
# One string or several: a single value is the common case, so it needs no list around it.
Values = Annotated[
    list[NonEmpty],
    BeforeValidator(lambda v: [v] if isinstance(v, str) else v),
    Field(min_length=1),
]


class Contains(OnText):
    value: Values
    case_sensitive: bool = False
    match: Literal["any", "all"] = "any"


class Regex(OnText):
    pattern: str
    flags: Annotated[str, Field(pattern=r"^[ims]*$")] = ""

    @field_validator("pattern")
    @classmethod
    def _compiles_and_is_safe(cls, pattern: str) -> str:
        return safe_pattern(pattern)


def safe_pattern(pattern: str) -> str:
    """The pattern, if it compiles and passes the static guard against exponential
    backtracking (module docstring); a pydantic error naming the rule otherwise. Also checks
    the custom patterns of privacy masking (`core/privacy.py`)."""
    if len(pattern) > MAX_PATTERN:
        raise PydanticCustomError(
            "regex_too_long", "at most {limit} characters", {"limit": MAX_PATTERN}
        )
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:  # a{99999999999}: OverflowError
        raise PydanticCustomError(
            "regex", "not a valid regular expression: {reason}", {"reason": str(exc)}
        ) from None
    if _nested_repeat(sre_parse.parse(pattern), many=False):
        raise PydanticCustomError(
            "regex_unsafe",
            "a repeat inside a repeat, like (a+)+ or (a?){20}, can take exponential time: "
            "rewrite it without the nesting, or make the inner one possessive (a++)",
        )
    return pattern


class EqualsIdeal(_Params):
    strip: bool = True
    case_sensitive: bool = True
    collapse_whitespace: bool = False


class JsonSchema(OnText):
    # `schema` would shadow a BaseModel method; people still write "schema".
    json_schema: dict[str, Any] = Field(alias="schema")

    @field_validator("json_schema")
    @classmethod
    def _is_a_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            raise PydanticCustomError(
                "json_schema", "not a valid JSON Schema: {reason}", {"reason": exc.message}
            ) from None
        return schema


class Length(OnText):
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None
    unit: Literal["chars", "words", "tokens"] = "chars"

    @field_validator("max")
    @classmethod
    def _not_below_min(cls, high: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min")
        if high is not None and low is not None and high < low:
            raise PydanticCustomError("length_bounds", "below min ({low})", {"low": low})
        return high

    @model_validator(mode="after")
    def _bounded(self) -> Length:
        if self.min is None and self.max is None:
            raise PydanticCustomError("length_bounds", "give min, max or both")
        return self


class Below(_Params):
    threshold: Annotated[float, Field(gt=0)]


class TokensBelow(Below):
    metric: Literal["total_tokens", "prompt_tokens", "completion_tokens"] = "total_tokens"


@dataclass(frozen=True)
class RuleKind:
    """One rule of the registry: its parameters, the type of score it gives, and its check."""

    name: str
    params: type[_Params]
    check: Callable[[Any, EvalInputs], Outcome]
    value_type: str = "boolean"


@dataclass(frozen=True)
class Rule:
    """A rule as an evaluator is configured with it: its kind and its checked parameters."""

    kind: RuleKind
    params: _Params


def parse_rule(config: Any) -> Rule:
    """The rule `{"rule": NAME, **params}` describes, or Invalid naming each bad field under
    `rule_config`."""
    if not isinstance(config, dict):
        raise Invalid.at("rule_config", 'an object: {"rule": NAME, ...parameters}')
    name = config.get("rule")
    kind = RULES.get(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(sorted(RULES))
        problem = "required" if name is None else f"unknown rule {name!r}"
        raise Invalid.at(
            ("rule_config", "rule"), f"{problem}; the rules are {known}", "unknown_rule"
        )
    try:
        params = kind.params.model_validate({k: v for k, v in config.items() if k != "rule"})
    except ValidationError as exc:
        raise Invalid(
            [
                FieldError(("rule_config", *error["loc"]), f"{name}: {error['msg']}", error["type"])
                for error in exc.errors()
            ]
        ) from None
    return Rule(kind, params)


def evaluate(rule: Rule, inputs: EvalInputs) -> Outcome:
    """The rule's verdict on one log."""
    try:
        return rule.kind.check(rule.params, inputs)
    except _Missing as exc:
        return Outcome.failed(f"{rule.kind.name}: the log has no {exc}")


def text_of(value: Any) -> str:
    """The text a rule reads: a string as it is; chat messages (one or a list, the content a
    string or a list of parts) as their text contents, one per line; other JSON compact."""
    if isinstance(value, str):
        return value
    messages = [value] if _is_message(value) else value
    if isinstance(messages, list) and messages and all(map(_is_message, messages)):
        return "\n".join(filter(None, (_content_text(m["content"]) for m in messages)))
    if isinstance(value, list) and value and all(map(_is_part, value)):
        return _content_text(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and "content" in value


def _is_part(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""  # e.g. an assistant message that only calls tools
    texts = (p.get("text") for p in content if _is_part(p) and p["type"] == "text")
    return "\n".join(t for t in texts if isinstance(t, str))


def _nested_repeat(parsed: Any, many: bool) -> bool:
    """Whether a repeat of varying count sits inside one that may repeat more than `MANY`
    times: the ways to share a text out between them grow exponentially with its length.
    Possessive repeats and atomic groups give nothing back, so what they hold is judged alone."""
    for op, av in parsed:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = av
            if (many and low != high) or _nested_repeat(body, many or high > MANY):
                return True
        elif op in (sre.POSSESSIVE_REPEAT, sre.ATOMIC_GROUP):
            if any(_nested_repeat(sub, False) for sub in _subpatterns(av)):
                return True
        elif any(_nested_repeat(sub, many) for sub in _subpatterns(av)):
            return True
    return False


def _subpatterns(av: Any) -> Iterator[sre_parse.SubPattern]:
    if isinstance(av, sre_parse.SubPattern):
        yield av
    elif isinstance(av, tuple | list):
        for item in av:
            yield from _subpatterns(item)


def _contains(p: Contains, inputs: EvalInputs, negated: bool) -> Outcome:
    """`not_contains` is `contains` negated: with `match: any` it passes when none appears."""
    fold: Callable[[str], str] = (lambda s: s) if p.case_sensitive else str.casefold
    text = fold(p.text(inputs))
    found = [v for v in p.value if fold(v) in text]
    missing = [v for v in p.value if fold(v) not in text]
    hit = bool(found) if p.match == "any" else not missing
    if found and missing:
        explanation = f"{p.target} contains {_quotes(found)} but not {_quotes(missing)}"
    elif found:
        explanation = f"{p.target} contains {_quotes(found)}"
    elif len(missing) == 1:
        explanation = f"{p.target} does not contain {_quotes(missing)}"
    else:
        explanation = f"{p.target} contains none of {_quotes(missing)}"
    return Outcome(value=hit != negated, explanation=explanation)


def _regex(p: Regex, inputs: EvalInputs) -> Outcome:
    text = p.text(inputs)
    note = ""
    if len(text) > MAX_REGEX_TEXT:
        note = f" (searched its first {MAX_REGEX_TEXT:,} of {len(text):,} characters)"
        text = text[:MAX_REGEX_TEXT]
    flags = sum({"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[f] for f in set(p.flags))
    found = re.compile(p.pattern, flags).search(text)
    if found is None:
        return Outcome(False, f"{p.target} does not match /{p.pattern}/{p.flags}{note}")
    return Outcome(True, f"{p.target} matches /{p.pattern}/{p.flags}: {_quote(found[0])}{note}")


def _equals_ideal(p: EqualsIdeal, inputs: EvalInputs) -> Outcome:
    """Objects and arrays compare as JSON (key order and spacing aside, numbers as written);
    anything else as text, after the normalisation the parameters ask for."""
    if inputs.output is None:
        raise _Missing("output")
    if inputs.ideal_output is None:
        raise _Missing("ideal_output")
    output, ideal = text_of(inputs.output), text_of(inputs.ideal_output)
    output_json, ideal_json = _container(output), _container(ideal)
    if output_json is not None and ideal_json is not None:
        same = json.dumps(output_json, sort_keys=True) == json.dumps(ideal_json, sort_keys=True)
        return Outcome(same, f"output {'equals' if same else 'differs from'} the ideal as JSON")
    output, ideal = (_normalise(text, p) for text in (output, ideal))
    if output == ideal:
        return Outcome(True, "output equals the ideal output")
    return Outcome(False, f"output {_quote(output)} differs from the ideal {_quote(ideal)}")


def _container(text: str) -> Any:
    """The JSON object or array `text` holds, or None."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    return _parse_json(text)[0]


def _normalise(text: str, p: EqualsIdeal) -> str:
    text = " ".join(text.split()) if p.collapse_whitespace else text
    text = text.strip() if p.strip else text
    return text if p.case_sensitive else text.casefold()


def _parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON value in `text` and None, or None and why it is not JSON (NaN is not JSON)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse), None
    except ValueError as exc:
        return None, str(exc)


def _valid_json(p: OnText, inputs: EvalInputs) -> Outcome:
    error = _parse_json(p.text(inputs))[1]
    if error:
        return Outcome(False, f"{p.target} is not valid JSON: {error}")
    return Outcome(True, f"{p.target} is valid JSON")


def _json_schema(p: JsonSchema, inputs: EvalInputs) -> Outcome:
    document, error = _parse_json(p.text(inputs))
    if error:
        return Outcome(False, f"{p.target} is not valid JSON: {error}")
    try:
        problem = best_match(validator_for(p.json_schema)(p.json_schema).iter_errors(document))
    except Unresolvable as exc:
        return Outcome.failed(
            f"the schema's $ref {exc.ref!r} cannot be resolved: only references within the "
            "schema are followed"
        )
    if problem is None:
        return Outcome(True, f"{p.target} matches the schema")
    where = f"at {problem.json_path}: " if problem.path else ""
    return Outcome(False, f"{p.target} does not match the schema: {where}{_short(problem.message)}")


def _length(p: Length, inputs: EvalInputs) -> Outcome:
    """Tokens are estimated from characters, as no tokenizer is at hand: a log's own token
    counts are in its metrics, for `tokens_below`."""
    text = p.text(inputs)
    measured = {
        "chars": len(text),
        "words": len(text.split()),
        "tokens": math.ceil(len(text) / CHARS_PER_TOKEN),
    }[p.unit]
    unit = "characters" if p.unit == "chars" else p.unit
    stated = f"{p.target} is {'about ' if p.unit == 'tokens' else ''}{measured:,} {unit}"
    if p.min is not None and measured < p.min:
        return Outcome(False, f"{stated}, under the minimum of {p.min:,}")
    if p.max is not None and measured > p.max:
        return Outcome(False, f"{stated}, over the maximum of {p.max:,}")
    bounds = (("at least", p.min), ("at most", p.max))
    allowed = " and ".join(f"{word} {n:,}" for word, n in bounds if n is not None)
    return Outcome(True, f"{stated} ({allowed})")


def _below(p: Below, inputs: EvalInputs, metric: str, show: Callable[[float], str]) -> Outcome:
    measured = inputs.metrics.get(metric)
    if measured is None:
        raise _Missing(metric)
    below = measured < p.threshold
    name = metric.replace("_", " ")
    verdict = "is below" if below else "is not below"
    return Outcome(below, f"{name} {show(measured)} {verdict} {show(p.threshold)}")


def _tokens_below(p: TokensBelow, inputs: EvalInputs) -> Outcome:
    return _below(p, inputs, p.metric, lambda n: f"{n:,.10g}")


def _seconds(value: float) -> str:
    return f"{value:.4g} s"


def _dollars(value: float) -> str:
    return "$" + f"{value:.6f}".rstrip("0").rstrip(".")


def _quote(text: str) -> str:
    return repr(_short(text, 60))


def _quotes(texts: list[str]) -> str:
    return ", ".join(map(_quote, texts))


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


RULES: dict[str, RuleKind] = {
    kind.name: kind
    for kind in (
        RuleKind("contains", Contains, partial(_contains, negated=False)),
        RuleKind("not_contains", Contains, partial(_contains, negated=True)),
        RuleKind("regex", Regex, _regex),
        RuleKind("equals_ideal", EqualsIdeal, _equals_ideal),
        RuleKind("valid_json", OnText, _valid_json),
        RuleKind("json_schema", JsonSchema, _json_schema),
        RuleKind("length", Length, _length),
        RuleKind("latency_below", Below, partial(_below, metric="latency", show=_seconds)),
        RuleKind("cost_below", Below, partial(_below, metric="cost", show=_dollars)),
        RuleKind("tokens_below", TokensBelow, _tokens_below),
    )
}
