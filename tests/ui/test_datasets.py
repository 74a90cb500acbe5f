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
