"""Creating logs through the Keywords AI dialect and reading them back, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from genai_prices import Usage, calc_price

CHAT = {
    "model": "gpt-4o",
    "prompt_messages": [{"role": "user", "content": "Hi"}],
    "completion_message": {"role": "assistant", "content": "Hello!"},
    "prompt_tokens": 1200,
    "completion_tokens": 300,
    "generation_time": 1.5,
    "ttft": 0.25,
    "customer_params": {"customer_identifier": "cust-1", "email": "a@b.c", "name": "Ann"},
    "metadata": {"team": "search", "_internal": "hidden"},
}


def create(api: httpx.Client, body: dict, path: str = "/api/request-logs/") -> dict:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_with_the_stored_ids_and_message(api: httpx.Client) -> None:
    created = create(api, CHAT)
    assert created["message"] == "log successful"
    assert created["id"] == created["unique_id"]
    assert created["environment"] == "prod"
    assert created["customer_identifier"] == "cust-1"
    assert created["latency"] == 1.5
    assert created["time_to_first_token"] == 0.25


def test_aliases_are_normalised_and_derived_fields_computed(api: httpx.Client) -> None:
    log = api.get(f"/api/request-logs/{create(api, CHAT)['unique_id']}/").json()
    assert log["latency"] == 1.5 and log["time_to_first_token"] == 0.25
    assert log["total_request_tokens"] == 1500
    assert log["tokens_per_second"] == pytest.approx(300 / 1.5)
    assert log["customer_email"] == "a@b.c" and log["customer_name"] == "Ann"
    assert log["prompt_messages"] == CHAT["prompt_messages"]
    assert log["completion_message"] == CHAT["completion_message"]
    assert log["metadata"] == {"team": "search"}, "keys starting with _ are hidden on read"
    assert log["log_type"] == "chat" and log["status"] == "success" and log["status_code"] == 200


def test_cost_comes_from_genai_prices_with_cache_tokens_priced_as_such(api: httpx.Client) -> None:
    body = {
        "model": "claude-3-5-sonnet-20241022",
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 400,
            "cache_read_input_tokens": 3000,
            "cache_creation_input_tokens": 500,
        },
    }
    log = api.get(f"/api/request-logs/{create(api, body)['unique_id']}/").json()
    expected = calc_price(
        Usage(input_tokens=4500, output_tokens=400, cache_read_tokens=3000, cache_write_tokens=500),
        "claude-3-5-sonnet-20241022",
    ).total_price
    assert log["prompt_tokens"] == 4500
    assert log["prompt_cache_hit_tokens"] == 3000
    assert log["prompt_cache_creation_tokens"] == 500
    assert log["cost"] == pytest.approx(float(expected), rel=1e-9)
    uncached = calc_price(Usage(input_tokens=4500, output_tokens=400), "claude-3-5-sonnet-20241022")
    assert log["cost"] < float(uncached.total_price), "cache reads must be cheaper than input"


def test_caller_cost_wins_and_unknown_model_stores_null(api: httpx.Client) -> None:
    given = create(api, {"model": "gpt-4o", "prompt_tokens": 10, "cost": 0.5})
    assert given["cost"] == 0.5
    unknown = create(api, {"model": "my-private-model-7b", "prompt_tokens": 10})
    assert unknown["cost"] is None


def test_openai_usage_object_and_legacy_create_path(api: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini",
        "input": "What is 2+2?",
        "output": "4",
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
        "latency": 0.4,
        "timestamp": "2026-01-02T03:04:05Z",
    }
    for path in ("/api/request-logs/create/", "/request-logs/create", "/api/request-logs"):
        log = api.get(f"/api/request-logs/{create(api, body, path)['unique_id']}").json()
        assert (log["prompt_tokens"], log["completion_tokens"]) == (20, 5)
        assert log["input"] == "What is 2+2?" and log["output"] == "4"
        assert log["timestamp"] == "2026-01-02T03:04:05.000000Z"
        assert log["start_time"] == "2026-01-02T03:04:04.600000Z"


def test_unknown_fields_are_tolerated_and_kept(api: httpx.Client) -> None:
    body = {"model": "gpt-4o", "temperature": 0.2, "tools": [{"type": "function"}], "foo": 1}
    log = api.get(f"/api/request-logs/{create(api, body)['unique_id']}/").json()
    assert log["temperature"] == 0.2 and log["tools"] == [{"type": "function"}]
    assert log["foo"] == 1


def test_key_environment_is_stamped_and_body_environment_ignored(tenant_factory) -> None:
    with tenant_factory("test").client() as api:
        created = create(api, {"model": "gpt-4o", "environment": "prod"})
        assert created["environment"] == "test"


def test_status_error_is_stored_as_failed(api: httpx.Client) -> None:
    created = create(api, {"model": "gpt-4o", "status": "error", "error_message": "boom"})
    assert created["status"] == "failed"


def test_get_unknown_log_is_404(api: httpx.Client) -> None:
    response = api.get("/api/request-logs/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Log not found"}


def test_delete_removes_the_log(api: httpx.Client) -> None:
    uid = create(api, {"model": "gpt-4o"})["unique_id"]
    assert api.delete(f"/api/request-logs/{uid}/").status_code == 204
    assert api.get(f"/api/request-logs/{uid}/").status_code == 404
    assert api.delete(f"/api/request-logs/{uid}/").status_code == 404


def test_bulk_validates_each_row_on_its_own(api: httpx.Client) -> None:
    now = datetime.now(UTC)
    rows = [
        {"model": "gpt-4o", "custom_identifier": "bulk-ok-1", "timestamp": now.isoformat()},
        {"model": "gpt-4o", "latency": -1},
        {"model": "gpt-4o", "custom_identifier": "bulk-ok-2"},
        {"model": "gpt-4o", "timestamp": "yesterday-ish"},
    ]
    response = api.post("/api/request-logs/bulk/", json={"logs": rows})
    assert response.status_code == 201
    body = response.json()
    assert body["success_count"] == 2 and body["error_count"] == 2
    assert [e["index"] for e in body["errors"]] == [1, 3]
    assert "latency" in body["errors"][0]["error"]
    assert "timestamp" in body["errors"][1]["error"]
    listed = api.post(
        "/api/request-logs/list/",
        params={"start_time": (now - timedelta(minutes=5)).isoformat()},
        json={"filters": {"custom_identifier": {"operator": "startswith", "value": ["bulk-ok"]}}},
    ).json()
    assert sorted(r["custom_identifier"] for r in listed["results"]) == ["bulk-ok-1", "bulk-ok-2"]


def test_bulk_limits(api: httpx.Client) -> None:
    assert api.post("/api/request-logs/bulk/", json={"logs": []}).status_code == 400
    too_many = {"logs": [{"model": "m"}] * 501}
    response = api.post("/api/request-logs/bulk/", json=too_many)
    assert response.status_code == 400 and "logs" in response.json()
    none_valid = api.post("/api/request-logs/bulk/", json={"logs": [{"latency": "slow"}]})
    assert none_valid.status_code == 400
    assert none_valid.json()["success_count"] == 0
