"""The dashboard: totals, percentiles and breakdowns computed by the database over the
chosen range, and the series the charts draw."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from llmtrail.core.ids import utcnow
from tests.conftest import Server
from tests.ui.conftest import Browserless, Org


def _series(page: httpx.Response) -> dict:
    return json.loads(page.text.split('id="series">')[1].split("</script>")[0])


def test_the_dashboard_sums_breaks_down_and_ranks_latency(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    now = utcnow()
    logs = [
        {
            "model": "gpt-4o" if i % 4 else "claude-3-5-sonnet",
            "customer_identifier": f"customer-{i % 2}",
            "latency": (i + 1) / 100,  # 0.01 .. 1.00 s
            "prompt_tokens": 10,
            "cost": 0.001,
            "timestamp": (now - timedelta(minutes=i)).isoformat(),
            **({"error_message": "boom", "status_code": 500} if i < 5 else {}),
        }
        for i in range(100)
    ]
    old = {**logs[0], "timestamp": (now - timedelta(days=3)).isoformat()}
    with org.api(server.base_url) as api:
        made = api.post("/api/request-logs/bulk/", json={"logs": [*logs, old]})
        assert made.json()["success_count"] == 101, made.text
    page = signed_in.get("/dashboard")
    assert page.status_code == 200
    totals = page.text.split('id="totals"')[1].split("</div>\n</div>")[0]
    assert ">100</strong>" in totals and ">5</strong>" in totals and "5.0%" in totals
    assert "$0.1</strong>" in totals and ">1000</strong>" in totals
    # Nearest rank over 0.01 .. 1.00 s, read off the latency histogram: within 1 %.
    shown = totals.split("p50 / p95 / p99</div><strong>")[1].split("</strong>")[0]
    for text, exact in zip(shown.split(" / "), (500, 950, 990), strict=True):
        assert text.endswith(" ms") and abs(float(text[:-3]) - exact) <= exact / 100, shown
    series = _series(page)
    assert len(series["times"]) in (24, 25) and sum(series["requests"]) == 100
    assert sum(series["errors"]) == 5 and max(v for v in series["p99"] if v) <= 1.0
    by_model = page.text.split('id="by-model"')[1].split("</table>")[0]
    assert by_model.index("gpt-4o") < by_model.index("claude-3-5-sonnet")  # 75 before 25
    assert ">75</td>" in by_model and ">25</td>" in by_model
    assert "customer-0" in page.text.split('id="by-customer_identifier"')[1]
    week = signed_in.get("/dashboard?range=7d")
    assert sum(_series(week)["requests"]) == 101 and len(_series(week)["times"]) >= 28
    assert signed_in.get("/dashboard?range=1y").status_code == 400
