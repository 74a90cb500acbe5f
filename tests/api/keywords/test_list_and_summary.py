"""The list endpoint (filters, quick filters, windows, sorting, pages) and the summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = {"start_time": (NOW - timedelta(days=2)).isoformat()}


def seed(api: httpx.Client) -> dict[str, str]:
    """Five logs with distinct telemetry; returns custom_identifier -> unique_id."""
    rows = [
        dict(
            custom_identifier="a",
            model="gpt-4o",
            prompt_tokens=100,
            completion_tokens=10,
            latency=0.5,
            metadata={"env": "dev", "n": 5},
            customer_identifier="u1",
            timestamp=(NOW - timedelta(minutes=5)).isoformat(),
        ),
        dict(
            custom_identifier="b",
            model="gpt-4o-mini",
            prompt_tokens=200,
            completion_tokens=20,
            latency=1.5,
            metadata={"env": "prod", "n": 10},
            customer_identifier="u2",
            timestamp=(NOW - timedelta(minutes=4)).isoformat(),
            stream=True,
        ),
        dict(
            custom_identifier="c",
            model="claude-3-5-sonnet-20241022",
            prompt_tokens=300,
            completion_tokens=30,
            latency=2.5,
            metadata={"env": "prod"},
            status_code=500,
            error_message="upstream",
            timestamp=(NOW - timedelta(minutes=3)).isoformat(),
        ),
        dict(
            custom_identifier="d",
            model="gpt-4o",
            prompt_tokens=400,
            completion_tokens=40,
            latency=3.5,
            timestamp=(NOW - timedelta(hours=3)).isoformat(),
        ),
        dict(
            custom_identifier="e",
            model="my-local-model",
            log_type="embedding",
            timestamp=(NOW - timedelta(minutes=1)).isoformat(),
        ),
    ]
    response = api.post("/api/request-logs/bulk/", json={"logs": rows})
    assert response.json()["success_count"] == 5, response.text
    listed = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 100}).json()
    return {r["custom_identifier"]: r["unique_id"] for r in listed["results"]}


def ids(api: httpx.Client, filters: dict | None = None, **params) -> list[str]:
    response = api.post(
        "/api/request-logs/list/", params={**SINCE, **params}, json={"filters": filters or {}}
    )
    assert response.status_code == 200, response.text
    return sorted(r["custom_identifier"] for r in response.json()["results"])


def test_default_window_is_the_last_hour_and_newest_first(api: httpx.Client) -> None:
    seed(api)
    body = api.get("/api/request-logs/list/").json()
    assert [r["custom_identifier"] for r in body["results"]] == ["e", "c", "b", "a"]
    assert body["count"] == 4 and body["next"] is None and body["previous"] is None


def test_time_window_parameters(api: httpx.Client) -> None:
    seed(api)
    start = (NOW - timedelta(hours=4)).isoformat()
    end = (NOW - timedelta(hours=2)).isoformat()
    assert ids(api, start_time=start, end_time=end) == ["d"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"model": {"operator": "", "value": ["gpt-4o"]}}, ["a", "d"]),
        ({"model": {"operator": "in", "value": ["gpt-4o", "gpt-4o-mini"]}}, ["a", "b", "d"]),
        ({"model": {"operator": "not", "value": ["gpt-4o"]}}, ["b", "c", "e"]),
        ({"model": {"operator": "icontains", "value": ["CLAUDE"]}}, ["c"]),
        ({"model": {"operator": "startswith", "value": "gpt"}}, ["a", "b", "d"]),
        (
            {"cost": [{"operator": "gt", "value": [0]}, {"operator": "lt", "value": [0.001]}]},
            ["a", "b"],
        ),
        ({"latency": {"operator": "gte", "value": [2.5]}}, ["c", "d"]),
        ({"status_code": {"operator": "gte", "value": 400}}, ["c"]),
        ({"status": {"operator": "", "value": ["failed"]}}, ["c"]),
        ({"stream": {"operator": "", "value": [True]}}, ["b"]),
        ({"log_type": {"operator": "", "value": ["embedding"]}}, ["e"]),
        ({"cost": {"operator": "isnull", "value": [True]}}, ["e"]),
        ({"metadata__env": {"operator": "", "value": ["prod"]}}, ["b", "c"]),
        ({"metadata__env": {"operator": "not", "value": ["prod"]}}, ["a"]),
        ({"metadata__n": {"operator": "gt", "value": [6]}}, ["b"]),
        ({"customer_identifier": {"operator": "", "value": ["u1", "u2"]}}, ["a", "b"]),
        ({"model": {"operator": "iexact", "value": "GPT-4O"}}, ["a", "d"]),
        ({"model": {"operator": "contains", "value": "4o"}}, ["a", "b", "d"]),
        ({"model": {"operator": "contains", "value": "4O"}}, []),
        ({"model": {"operator": "endswith", "value": "mini"}}, ["b"]),
        ({"model": {"operator": "not_contains", "value": "gpt"}}, ["c", "e"]),
        ({"model": {"operator": "not_startswith", "value": "gpt"}}, ["c", "e"]),
        ({"model": {"operator": "not_endswith", "value": "mini"}}, ["a", "c", "d", "e"]),
        ({"model": {"operator": "not_in", "value": ["gpt-4o", "gpt-4o-mini"]}}, ["c", "e"]),
        ({"model": {"operator": "regex", "value": "^gpt-4o$"}}, ["a", "d"]),
        ({"latency": {"operator": "lte", "value": [1.5]}}, ["a", "b"]),
        ({"latency": {"operator": "lt", "value": "1.5"}}, ["a"]),
        ({"cost": {"operator": "isnull", "value": [False]}}, ["a", "b", "c", "d"]),
        ({"customer_identifier": {"operator": "empty", "value": [""]}}, ["c", "d", "e"]),
        ({"customer_identifier": {"operator": "not_empty", "value": [""]}}, ["a", "b"]),
        ({"error_message": {"operator": "full_text_search", "value": "UPSTREAM"}}, ["c"]),
        ({"metadata": {"operator": "has_key", "value": ["n"]}}, ["a", "b"]),
        ({"metadata": {"operator_function": "mapContainsKey", "value": "n"}}, ["a", "b"]),
        ({"metadata__env": {"operator": "icontains", "value": "PRO"}}, ["b", "c"]),
        ({"metadata__n": {"operator": "", "value": [5]}}, ["a"]),
        ({"metadata__n": {"operator": "", "value": ["10"]}}, ["b"]),
        ({"metadata__env": {"operator": "isnull", "value": [True]}}, ["d", "e"]),
        ({"metadata__absent": {"operator": "not", "value": ["x"]}}, []),
        ({"total_tokens": {"operator": "gt", "value": 300}}, ["c", "d"]),
        ({"input_tokens": {"operator": "eq", "value": 100}}, ["a"]),
        ({"status_code": {"operator": "not", "value": 200}}, ["c"]),
        (
            {"timestamp": {"operator": "gte", "value": (NOW - timedelta(minutes=3)).isoformat()}},
            ["c", "e"],
        ),
        (
            {
                "filter_bundle": {
                    "connector": "OR",
                    "filter_params": {
                        "model": {"operator": "", "value": "gpt-4o-mini"},
                        "log_type": {"operator": "", "value": "embedding"},
                    },
                }
            },
            ["b", "e"],
        ),
        (
            {
                "model": {"operator": "", "value": "gpt-4o-mini"},
                "log_type": {"operator": "", "value": "embedding", "connector": "OR"},
            },
            ["b", "e"],
        ),
    ],
)
def test_body_filters(api: httpx.Client, filters: dict, expected: list[str]) -> None:
    seed(api)
    assert ids(api, filters) == expected


def test_unknown_filter_field_or_operator_is_a_400_naming_it(api: httpx.Client) -> None:
    for filters, name in (
        ({"colour": {"operator": "", "value": ["red"]}}, "colour"),
        ({"model": {"operator": "resembles", "value": ["x"]}}, "resembles"),
        ({"latency": {"operator": "gt", "value": ["fast"]}}, "latency"),
        ({"stream": {"operator": "contains", "value": ["x"]}}, "stream"),
        ({"model": {"operator": "regex", "value": ["("]}}, "regular expression"),
    ):
        response = api.post("/api/request-logs/list/", json={"filters": filters})
        assert response.status_code == 400
        assert name in response.json()["detail"]


def test_quick_filters_in_the_url(api: httpx.Client) -> None:
    seed(api)
    assert ids(api, model="gpt-4o") == ["a", "d"]
    assert ids(api, env="prod") == ["b", "c"], "an unknown key is a metadata key"
    assert ids(api, **{"latency[value]": "1", "latency[operator]": "lt"}) == ["a"]
    got = api.get("/request-logs/list", params={**SINCE, "model": "gpt-4o-mini"}).json()
    assert [r["custom_identifier"] for r in got["results"]] == ["b"]


def test_sorting(api: httpx.Client) -> None:
    seed(api)
    for sort_by, expected in (
        ("latency", ["a", "b", "c", "d"]),
        ("-latency", ["d", "c", "b", "a"]),
        ("-all_tokens", ["d", "c", "b", "a"]),
        ("id", ["a", "b", "c", "d", "e"]),
    ):
        body = api.get("/api/request-logs/list/", params={**SINCE, "sort_by": sort_by}).json()
        got = [r["custom_identifier"] for r in body["results"]]
        assert got[: len(expected)] == expected, sort_by


def test_pagination_edges(api: httpx.Client) -> None:
    seed(api)
    first = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    second = httpx.get(first["next"], headers=api.headers).json()
    assert "page=1" in second["previous"] and "page=3" in second["next"]
    last = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    past = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 2, "page": 9}).json()
    assert past["results"] == [] and past["count"] == 5
    seen = [r["unique_id"] for p in (first, second, last) for r in p["results"]]
    assert len(set(seen)) == 5, "pages neither overlap nor skip"
    full = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 1000}).json()
    assert len(full["results"]) == 5


def test_environment_parameters(tenant, engine) -> None:
    from llmtrail.core.keys import create_key

    _, test_key = create_key(engine, org=tenant.org, environment="test")
    with tenant.client() as prod_api:
        prod_api.post("/api/request-logs/", json={"model": "m", "custom_identifier": "p"})
        with httpx.Client(
            base_url=tenant.base_url, headers={"Authorization": f"Bearer {test_key}"}
        ) as test_api:
            test_api.post("/api/request-logs/", json={"model": "m", "custom_identifier": "t"})
        assert ids(prod_api) == ["p", "t"], "by default every environment is listed"
        assert ids(prod_api, environment="test") == ["t"]
        assert ids(prod_api, is_test="true") == ["t"]
        assert ids(prod_api, is_test="false", all_envs="true") == ["p"]
        assert (
            prod_api.get("/api/request-logs/list/", params={"environment": "dev"}).status_code
            == 400
        )


def test_summary_aggregates_over_the_same_filters(api: httpx.Client) -> None:
    seed(api)
    summary = api.post(
        "/api/request-logs/summary/",
        params=SINCE,
        json={"filters": {"model": {"operator": "", "value": ["gpt-4o"]}}},
    ).json()
    assert summary["number_of_requests"] == 2
    assert summary["total_prompt_tokens"] == 500
    assert summary["total_completion_tokens"] == 50
    assert summary["total_tokens"] == 550
    assert summary["avg_latency"] == pytest.approx(2.0)
    listed = api.post(
        "/api/request-logs/list/",
        params=SINCE,
        json={"filters": {"model": {"operator": "", "value": ["gpt-4o"]}}},
    ).json()
    assert summary["total_cost"] == pytest.approx(sum(r["cost"] for r in listed["results"]))
    assert summary["scores"] == {}


def _walk(api: httpx.Client, url: str, params: dict) -> list[dict]:
    """Every page of a list, following `next` links; returns the pages' bodies."""
    pages = [api.get(url, params=params).json()]
    while pages[-1]["next"]:
        pages.append(httpx.get(pages[-1]["next"], headers=api.headers).json())
    return pages


@pytest.mark.parametrize("sort_by", ["-timestamp", "timestamp", "id", "-id", "-latency"])
def test_next_links_walk_every_log_once_in_order(api: httpx.Client, sort_by: str) -> None:
    rows = [
        # Ties on the timestamp: a page boundary may fall inside a run of equal values.
        {"model": "m", "latency": n % 7, "timestamp": (NOW - timedelta(seconds=n // 3)).isoformat()}
        for n in range(250)
    ]
    assert api.post("/api/request-logs/bulk/", json={"logs": rows}).status_code == 201
    params = {**SINCE, "page_size": 60, "sort_by": sort_by}
    pages = _walk(api, "/api/request-logs/list/", params)
    walked = [r["unique_id"] for p in pages for r in p["results"]]
    whole = api.get("/api/request-logs/list/", params={**params, "page_size": 1000}).json()
    assert walked == [r["unique_id"] for r in whole["results"]]
    assert len(pages) == 5 and all(p["count"] == 250 for p in pages)


def test_a_next_link_continues_after_its_page_while_new_logs_arrive(api: httpx.Client) -> None:
    old = [
        {"model": "m", "timestamp": (NOW - timedelta(minutes=10, seconds=n)).isoformat()}
        for n in range(30)
    ]
    assert api.post("/api/request-logs/bulk/", json={"logs": old}).status_code == 201
    first = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 10}).json()
    newer = [{"model": "m", "timestamp": (NOW - timedelta(minutes=1)).isoformat()}] * 5
    assert api.post("/api/request-logs/bulk/", json={"logs": newer}).status_code == 201
    second = httpx.get(first["next"], headers=api.headers).json()
    seen = {r["unique_id"] for r in first["results"]}
    assert not seen & {r["unique_id"] for r in second["results"]}, "no row of page 1 again"
    by_offset = api.get("/api/request-logs/list/", params={**SINCE, "page_size": 10, "page": 2})
    assert {r["unique_id"] for r in by_offset.json()["results"]} & seen, (
        "counting by offset does shift (which is what the cursor avoids)"
    )
    assert second["count"] == 35


def test_a_malformed_cursor_is_a_400_naming_it(api: httpx.Client) -> None:
    response = api.get("/api/request-logs/list/", params={"page": 2, "after": "not-a-cursor"})
    assert response.status_code == 400
    assert "after" in response.json()
