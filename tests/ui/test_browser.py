"""The UI in a real browser (Chromium through Playwright): what a person does, end to end."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.conftest import Server
from tests.ui.conftest import Org, sign_in_page


def test_sign_in_then_filter_by_model_and_metadata_key(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        for model, team in (
            ("gpt-4o", "search"),
            ("claude-3-5-sonnet", "search"),
            ("gpt-4o", "ads"),
        ):
            api.post("/api/request-logs/", json={"model": model, "metadata": {"team": team}})
    page.goto("/logs")
    expect(page).to_have_url(f"{server.base_url}/signin?next=/logs")
    sign_in_page(page, org.users(engine, "member"))
    expect(page).to_have_url(f"{server.base_url}/logs")
    expect(page.locator("#log-rows tr.row")).to_have_count(3)
    page.fill("input[name=model]", "gpt-4o")
    page.locator(".cond input[name=f]").last.fill("metadata__team")
    page.locator(".cond input[name=v]").last.fill("search")
    page.click("#filters button[type=submit]")
    expect(page.locator("#log-rows tr.row")).to_have_count(1)
    query = parse_qs(urlsplit(page.url).query)
    assert query["model"] == ["gpt-4o"] and query["metadata__team"] == ["search"]
    page.reload()  # the URL alone holds the view
    expect(page.locator("#log-rows tr.row")).to_have_count(1)
    expect(page.locator(".cond input[name=f]").first).to_have_value("metadata__team")
