"""Datasets from the logs page's filter: made, filled in the background, browsed, a log
opened, exported."""

from __future__ import annotations

import time

import orjson

from tests.conftest import Server
from tests.ui.conftest import Browserless, Org


def test_a_dataset_is_made_from_the_current_filter(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        for model, team in (("gpt-4o", "search"), ("gpt-4o", "ads"), ("claude", "search")):
            made = api.post(
                "/api/request-logs/",
                json={
                    "model": model,
                    "metadata": {"team": team},
                    "prompt_messages": [{"role": "user", "content": f"hi {team}"}],
                },
            )
            assert made.status_code == 201
    query = "model=gpt-4o&metadata__team=search&range=24h"
    logs_page = signed_in.get(f"/logs?{query}")
    assert f'href="/data/new?{query.replace("&", "&amp;")}"' in logs_page.text
    form = signed_in.get(f"/data/new?{query}")
    assert "<code>model=gpt-4o</code>" in form.text
    created = signed_in.post(
        "/data",
        data={"csrf_token": signed_in.token("/data"), "name": "Search", "query": query},
    )
    assert created.status_code == 303, created.text
    page_url = created.headers["location"]
    deadline = time.monotonic() + 30
    while (page := signed_in.get(page_url)).text.count("/logs/") < 1:
        assert time.monotonic() < deadline, page.text
        time.sleep(0.3)
    assert 'id="dataset-status">ready<' in page.text and "1 logs" in page.text
    link = page.text.split('data-href="')[1].split('"')[0]
    opened = signed_in.get(link)
    assert opened.status_code == 200 and "hi search" in opened.text
    exported = signed_in.get(f"{page_url}/export")
    assert exported.headers["content-type"] == "application/x-ndjson"
    [line] = [orjson.loads(raw) for raw in exported.text.splitlines()]
    assert line["model"] == "gpt-4o" and line["prompt_messages"][0]["content"] == "hi search"
    listed = signed_in.get("/data").text
    assert "Search" in listed and '<td class="num">1</td>' in listed


def test_a_bad_share_is_refused(signed_in: Browserless) -> None:
    refused = signed_in.post(
        "/data",
        data={"csrf_token": signed_in.token("/data"), "name": "x", "sampling": "200"},
    )
    assert refused.status_code == 400 and "sampling: must be a number from 0 to 100" in refused.text


def test_an_evaluation_run_is_started_and_its_report_read(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        api.post(
            "/api/request-logs/",
            json={
                "model": "run-me",
                "completion_message": {"role": "assistant", "content": "a refund"},
            },
        )
        rule = api.post(
            "/api/evaluators/",
            json={
                "name": "Mentions refund",
                "type": "rule",
                "score_value_type": "boolean",
                "rule_config": {"rule": "contains", "value": "refund"},
            },
        )
        assert rule.status_code == 201, rule.text
    query = "model=run-me&range=24h"
    made = signed_in.post(
        "/data", data={"csrf_token": signed_in.token("/data"), "name": "Runs", "query": query}
    )
    page_url = made.headers["location"]
    deadline = time.monotonic() + 30
    while 'id="dataset-status">ready<' not in (page := signed_in.get(page_url)).text:
        assert time.monotonic() < deadline, page.text
        time.sleep(0.3)
    assert 'id="start-run"' in page.text
    started = signed_in.post(
        f"{page_url}/runs",
        data={"csrf_token": signed_in.token(page_url), "evaluator_ids": [rule.json()["id"]]},
    )
    assert started.status_code == 303, started.text
    report_url = started.headers["location"]
    deadline = time.monotonic() + 30
    while 'id="run-status">completed<' not in (report := signed_in.get(report_url)).text:
        assert time.monotonic() < deadline, report.text
        time.sleep(0.3)
    assert "Mentions refund" in report.text and "100%" in report.text
    assert report_url.rsplit("/", 1)[1] in signed_in.get(page_url).text
