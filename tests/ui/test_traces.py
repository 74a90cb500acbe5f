"""The trace view: a tree and waterfall paged on the server, children loaded on expand,
sums of tokens and costs per subtree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import Server
from tests.ui.conftest import Browserless, Org

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CHILDREN = 130  # more than a page of 100


def span(
    trace: str, sid: str, parent: str | None, start: float, end: float, **more: object
) -> dict:
    return {
        "trace_unique_id": trace,
        "span_unique_id": sid,
        **({"span_parent_id": parent} if parent else {}),
        "span_name": sid,
        "start_time": (T0 + timedelta(seconds=start)).isoformat(),
        "timestamp": (T0 + timedelta(seconds=end)).isoformat(),
        **more,
    }


def seed(api: httpx.Client) -> str:
    trace = uuid.uuid4().hex
    bodies = [span(trace, "root", None, 0, 10)]
    bodies += [
        span(trace, f"step-{i:03}", "root", i * 0.05, i * 0.05 + 1, prompt_tokens=10, cost=0.01)
        for i in range(CHILDREN)
    ]
    bodies.append(span(trace, "tool", "step-000", 0.2, 0.4, prompt_tokens=5, cost=0.5))
    made = api.post("/api/request-logs/bulk/", json={"logs": bodies})
    assert made.status_code == 201 and made.json()["error_count"] == 0, made.text
    return trace


def _names(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('id="span-')[1:]]


def test_a_trace_opens_a_page_at_a_time_and_expands(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        trace = seed(api)
        by_name = {
            log["span_name"]: log["unique_id"]
            for log in api.get(
                "/api/request-logs/list/",
                params={"trace_unique_id": trace, "page_size": 200, "start_time": "2026-01-01"},
            ).json()["results"]
        }
    page = signed_in.get(f"/traces/{trace}")
    assert page.status_code == 200, page.text
    shown = _names(page.text)
    assert len(shown) == 101 and shown[0] == by_name["root"]  # the root and 100 children
    assert f"{CHILDREN + 2} spans" in page.text
    assert "10.00 s" in page.text and "1305 tokens" in page.text  # 130 x 10 + 5 under the root
    assert "$1.8" in page.text  # 130 x 0.01 + 0.5
    step0 = page.text.split(f'id="span-{by_name["step-000"]}"')[1].split('class="span')[0]
    assert "▸ 1" in step0 and ">15<" in step0  # one child; 10 + 5 tokens summed
    assert "left: 0.0%; width: 10.0%" in step0  # 0 → 1 s of a 10 s trace
    more = page.text.split("Show more spans")[0].rsplit('hx-get="', 1)[1].split('"')[0]
    rest = signed_in.get(more.replace("&amp;", "&"))
    assert len(_names(rest.text)) == CHILDREN - 100 and "Show more" not in rest.text
    expand = step0.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    inner = signed_in.get(expand, headers={"HX-Request": "true"})
    assert _names(inner.text) == [by_name["tool"]]
    assert 'data-path="/' + by_name["root"] + "/" + by_name["step-000"] + "/" in inner.text
    # A log's id opens its trace too.
    assert _names(signed_in.get(f"/traces/{by_name['tool']}").text)[0] == by_name["root"]
    assert signed_in.get(f"/traces/{uuid.uuid4().hex}").status_code == 404
