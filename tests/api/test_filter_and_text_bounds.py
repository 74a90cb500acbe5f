"""The filter language and stored text are bounded (`llmtrail/bounds.py`): past a bound a
request is refused in its dialect's shape, naming the field and the bound, and nothing is
written; at the bound it is served. Both dialects, both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from llmtrail.api.otlp.mapping.spans import log_id
from llmtrail.bounds import (
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUE_CHARS,
    MAX_FILTER_VALUES,
    MAX_METADATA_KEY_CHARS,
)
from tests.conftest import Tenant

LIST = "/api/request-logs/list/"


def nested(levels: int) -> dict[str, Any]:
    """A filter whose innermost condition sits `levels` levels deep (1: no bundle)."""
    filters: dict[str, Any] = {"model": {"operator": "", "value": ["gpt-4o"]}}
    for _ in range(levels - 1):
        filters = {"filter_bundle": {"connector": "OR", "filter_params": filters}}
    return filters


def conditions(count: int) -> dict[str, Any]:
    return {"cost": [{"operator": "gte", "value": i} for i in range(count)]}


@pytest.mark.parametrize(
    ("filters", "bound"),
    [
        (nested(MAX_FILTER_DEPTH + 1), f"at most {MAX_FILTER_DEPTH} levels"),
        (conditions(MAX_FILTER_CONDITIONS + 1), f"at most {MAX_FILTER_CONDITIONS} conditions"),
        (
            {"customer_identifier": {"operator": "in", "value": ["c"] * (MAX_FILTER_VALUES + 1)}},
            f"at most {MAX_FILTER_VALUES} values",
        ),
        (
            {"model": {"operator": "contains", "value": "m" * (MAX_FILTER_VALUE_CHARS + 1)}},
            f"at most {MAX_FILTER_VALUE_CHARS} characters",
        ),
        ({"metadata__" + "k" * 300: {"value": "v"}}, "at most 255 characters"),
    ],
)
def test_keywords_list_refuses_a_filter_past_a_bound(
    api: httpx.Client, filters: dict, bound: str
) -> None:
    refused = api.post(LIST, json={"filters": filters})
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert "filters" in body and bound in body["detail"], body


@pytest.mark.parametrize(
    "filters",
    [
        nested(MAX_FILTER_DEPTH),
        conditions(MAX_FILTER_CONDITIONS),
        {"customer_identifier": {"operator": "in", "value": ["c"] * MAX_FILTER_VALUES}},
        {"model": {"operator": "contains", "value": "m" * MAX_FILTER_VALUE_CHARS}},
    ],
)
def test_keywords_list_serves_a_filter_at_the_bounds(api: httpx.Client, filters: dict) -> None:
    answer = api.post(LIST, json={"filters": filters})
    assert answer.status_code == 200, answer.text


def test_keywords_url_filters_are_bounded_alike(api: httpx.Client) -> None:
    long = "m" * (MAX_FILTER_VALUE_CHARS + 1)
    refused = api.get(LIST, params={"model[value]": long, "model[operator]": "contains"})
    assert refused.status_code == 400, refused.text
    assert "query" in refused.json()


def test_an_automation_condition_past_a_bound_is_refused(api: httpx.Client) -> None:
    rules = [
        {"field": "cost", "operator": "greater_than", "value": i}
        for i in range(MAX_FILTER_CONDITIONS + 1)
    ]
    body = {
        "name": "Too many",
        "condition_slug": f"many_{uuid.uuid4().hex[:6]}",
        "condition_type": "single_log",
        "condition_policy": {"rules": rules, "connector": "AND"},
    }
    refused = api.post("/automation/conditions/", json=body)
    assert refused.status_code == 400, refused.text
    [reason] = refused.json()["condition_policy"]
    assert f"at most {MAX_FILTER_CONDITIONS} conditions" in reason
    body["condition_policy"]["rules"] = rules[:MAX_FILTER_CONDITIONS]
    assert api.post("/automation/conditions/", json=body).status_code == 201


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"id": ["x"] * (MAX_FILTER_VALUES + 1)}, ["query", "id"]),
        ({"search": "s" * (MAX_FILTER_VALUE_CHARS + 1)}, ["query", "search"]),
        ({"metadata_search": "s" * (MAX_FILTER_VALUE_CHARS + 1)}, ["query", "metadata_search"]),
    ],
)
def test_humanloop_list_refuses_search_parameters_past_a_bound(
    tenant: Tenant, params: dict, loc: list
) -> None:
    with tenant.client("x-api-key") as api:
        refused = api.get("/v5/logs", params={"file_id": "fl_x", **params})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][:2] == loc


def test_humanloop_list_finds_logs_by_as_many_id_parts_as_the_bound_allows(
    tenant: Tenant,
) -> None:
    """A thousand ids (each matched as a substring) were an OR too deep for SQLite: a 500."""
    with tenant.client("x-api-key") as api:
        made = [
            api.post("/v5/prompts/log", json={"path": "bounds/ids", "prompt": {"model": "m"}})
            for _ in range(3)
        ]
        assert all(m.status_code == 200 for m in made), made[0].text
        file_id = made[0].json()["prompt_id"]
        wanted = [made[0].json()["id"], made[1].json()["id"][-12:]]  # a whole id and a part
        asked = [*wanted, *(f"no_such_{i}%_" for i in range(MAX_FILTER_VALUES - 2))]
        listed = api.get("/v5/logs", params={"file_id": file_id, "id": asked, "size": 10})
        assert listed.status_code == 200, listed.text
        found = {log["id"] for log in listed.json()["records"]}
        assert found == {made[0].json()["id"], made[1].json()["id"]}
        everything = api.get("/v5/logs", params={"file_id": file_id, "id": ["", "x"]})
        assert len(everything.json()["records"]) == 3  # every id contains ""


@pytest.mark.parametrize(
    ("body", "field", "bound"),
    [
        ({"customer_identifier": "c" * 256}, "customer_identifier", "255 characters"),
        ({"custom_identifier": "c" * 256}, "custom_identifier", "255 characters"),
        ({"thread_identifier": "t" * 256}, "thread_identifier", "255 characters"),
        ({"customer_email": "e" * 256}, "customer_email", "255 characters"),
        ({"status": "s" * 17}, "status", "16 characters"),
        ({"model": "m" * 256}, "model", "255 characters"),
        ({"metadata": {"k" * (MAX_METADATA_KEY_CHARS + 1): 1}}, "metadata", "metadata key"),
    ],
)
def test_keywords_refuses_text_longer_than_its_column(
    api: httpx.Client, body: dict, field: str, bound: str
) -> None:
    marker = uuid.uuid4().hex
    refused = api.post("/api/request-logs/", json={**body, "group_identifier": marker})
    assert refused.status_code == 400, refused.text
    assert bound in refused.json()["detail"] and field in refused.json(), refused.text
    # A bulk refuses that row alone, naming it (the contract's partial success).
    logs = [{"group_identifier": marker}, {**body, "group_identifier": marker}]
    bulk = api.post("/api/request-logs/bulk/", json={"logs": logs}).json()
    [error] = bulk["errors"]
    assert error["index"] == 1 and field in error["error"] and bound in error["error"], bulk
    listed = api.get(LIST, params={"group_identifier": marker})
    assert listed.json()["count"] == 1


def test_keywords_stores_text_at_the_column_length(api: httpx.Client) -> None:
    uid = uuid.uuid4().hex
    body = {
        "unique_id": uid,
        "customer_identifier": "c" * 255,
        "metadata": {"k" * MAX_METADATA_KEY_CHARS: "v"},
    }
    assert api.post("/api/request-logs/", json=body).status_code == 201
    stored = api.get(f"/api/request-logs/{uid}/").json()
    assert stored["customer_identifier"] == "c" * 255


def test_keywords_refuses_an_annotation_past_its_column(api: httpx.Client) -> None:
    uid = uuid.uuid4().hex
    assert api.post("/api/request-logs/", json={"unique_id": uid}).status_code == 201
    refused = api.patch(f"/api/request-logs/{uid}/", json={"custom_identifier": "c" * 256})
    assert refused.status_code == 400, refused.text
    assert "custom_identifier" in refused.json()


def test_humanloop_refuses_text_longer_than_its_column(tenant: Tenant) -> None:
    path = f"bounds/{uuid.uuid4().hex[:8]}"
    with tenant.client("x-api-key") as api:
        body = {"path": path, "output": "x", "metadata": {"k" * 300: 1}}
        refused = api.post("/v5/prompts/log", json=body)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert error["loc"][:2] == ["body", "metadata"] and "255" in error["msg"], error
        kept = api.post("/v5/prompts/log", json={**body, "metadata": {"k" * 255: 1}})
        assert kept.status_code == 200, kept.text


def test_an_exported_span_keeps_long_text_cut_to_its_column(api: httpx.Client) -> None:
    trace, span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    model = "m" * 300
    attributes = [{"key": "gen_ai.request.model", "value": {"stringValue": model}}]
    spans = [
        {
            "traceId": trace,
            "spanId": span,
            "name": "chat",
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661250000000",
            "attributes": attributes,
        }
    ]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    assert api.post("/v1/traces", json=body).status_code == 200
    stored = api.get(f"/api/request-logs/{log_id(trace, span)}/")
    assert stored.status_code == 200, stored.text
    assert stored.json()["model"] == model[:255]


def test_humanloop_paths_up_to_their_bound_are_kept_and_a_long_name_refused(
    tenant: Tenant,
) -> None:
    # A File path may be 1,024 characters; its last part, the File's name, 255.
    folders = "/".join(["f" * 250] * 3)
    path = f"{folders}/{uuid.uuid4().hex}{'p' * 200}"
    with tenant.client("x-api-key") as api:
        logged = api.post("/v5/prompts/log", json={"path": path, "output": "x"})
        assert logged.status_code == 200, logged.text
        fetched = api.get(f"/v5/logs/{logged.json()['id']}")
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["prompt"]["path"] == path
        long_name = f"bounds/{'n' * 256}"
        for route in ("/v5/prompts/log", "/v5/datasets"):
            body = {"path": long_name, "output": "x", "datapoints": []}
            refused = api.post(route, json=body)
            assert refused.status_code == 422, refused.text
            [error] = refused.json()["detail"]
            assert error["loc"] == ["body", "path"] and "255" in error["msg"], error
