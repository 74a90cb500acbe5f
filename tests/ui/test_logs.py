"""The logs page: filters from the URL (fields, metadata keys, scores' free rows), paging
and the live tail, over logs written through the API."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.conftest import Server
from tests.ui.conftest import Browserless, Org


def _log(api: httpx.Client, **fields: object) -> str:
    created = api.post("/api/request-logs/", json={"prompt_messages": [], **fields})
    assert created.status_code == 201, created.text
    return created.json()["unique_id"]


def _ids(page: httpx.Response) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in page.text.split('data-href="/logs/')[1:]]


def test_the_table_filters_by_field_and_metadata_key(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        mini = _log(api, model="gpt-4o-mini", metadata={"team": "search"}, customer_identifier="c1")
        big = _log(api, model="gpt-4o", metadata={"team": "ads"}, latency=2.5)
    everything = signed_in.get("/logs")
    assert everything.status_code == 200
    assert set(_ids(everything)) == {mini, big}
    assert "gpt-4o-mini" in everything.text and "c1" in everything.text
    assert _ids(signed_in.get("/logs?model=gpt-4o-mini")) == [mini]
    assert _ids(signed_in.get("/logs?metadata__team=ads")) == [big]
    # The form's free rows come back as the canonical URL, which a bookmark keeps.
    asked = signed_in.get("/logs", params=[("f", "latency"), ("op", "gt"), ("v", "1")])
    assert asked.status_code == 303
    assert dict(parse_qsl(urlsplit(asked.headers["location"]).query)) == {
        "latency[operator]": "gt",
        "latency[value]": "1",
    }
    assert _ids(signed_in.get(asked.headers["location"])) == [big]


def test_a_bad_filter_is_a_page_naming_it(signed_in: Browserless) -> None:
    refused = signed_in.get("/logs?latency[operator]=gt&latency[value]=fast")
    assert refused.status_code == 400
    assert "must be a number, got &#39;fast&#39;" in refused.text


def test_pages_follow_on_with_a_cursor(server: Server, org: Org, signed_in: Browserless) -> None:
    customer = uuid.uuid4().hex[:8]
    with org.api(server.base_url) as api:
        made = {_log(api, model="m", customer_identifier=customer) for _ in range(53)}
    first = signed_in.get(f"/logs?customer_identifier={customer}")
    assert ">53</strong>" in first.text and len(_ids(first)) == 50
    next_url = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "after=" in next_url and "page=2" in next_url
    second = signed_in.get(next_url.replace("&amp;", "&"))
    assert set(_ids(first)) | set(_ids(second)) == made and len(_ids(second)) == 3


def test_the_live_tail_brings_newer_logs(server: Server, org: Org, signed_in: Browserless) -> None:
    with org.api(server.base_url) as api:
        old = _log(api, model="tail")
        page = signed_in.get("/logs?model=tail&live=1")
        assert 'hx-trigger="every 3s"' in page.text
        tail_url = page.text.split('id="tail" hx-get="')[1].split('"')[0].replace("&amp;", "&")
        assert _ids(signed_in.get(tail_url)) == []
        new = _log(api, model="tail")
    polled = signed_in.get(tail_url, headers={"HX-Request": "true"})
    assert _ids(polled) == [new] and old not in polled.text
    assert 'id="tail"' in polled.text  # the marker that asks for the next ones
