"""The filter language of the log list (Keywords AI §5), parsed into a dialect-free tree.

Parsing checks every field, operator and value and turns them into typed `Condition`s, so a
bad filter is a 400 naming what is wrong before any SQL exists. The tree is
`llmtrail.store.predicates`; `llmtrail.store.filtering` compiles it into SQL, and evaluators'
conditions and dataset queries reuse the same tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any

from llmtrail.bounds import (
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_FIELD_CHARS,
    MAX_FILTER_VALUE_CHARS,
    MAX_FILTER_VALUES,
)
from llmtrail.core.ids import to_utc_naive
from llmtrail.errors import FieldError, Invalid
from llmtrail.store.predicates import NEGATED_MATCHES, Condition, Group


class Kind(Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    TIME = "time"
    MAP = "map"  # `metadata` itself: only key tests
    MAP_VALUE = "map_value"  # `metadata__KEY`: text or number, by the value compared
    SCORE = "score"  # `scores__EVALUATOR` (id or slug): a score's value, number or boolean
    VALUE = "value"  # a score's own value (`passing_conditions`): any JSON scalar


# Filterable log fields (contract §5.1) -> their kind. Names are the columns of `logs`.
FIELDS: dict[str, Kind] = {
    **dict.fromkeys(
        (
            "unique_id",
            "trace_unique_id",
            "span_unique_id",
            "span_parent_id",
            "span_name",
            "span_workflow_name",
            "thread_identifier",
            "session_identifier",
            "customer_identifier",
            "customer_email",
            "customer_name",
            "custom_identifier",
            "group_identifier",
            "evaluation_identifier",
            "prompt_id",
            "prompt_name",
            "model",
            "provider_id",
            "log_type",
            "log_method",
            "log_status",
            "status",
            "environment",
            "error_message",
            "note",
            "file_id",
            "version_id",
        ),
        Kind.TEXT,
    ),
    **dict.fromkeys(
        (
            "status_code",
            "cost",
            "prompt_cost",
            "completion_cost",
            "latency",
            "time_to_first_token",
            "tokens_per_second",
            "routing_time",
            "prompt_tokens",
            "completion_tokens",
            "total_request_tokens",
            "prompt_cache_hit_tokens",
            "prompt_cache_creation_tokens",
            "reasoning_tokens",
            "api_key_id",
        ),
        Kind.NUMBER,
    ),
    **dict.fromkeys(("stream", "positive_feedback", "blurred"), Kind.BOOL),
    **dict.fromkeys(("timestamp", "start_time", "created_at"), Kind.TIME),
    "metadata": Kind.MAP,
}
FIELD_ALIASES = {
    "total_cost": "cost",
    "input_tokens": "prompt_tokens",
    "output_tokens": "completion_tokens",
    "total_tokens": "total_request_tokens",
    "all_tokens": "total_request_tokens",
    "trace_id": "trace_unique_id",
    "organization_key_id": "api_key_id",
    "trace_group_identifier": "session_identifier",
}
MAP_PREFIX = "metadata__"
SCORE_PREFIX = "scores__"

# Every spelling the services' docs and SDKs use -> one canonical operator.
OPERATORS = {
    **dict.fromkeys(("", "=", "==", "eq", "equals", "exact", "in", "overlap"), "in"),
    **dict.fromkeys(("not", "not_in", "not_equals", "ne", "!=", "not_overlap"), "not_in"),
    "iexact": "iexact",
    **dict.fromkeys(("lt", "less_than"), "lt"),
    **dict.fromkeys(("lte", "less_than_or_equal"), "lte"),
    **dict.fromkeys(("gt", "greater_than"), "gt"),
    **dict.fromkeys(("gte", "greater_than_or_equal"), "gte"),
    "contains": "contains",
    "icontains": "icontains",
    "startswith": "startswith",
    "endswith": "endswith",
    "not_contains": "not_contains",
    "not_startswith": "not_startswith",
    "not_endswith": "not_endswith",
    "isnull": "isnull",
    "empty": "empty",
    **dict.fromkeys(("not_empty", "notEmpty"), "not_empty"),
    "regex": "regex",
    **dict.fromkeys(("has_key", "mapContainsKey"), "has_key"),
    **dict.fromkeys(("full_text_search", "trigram_word_similar"), "words"),
}
COMPARISONS = {"lt", "lte", "gt", "gte"}
TEXT_MATCHES = {"contains", "icontains", "startswith", "endswith", "iexact", "regex", "words"}
NO_VALUE = {"isnull", "empty", "not_empty", "has_key"}
# Which operators each kind of field takes.
ALLOWED: dict[Kind, set[str]] = {
    Kind.TEXT: {"in", "not_in", "isnull", "empty", "not_empty"}
    | COMPARISONS
    | TEXT_MATCHES
    | set(NEGATED_MATCHES),
    Kind.NUMBER: {"in", "not_in", "isnull"} | COMPARISONS,
    Kind.BOOL: {"in", "not_in", "isnull"},
    Kind.TIME: {"in", "not_in", "isnull"} | COMPARISONS,
    Kind.MAP: {"has_key", "isnull"},
    Kind.SCORE: {"in", "not_in", "isnull"} | COMPARISONS,
    Kind.VALUE: {"in", "not_in", "contains"} | COMPARISONS,
    Kind.MAP_VALUE: {"in", "not_in", "isnull", "empty", "not_empty"}
    | COMPARISONS
    | TEXT_MATCHES
    | set(NEGATED_MATCHES),
}


def combine(*groups: Group) -> Group:
    """All of the given groups must hold."""
    return Group(tuple(("AND", g) for g in groups if g))


Resolve = Callable[[str], tuple[str, "Kind | None"]]


def parse_filters(
    filters: Any, loc: tuple[str | int, ...] = ("filters",), resolve: Resolve | None = None
) -> Group:
    """Parse the body form `{field: {operator, value} | [conditions], filter_bundle: {...}}`.
    `resolve` names the fields (log fields by default) and their kinds. A filter past the
    bounds of `llmtrail.bounds` (depth, conditions, values, characters) is refused, naming
    where it crossed the bound, before any of it is compiled."""
    return _parse(filters, loc, resolve or _resolve, _Count(), 1)


class _Count:
    """The conditions a filter has held so far, over all its levels."""

    def __init__(self) -> None:
        self.conditions = 0

    def one_more(self, loc: tuple[str | int, ...]) -> None:
        self.conditions += 1
        if self.conditions > MAX_FILTER_CONDITIONS:
            raise Invalid.at(
                loc, f"a filter holds at most {MAX_FILTER_CONDITIONS} conditions", "too_long"
            )


def _parse(
    filters: Any, loc: tuple[str | int, ...], resolve: Resolve, count: _Count, depth: int
) -> Group:
    if not isinstance(filters, dict):
        raise Invalid.at(loc, "must be an object of field: condition")
    items: list[tuple[str, Condition | Group]] = []
    errors: list[FieldError] = []
    for name, spec in filters.items():
        try:
            if name == "filter_bundle":
                items.append(_bundle(spec, (*loc, name), resolve, count, depth))
            elif isinstance(spec, list):
                for index, one in enumerate(spec):
                    count.one_more((*loc, name, index))
                    try:
                        items.append(_condition(name, one, (*loc, name, index), resolve))
                    except Invalid as exc:  # every bad condition of the list is reported
                        errors.extend(exc.errors)
            else:
                count.one_more((*loc, name))
                items.append(_condition(name, spec, (*loc, name), resolve))
        except Invalid as exc:
            if exc.errors and exc.errors[0].type == "too_long":
                raise  # past a bound: the rest is not read
            errors.extend(exc.errors)
    if errors:
        raise Invalid(errors)
    return Group(tuple(items))


def parse_quick_filters(params: Iterable[tuple[str, str]], reserved: set[str]) -> Group:
    """URL filters: `?field=value`, or `?field[value]=X&field[operator]=gt&field[connector]=OR`.

    A key that is not a log field is a metadata key (contract §5.2).
    """
    return parse_filters(quick_specs(params, reserved), ("query",))


def quick_specs(params: Iterable[tuple[str, str]], reserved: set[str]) -> dict[str, Any]:
    """URL filters in the body form `{field: {operator, value}}` (unchecked: parse them),
    as a dataset keeps the filter it was filled from."""
    specs: dict[str, dict[str, Any]] = {}
    for raw_key, value in params:
        match = re.fullmatch(r"(.+)\[(value|operator|connector)\]", raw_key)
        name, part = (match.group(1), match.group(2)) if match else (raw_key, "value")
        if name in reserved:
            continue
        if _resolve(name)[1] is None:
            name = MAP_PREFIX + name
        specs.setdefault(name, {"operator": ""})[part] = value
    return specs


def parse_value_conditions(conditions: Any, loc: tuple[str | int, ...]) -> Group:
    """Conditions on a score's own value, `{"primary_score": {operator, value}}` (an
    evaluator's `passing_conditions`), in the same language and tree as log filters."""
    return parse_filters(conditions, loc, _value_field)


def _value_field(name: str) -> tuple[str, Kind | None]:
    return ("value", Kind.VALUE) if name == "primary_score" else (name, None)


def _bundle(
    spec: Any, loc: tuple[str | int, ...], resolve: Resolve, count: _Count, depth: int
) -> tuple[str, Group]:
    if not isinstance(spec, dict) or not isinstance(spec.get("filter_params"), dict):
        raise Invalid.at(loc, "must be {connector, filter_params: {...}}")
    if depth >= MAX_FILTER_DEPTH:
        raise Invalid.at(
            loc, f"filters nest at most {MAX_FILTER_DEPTH} levels of filter_bundle", "too_long"
        )
    connector = _connector(spec.get("connector", "AND"), (*loc, "connector"))
    inner = _parse(spec["filter_params"], (*loc, "filter_params"), resolve, count, depth + 1)
    # The bundle's connector joins its own conditions; the bundle joins the rest with AND.
    return "AND", Group(tuple((connector, item) for _, item in inner.items))


def _condition(
    name: str, spec: Any, loc: tuple[str | int, ...], resolve: Resolve
) -> tuple[str, Condition]:
    if not isinstance(spec, dict):
        raise Invalid.at(loc, "must be an object {operator, value} or a list of them")
    if len(name) > MAX_FILTER_FIELD_CHARS:
        raise Invalid.at(loc, f"a field name has at most {MAX_FILTER_FIELD_CHARS} characters")
    column, kind = resolve(name)
    if kind is None:
        raise Invalid.at(loc, f"unknown filter field '{name}'", "unknown_field")
    raw_op = spec.get("operator_function") or spec.get("operator", "")
    op = OPERATORS.get(raw_op) if isinstance(raw_op, str) else None
    if op is None:
        raise Invalid.at((*loc, "operator"), f"unknown operator '{raw_op}'", "unknown_operator")
    if op not in ALLOWED[kind]:
        raise Invalid.at(
            (*loc, "operator"), f"operator '{raw_op}' does not apply to field '{name}'"
        )
    connector = _connector(spec.get("connector", "AND"), (*loc, "connector"))
    value = spec.get("value", spec.get("operator_args"))
    raw = value if isinstance(value, list) else [value]
    key = name[len(MAP_PREFIX) :] if kind is Kind.MAP_VALUE else None
    if kind is Kind.SCORE:
        key = name[len(SCORE_PREFIX) :]
    if op == "has_key":
        bounded(raw, (*loc, "value"))
        return connector, Condition(column, op, _texts(raw, (*loc, "value"), nonempty=True))
    if op == "isnull":
        given = [v for v in raw if v not in ("", None)]
        return connector, Condition(column, op, (_bool(given[0], loc) if given else True,), key)
    if op in NO_VALUE:
        return connector, Condition(column, op, (), key)
    if not raw or any(v is None for v in raw):
        raise Invalid.at((*loc, "value"), "must be a value or a non-empty list of values")
    bounded(raw, (*loc, "value"))
    if op not in ("in", "not_in") and len(raw) != 1:
        raise Invalid.at((*loc, "value"), f"operator '{raw_op}' takes exactly one value")
    numeric = kind is Kind.MAP_VALUE and op in COMPARISONS and _is_number(raw[0])
    values = _coerce(kind, op, raw, (*loc, "value"), numeric)
    return connector, Condition(column, op, values, key, numeric)


def bounded(raw: list[Any], loc: tuple[str | int, ...]) -> None:
    """At most MAX_FILTER_VALUES values, each at most MAX_FILTER_VALUE_CHARS characters: the
    values of a condition, or of a list's search parameters (Humanloop's `id`, `search`)."""
    if len(raw) > MAX_FILTER_VALUES:
        raise Invalid.at(loc, f"a condition takes at most {MAX_FILTER_VALUES} values", "too_long")
    for value in raw:
        if isinstance(value, str) and len(value) > MAX_FILTER_VALUE_CHARS:
            message = f"a value has at most {MAX_FILTER_VALUE_CHARS} characters"
            raise Invalid.at(loc, message, "too_long")


def _resolve(name: str) -> tuple[str, Kind | None]:
    """The column and kind a filter name refers to; kind None for an unknown name."""
    if name.startswith(MAP_PREFIX) and len(name) > len(MAP_PREFIX):
        return "metadata", Kind.MAP_VALUE
    if name.startswith(SCORE_PREFIX) and len(name) > len(SCORE_PREFIX):
        return "scores", Kind.SCORE
    column = FIELD_ALIASES.get(name, name)
    return column, FIELDS.get(column)


def _connector(value: Any, loc: tuple[str | int, ...]) -> str:
    if not isinstance(value, str) or value.upper() not in ("AND", "OR"):
        raise Invalid.at(loc, "must be 'AND' or 'OR'")
    return value.upper()


def _coerce(
    kind: Kind, op: str, raw: list[Any], loc: tuple[str | int, ...], numeric: bool
) -> tuple[Any, ...]:
    if kind is Kind.SCORE:
        return tuple(_score_value(v, op, loc) for v in raw)
    if kind is Kind.VALUE:
        if op in COMPARISONS:
            return (_number(raw[0], loc),)
        return tuple(raw)
    if kind is Kind.NUMBER or numeric:
        return tuple(_number(v, loc) for v in raw)
    if kind is Kind.BOOL:
        return tuple(_bool(v, loc) for v in raw)
    if kind is Kind.TIME:
        return tuple(_time(v, loc) for v in raw)
    texts = _texts(raw, loc)
    if op == "regex":
        try:
            re.compile(texts[0])
        except re.error as exc:
            raise Invalid.at(loc, f"not a valid regular expression: {exc}") from None
    return texts


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any, loc: tuple[str | int, ...]) -> float | int:
    if _is_number(value):
        return value
    if isinstance(value, bool):
        raise Invalid.at(loc, f"must be a number, got {value!r}")
    try:
        return float(value) if "." in str(value) or "e" in str(value).lower() else int(value)
    except (TypeError, ValueError):
        raise Invalid.at(loc, f"must be a number, got {value!r}") from None


def _score_value(value: Any, op: str, loc: tuple[str | int, ...]) -> float | int | bool:
    """A score is compared as a number, or (equality only) as a boolean."""
    if op in ("in", "not_in") and (
        isinstance(value, bool) or str(value).lower() in ("true", "false")
    ):
        return _bool(value, loc)
    return _number(value, loc)


def _bool(value: Any, loc: tuple[str | int, ...]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise Invalid.at(loc, f"must be true or false, got {value!r}")


def _time(value: Any, loc: tuple[str | int, ...]) -> datetime:
    try:
        return to_utc_naive(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise Invalid.at(loc, f"must be an ISO 8601 date-time, got {value!r}") from None


def _texts(raw: list[Any], loc: tuple[str | int, ...], nonempty: bool = False) -> tuple[str, ...]:
    """Values compared as text: JSON scalars in their JSON spelling (true, 5, 1.5)."""
    out = []
    for value in raw:
        if isinstance(value, dict | list) or (nonempty and value in (None, "")):
            raise Invalid.at(loc, f"must be a string or a number, got {value!r}")
        if isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return tuple(out)
