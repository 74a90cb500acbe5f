"""The log-list filter language (Keywords AI §5): what parses to what, and what is a 400."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from llmtrail.bounds import (
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUE_CHARS,
    MAX_FILTER_VALUES,
)
from llmtrail.core.filters import Condition, Group, parse_filters, parse_quick_filters
from llmtrail.errors import FieldError, Invalid


def only_condition(filters: dict[str, Any]) -> Condition:
    """The single condition a one-field filter parses to."""
    [(_, condition)] = parse_filters(filters).items
    assert isinstance(condition, Condition)
    return condition


def parsed(name: str, operator: str, value: Any = None) -> Condition:
    return only_condition({name: {"operator": operator, "value": value}})


def errors_of(filters: Any) -> list[FieldError]:
    with pytest.raises(Invalid) as caught:
        parse_filters(filters)
    return caught.value.errors


def quick(*params: tuple[str, str], reserved: frozenset[str] = frozenset()) -> Group:
    return parse_quick_filters(params, set(reserved))


# Every spelling the Keywords AI docs, SDKs and Respan vocabulary use, on a text field.
@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("", "in"),
        ("=", "in"),
        ("==", "in"),
        ("eq", "in"),
        ("equals", "in"),
        ("exact", "in"),
        ("in", "in"),
        ("overlap", "in"),
        ("not", "not_in"),
        ("not_in", "not_in"),
        ("not_equals", "not_in"),
        ("ne", "not_in"),
        ("!=", "not_in"),
        ("not_overlap", "not_in"),
        ("iexact", "iexact"),
        ("lt", "lt"),
        ("less_than", "lt"),
        ("lte", "lte"),
        ("less_than_or_equal", "lte"),
        ("gt", "gt"),
        ("greater_than", "gt"),
        ("gte", "gte"),
        ("greater_than_or_equal", "gte"),
        ("contains", "contains"),
        ("icontains", "icontains"),
        ("startswith", "startswith"),
        ("endswith", "endswith"),
        ("not_contains", "not_contains"),
        ("not_startswith", "not_startswith"),
        ("not_endswith", "not_endswith"),
        ("regex", "regex"),
        ("full_text_search", "words"),
        ("trigram_word_similar", "words"),
        ("empty", "empty"),
        ("not_empty", "not_empty"),
        ("notEmpty", "not_empty"),
    ],
)
def test_every_operator_spelling_maps_to_its_canonical_operator(
    spelling: str, canonical: str
) -> None:
    assert parsed("model", spelling, ["gpt"]).operator == canonical


@pytest.mark.parametrize("spelling", ["has_key", "mapContainsKey"])
def test_key_tests_on_metadata_map_to_has_key(spelling: str) -> None:
    condition = parsed("metadata", spelling, ["team"])
    assert (condition.field, condition.operator, condition.values) == (
        "metadata",
        "has_key",
        ("team",),
    )


def test_operator_function_with_operator_args_is_the_same_as_operator_with_value() -> None:
    condition = only_condition(
        {"metadata": {"operator_function": "mapContainsKey", "operator_args": ["team"]}}
    )
    assert (condition.operator, condition.values) == ("has_key", ("team",))


def test_an_omitted_operator_means_equality() -> None:
    assert only_condition({"model": {"value": ["gpt-4o"]}}).operator == "in"


def test_an_unknown_operator_is_rejected_at_the_operator() -> None:
    [error] = errors_of({"model": {"operator": "between", "value": ["a"]}})
    assert (error.loc, error.type) == (("filters", "model", "operator"), "unknown_operator")
    assert "between" in error.msg


@pytest.mark.parametrize(
    ("name", "operator"),
    [
        ("cost", "contains"),
        ("latency", "regex"),
        ("prompt_tokens", "empty"),
        ("stream", "gt"),
        ("positive_feedback", "contains"),
        ("timestamp", "startswith"),
        ("created_at", "empty"),
        ("metadata", "in"),
        ("metadata", "contains"),
        ("model", "has_key"),
        ("metadata__team", "has_key"),
    ],
)
def test_an_operator_that_does_not_apply_to_the_field_kind_is_rejected(
    name: str, operator: str
) -> None:
    [error] = errors_of({name: {"operator": operator, "value": ["1"]}})
    assert error.loc == ("filters", name, "operator")
    assert "does not apply" in error.msg


@pytest.mark.parametrize(
    ("name", "operator", "value"),
    [
        ("cost", "gte", 0.5),
        ("status_code", "not_in", [500, 502]),
        ("stream", "in", [True]),
        ("timestamp", "lt", "2024-05-01T00:00:00Z"),
        ("model", "gt", "a"),
        ("metadata__team", "icontains", "core"),
        ("metadata", "isnull", True),
    ],
)
def test_an_operator_the_field_kind_takes_is_accepted(name: str, operator: str, value: Any) -> None:
    assert parsed(name, operator, value).operator == operator


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", (5,)),
        ("1.5", (1.5,)),
        ("1e3", (1000.0,)),
        (2, (2,)),
        (0.25, (0.25,)),
        (["1", 2, "3.5"], (1, 2, 3.5)),
    ],
)
def test_number_fields_take_numbers_and_numeric_strings(value: Any, expected: tuple) -> None:
    assert parsed("cost", "in", value).values == expected


@pytest.mark.parametrize("value", ["abc", {"a": 1}, "1,5", "NaN"])
def test_a_number_field_rejects_a_value_that_is_not_a_number(value: Any) -> None:
    [error] = errors_of({"cost": {"operator": "in", "value": value}})
    assert error.loc == ("filters", "cost", "value")
    assert "must be a number" in error.msg


@pytest.mark.parametrize("value", [True, False])
def test_a_number_field_rejects_a_boolean(value: bool) -> None:
    [error] = errors_of({"cost": {"operator": "in", "value": value}})
    assert error.loc == ("filters", "cost", "value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(True, True), ("true", True), ("True", True), ("1", True), (1, True)],
        *[(False, False), ("false", False), ("0", False), (0, False)],
    ],
)
def test_bool_fields_take_booleans_and_their_string_spellings(value: Any, expected: bool) -> None:
    assert parsed("stream", "in", value).values == (expected,)


def test_a_bool_field_rejects_other_words() -> None:
    [error] = errors_of({"stream": {"operator": "in", "value": "yes"}})
    assert error.loc == ("filters", "stream", "value")
    assert "true or false" in error.msg


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T14:00:00+02:00",
        "2024-05-01T07:00:00-05:00",
        "2024-05-01T12:00:00",
        "2024-05-01 12:00:00+00:00",
    ],
)
def test_times_with_any_zone_become_naive_utc(value: str) -> None:
    assert parsed("timestamp", "gte", value).values == (datetime(2024, 5, 1, 12, 0),)


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", 1714564800])
def test_a_time_field_rejects_what_is_not_iso_8601(value: Any) -> None:
    [error] = errors_of({"start_time": {"operator": "lt", "value": value}})
    assert error.loc == ("filters", "start_time", "value")
    assert "ISO 8601" in error.msg


@pytest.mark.parametrize(
    ("value", "expected"),
    [("gpt-4o", "gpt-4o"), (5, "5"), (1.0, "1"), (1.5, "1.5"), (True, "true"), (False, "false")],
)
def test_text_fields_compare_json_scalars_in_their_json_spelling(value: Any, expected: str) -> None:
    assert parsed("customer_identifier", "in", value).values == (expected,)


@pytest.mark.parametrize("value", [{"a": 1}, [[1]]])
def test_a_text_field_rejects_objects_and_lists_as_values(value: Any) -> None:
    [error] = errors_of({"model": {"operator": "in", "value": value}})
    assert error.loc == ("filters", "model", "value")


def test_a_valid_regex_is_kept_as_written() -> None:
    assert parsed("model", "regex", r"^gpt-4(o|\.1)$").values == (r"^gpt-4(o|\.1)$",)


@pytest.mark.parametrize("pattern", ["(", "[a-", "*x"])
def test_an_invalid_regex_is_rejected_before_any_query(pattern: str) -> None:
    [error] = errors_of({"model": {"operator": "regex", "value": pattern}})
    assert error.loc == ("filters", "model", "value")
    assert "regular expression" in error.msg


def test_a_scalar_value_is_one_value() -> None:
    assert parsed("model", "in", "gpt-4o").values == ("gpt-4o",)


def test_in_keeps_every_listed_value() -> None:
    assert parsed("model", "in", ["a", "b", "c"]).values == ("a", "b", "c")


@pytest.mark.parametrize("operator", ["gt", "contains", "regex", "iexact"])
def test_single_value_operators_refuse_several_values(operator: str) -> None:
    [error] = errors_of({"model": {"operator": operator, "value": ["a", "b"]}})
    assert error.loc == ("filters", "model", "value")
    assert "exactly one value" in error.msg


@pytest.mark.parametrize("value", [None, [], ["a", None]])
def test_a_value_operator_without_a_value_is_rejected(value: Any) -> None:
    [error] = errors_of({"model": {"operator": "in", "value": value}})
    assert error.loc == ("filters", "model", "value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ([], True), ([""], True), ([True], True), ([False], False), ("false", False)],
)
def test_isnull_defaults_to_true_and_takes_an_explicit_boolean(value: Any, expected: bool) -> None:
    assert parsed("note", "isnull", value).values == (expected,)


@pytest.mark.parametrize("operator", ["empty", "not_empty"])
def test_empty_tests_ignore_the_documented_placeholder_value(operator: str) -> None:
    assert parsed("note", operator, [""]).values == ()


def test_a_metadata_key_filter_names_the_key_and_compares_text() -> None:
    condition = parsed("metadata__team", "in", ["core", 7])
    assert (condition.field, condition.key, condition.values, condition.numeric) == (
        "metadata",
        "team",
        ("core", "7"),
        False,
    )


@pytest.mark.parametrize(("value", "numeric"), [(5, True), (2.5, True), ("5", False)])
def test_a_metadata_comparison_is_numeric_only_for_a_json_number(value: Any, numeric: bool) -> None:
    condition = parsed("metadata__score", "gt", value)
    assert (condition.numeric, condition.values) == (numeric, (value,))


def test_metadata_equality_stays_text_even_for_numbers() -> None:
    assert parsed("metadata__score", "in", [5]).numeric is False


def test_metadata_with_an_empty_key_is_an_unknown_field() -> None:
    [error] = errors_of({"metadata__": {"operator": "in", "value": ["x"]}})
    assert (error.loc, error.type) == (("filters", "metadata__"), "unknown_field")


def test_has_key_rejects_an_empty_key() -> None:
    [error] = errors_of({"metadata": {"operator": "has_key", "value": [""]}})
    assert error.loc == ("filters", "metadata", "value")


@pytest.mark.parametrize(
    ("alias", "column", "value"),
    [
        ("total_cost", "cost", 1),
        ("input_tokens", "prompt_tokens", 1),
        ("output_tokens", "completion_tokens", 1),
        ("total_tokens", "total_request_tokens", 1),
        ("all_tokens", "total_request_tokens", 1),
        ("trace_id", "trace_unique_id", "t"),
        ("organization_key_id", "api_key_id", 1),
        ("trace_group_identifier", "session_identifier", "s"),
    ],
)
def test_field_aliases_filter_their_column(alias: str, column: str, value: Any) -> None:
    assert parsed(alias, "in", [value]).field == column


def test_conditions_join_with_and_unless_they_say_or() -> None:
    group = parse_filters(
        {
            "model": {"operator": "in", "value": ["a"]},
            "cost": {"operator": "gt", "value": [1], "connector": "or"},
        }
    )
    assert [connector for connector, _ in group.items] == ["AND", "OR"]


def test_an_unknown_connector_is_rejected_at_the_connector() -> None:
    [error] = errors_of({"model": {"operator": "in", "value": ["a"], "connector": "XOR"}})
    assert error.loc == ("filters", "model", "connector")


def test_a_list_of_conditions_on_one_field_gives_each_condition() -> None:
    group = parse_filters(
        {"cost": [{"operator": "gte", "value": [1]}, {"operator": "lte", "value": [5]}]}
    )
    assert [(c.field, c.operator, c.values) for _, c in group.items] == [
        ("cost", "gte", (1,)),
        ("cost", "lte", (5,)),
    ]


def test_an_error_in_a_list_of_conditions_names_its_index() -> None:
    [error] = errors_of({"cost": [{"operator": "gte", "value": [1]}, {"operator": "lte"}]})
    assert error.loc == ("filters", "cost", 1, "value")


def test_every_bad_condition_in_a_list_is_reported_together() -> None:
    errors = errors_of({"cost": [{"operator": "gte", "value": "x"}, {"operator": "lte"}]})
    assert [e.loc for e in errors] == [
        ("filters", "cost", 0, "value"),
        ("filters", "cost", 1, "value"),
    ]


def test_a_filter_bundle_joins_its_conditions_with_its_connector() -> None:
    group = parse_filters(
        {
            "status": {"operator": "in", "value": ["success"]},
            "filter_bundle": {
                "connector": "OR",
                "filter_params": {
                    "model": {"operator": "in", "value": ["a"]},
                    "cost": {"operator": "gt", "value": [1]},
                },
            },
        }
    )
    [(_, status), (bundle_connector, bundle)] = group.items
    assert isinstance(status, Condition)
    assert bundle_connector == "AND"
    assert isinstance(bundle, Group)
    assert [(connector, c.field) for connector, c in bundle.items] == [
        ("OR", "model"),
        ("OR", "cost"),
    ]


def test_a_filter_bundle_defaults_to_and() -> None:
    group = parse_filters({"filter_bundle": {"filter_params": {"model": {"value": ["a"]}}}})
    [(_, bundle)] = group.items
    assert [connector for connector, _ in bundle.items] == ["AND"]


@pytest.mark.parametrize("bundle", [[], "x", {"connector": "OR"}, {"filter_params": []}])
def test_a_malformed_filter_bundle_is_rejected_at_the_bundle(bundle: Any) -> None:
    [error] = errors_of({"filter_bundle": bundle})
    assert error.loc == ("filters", "filter_bundle")


def test_an_error_inside_a_filter_bundle_names_the_full_path() -> None:
    [error] = errors_of(
        {"filter_bundle": {"filter_params": {"cost": {"operator": "gt", "value": "x"}}}}
    )
    assert error.loc == ("filters", "filter_bundle", "filter_params", "cost", "value")


def test_an_unknown_field_is_rejected_by_name() -> None:
    [error] = errors_of({"colour": {"operator": "in", "value": ["red"]}})
    assert (error.loc, error.type) == (("filters", "colour"), "unknown_field")
    assert "colour" in error.msg


@pytest.mark.parametrize("filters", [[], "model=gpt-4o", None])
def test_filters_that_are_not_an_object_are_rejected_at_filters(filters: Any) -> None:
    [error] = errors_of(filters)
    assert error.loc == ("filters",)


@pytest.mark.parametrize("spec", ["gpt-4o", 5, None])
def test_a_condition_that_is_not_an_object_is_rejected_at_its_field(spec: Any) -> None:
    [error] = errors_of({"model": spec})
    assert error.loc == ("filters", "model")


def test_several_bad_fields_are_reported_together() -> None:
    errors = errors_of(
        {
            "colour": {"operator": "in", "value": ["red"]},
            "model": {"operator": "in", "value": ["fine"]},
            "cost": {"operator": "gt", "value": "cheap"},
            "stream": {"operator": "contains", "value": "a"},
        }
    )
    assert [e.loc for e in errors] == [
        ("filters", "colour"),
        ("filters", "cost", "value"),
        ("filters", "stream", "operator"),
    ]


def test_the_error_message_names_each_field_path_and_rule() -> None:
    with pytest.raises(Invalid) as caught:
        parse_filters({"cost": {"operator": "gt", "value": "cheap"}})
    assert caught.value.message == "filters.cost.value: must be a number, got 'cheap'"


def test_a_quick_filter_is_equality_on_its_field() -> None:
    [(_, condition)] = quick(("model", "gpt-4o")).items
    assert (condition.field, condition.operator, condition.values) == ("model", "in", ("gpt-4o",))


def test_a_quick_filter_takes_an_operator_and_a_connector() -> None:
    [(connector, condition)] = quick(
        ("cost[value]", "0.5"), ("cost[operator]", "gt"), ("cost[connector]", "OR")
    ).items
    assert (connector, condition.operator, condition.values) == ("OR", "gt", (0.5,))


def test_a_quick_filter_on_an_unknown_key_is_a_metadata_key() -> None:
    [(_, condition)] = quick(("team", "core")).items
    assert (condition.field, condition.key, condition.values) == ("metadata", "team", ("core",))


def test_quick_filters_resolve_aliases_before_falling_back_to_metadata() -> None:
    [(_, condition)] = quick(("total_cost[value]", "1"), ("total_cost[operator]", "lt")).items
    assert (condition.field, condition.key) == ("cost", None)


def test_quick_filters_skip_reserved_keys() -> None:
    group = quick(("page", "2"), ("page_size", "50"), reserved=frozenset({"page", "page_size"}))
    assert group.items == ()


def test_a_bad_quick_filter_is_reported_under_query() -> None:
    with pytest.raises(Invalid) as caught:
        quick(("cost", "cheap"))
    assert [e.loc for e in caught.value.errors] == [("query", "cost", "value")]


def test_bounds_are_located_where_the_filter_crosses_them() -> None:
    deep: dict[str, Any] = {"model": {"value": "m"}}
    for _ in range(MAX_FILTER_DEPTH):
        deep = {"filter_bundle": {"filter_params": deep}}
    [error] = errors_of(deep)
    bundle = ("filter_bundle", "filter_params")
    assert error.loc == ("filters", *bundle * (MAX_FILTER_DEPTH - 1), "filter_bundle")
    assert f"at most {MAX_FILTER_DEPTH} levels" in error.msg
    many = {"cost": [{"operator": "gt", "value": i} for i in range(MAX_FILTER_CONDITIONS + 1)]}
    [error] = errors_of(many)
    assert error.loc == ("filters", "cost", MAX_FILTER_CONDITIONS)
    # Conditions count over all levels: half at the top, half in a bundle.
    half = MAX_FILTER_CONDITIONS // 2 + 1
    split = {
        "cost": many["cost"][:half],
        "filter_bundle": {"filter_params": {"latency": many["cost"][:half]}},
    }
    assert f"at most {MAX_FILTER_CONDITIONS} conditions" in errors_of(split)[0].msg
    [error] = errors_of({"model": {"value": ["m"] * (MAX_FILTER_VALUES + 1)}})
    assert error.loc == ("filters", "model", "value")
    [error] = errors_of(
        {"model": {"operator": "regex", "value": "a" * (MAX_FILTER_VALUE_CHARS + 1)}}
    )
    assert f"at most {MAX_FILTER_VALUE_CHARS} characters" in error.msg


def test_a_filter_at_every_bound_parses() -> None:
    deep: dict[str, Any] = {"model": {"value": ["m"] * MAX_FILTER_VALUES}}
    for _ in range(MAX_FILTER_DEPTH - 1):
        deep = {"filter_bundle": {"filter_params": deep}}
    parse_filters(deep)
    parse_filters({"cost": [{"operator": "gt", "value": i} for i in range(MAX_FILTER_CONDITIONS)]})
    parse_filters({"model": {"operator": "contains", "value": "a" * MAX_FILTER_VALUE_CHARS}})
