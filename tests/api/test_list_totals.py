"""List totals and summaries from the hourly rollups equal reading the logs one by one,
through creates, deletes and a log whose hour and measures change when it completes; and
every rollup kept on the way (by model, by facet, latency histograms) equals a recount."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core.keys import authenticate, create_key
from llmtrail.store import rollups
from tests.conftest import Tenant

NOW = datetime.now(UTC).replace(microsecond=0)
# Every log has a status: asking for it makes the server count row by row.
ROW_BY_ROW = {"status": {"operator": "in", "value": ["success", "failed"]}}


def total(client: httpx.Client, window: tuple[datetime, datetime], **filters: dict) -> int:
    start, end = window
    response = client.post(
        "/api/request-logs/list/",
        params={"start_time": start.isoformat(), "end_time": end.isoformat(), "page_size": 1},
        json={"filters": filters},
    )
    assert response.status_code == 200, response.text
    return response.json()["count"]


def summary(client: httpx.Client, window: tuple[datetime, datetime], **filters: dict) -> dict:
    start, end = window
    response = client.post(
        "/api/request-logs/summary/",
        params={"start_time": start.isoformat(), "end_time": end.isoformat()},
        json={"filters": filters},
    )
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json().items() if k != "scores"}


def assert_totals_agree(client: httpx.Client, windows: list[tuple[datetime, datetime]]) -> None:
    for window in windows:
        for filters in (
            {},
            {"model": {"operator": "", "value": "gpt-4o"}},
            {"model": {"operator": "in", "value": ["gpt-4o", "o3-mini"]}},
            {"environment": {"operator": "", "value": "test"}},
        ):
            counted = total(client, window, **filters)
            assert counted == total(client, window, **filters, **ROW_BY_ROW), (window, filters)
            rolled, read = (
                summary(client, window, **filters),
                summary(client, window, **filters, **ROW_BY_ROW),
            )
            assert rolled == pytest.approx(read), (window, filters)


def windows(rng: random.Random) -> list[tuple[datetime, datetime]]:
    """Windows over the last two days, most with edges inside an hour."""
    out = [(NOW - timedelta(days=3), NOW + timedelta(hours=1))]
    for _ in range(6):
        start = NOW - timedelta(minutes=rng.randrange(0, 48 * 60))
        out.append((start, start + timedelta(minutes=rng.randrange(1, 30 * 60))))
    out.append((NOW - timedelta(hours=5), NOW - timedelta(hours=2)))  # whole hours
    return out


def stored_rollups(engine: Engine, org_id: int) -> dict:
    """Every measure per rollup, hour and group, the writers' stripes added up."""
    found = {}
    with engine.connect() as conn:
        for rollup in rollups.ROLLUPS:
            t = rollup.table
            group = (t.c.hour, *(t.c[key] for key in rollup.keys))
            query = (
                select(*group, *(func.sum(t.c[name]) for name in rollup.names))
                .where(t.c.org_id == org_id)
                .group_by(*group)
            )
            for row in conn.execute(query):
                measures = row[len(group) :]
                if measures[0]:  # groups every log of which has gone count nothing
                    found[(t.name, *row[: len(group)])] = [float(v) for v in measures]
    return found


def test_totals_and_summaries_from_hourly_rollups_match_reading_rows(
    tenant: Tenant, engine: Engine
) -> None:
    rng = random.Random(7)
    _, test_key = create_key(engine, org=tenant.org, environment="test")
    prod, test = tenant.client(), Tenant(tenant.org, test_key, tenant.base_url).client()
    with prod, test:
        for client in (prod, test):
            logs = [
                {
                    "model": rng.choice(["gpt-4o", "o3-mini", None]),
                    "timestamp": (NOW - timedelta(minutes=rng.randrange(48 * 60))).isoformat(),
                    "prompt_tokens": rng.randrange(1000),
                    "completion_tokens": rng.randrange(200),
                    **({"latency": rng.random() * 5} if rng.random() < 0.7 else {}),
                    **({"ttft": rng.random()} if rng.random() < 0.5 else {}),
                    **(
                        {"customer_identifier": f"c{rng.randrange(3)}"}
                        if rng.random() < 0.8
                        else {}
                    ),
                    **({"status_code": 500, "error_message": "x"} if rng.random() < 0.1 else {}),
                }
                for _ in range(150)
            ]
            assert client.post("/api/request-logs/bulk/", json={"logs": logs}).status_code == 201
        assert_totals_agree(prod, windows(rng))

        listed = prod.post(
            "/api/request-logs/list/",
            params={"start_time": (NOW - timedelta(days=3)).isoformat(), "page_size": 1000},
            json={},
        ).json()["results"]
        for log in rng.sample(listed, 40):
            assert prod.delete(f"/api/request-logs/{log['unique_id']}/").status_code == 204

        # A log counts in the hour it ended: completing it later moves it.
        created = prod.post(
            "/v5/prompts/log",
            json={"path": "totals/p", "prompt": {"model": "gpt-4o"}, "log_status": "incomplete"},
        ).json()
        ended = (NOW - timedelta(hours=20, minutes=13)).isoformat()
        done = prod.patch(
            f"/v5/prompts/{created['prompt_id']}/log/{created['id']}",
            json={
                "output": "a",
                "log_status": "complete",
                "end_time": ended,
                "prompt_tokens": 70,
                "provider_latency": 1.25,
            },
        )
        assert done.status_code == 200, done.text
        assert done.json()["end_time"].startswith(ended[:19])
        assert_totals_agree(prod, windows(rng))

    org = authenticate(engine, tenant.key).org_id
    kept = stored_rollups(engine, org)
    with engine.begin() as conn:
        rollups.rebuild(conn)
    recounted = stored_rollups(engine, org)
    assert recounted.keys() == kept.keys(), "kept rollups cover the hours a recount finds"
    for group, measures in kept.items():
        assert recounted[group] == pytest.approx(measures), group
