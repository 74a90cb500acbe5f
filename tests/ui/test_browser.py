"""The UI in a real browser (Chromium through Playwright): what a person does, end to end."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.conftest import Server
from tests.ui.conftest import Org, sign_in_page
from tests.ui.test_traces import CHILDREN, seed


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


def test_open_a_log_edit_its_note_and_see_it_in_its_history(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        made = api.post("/api/request-logs/", json={"model": "gpt-4o", "customer_identifier": "c"})
    sign_in_page(page, org.users(engine, "member"))
    page.click(f"a[href='/logs/{made.json()['unique_id']}']")
    expect(page.locator("#history")).to_contain_text("No changes yet.")
    page.fill("#annotate textarea[name=note]", "the customer was unhappy")
    page.click("#annotate button[type=submit]")
    expect(page.locator("#history")).to_contain_text("the customer was unhappy")
    expect(page.locator("#history")).to_contain_text("note")
    page.reload()
    expect(page.locator("#annotate textarea[name=note]")).to_have_value("the customer was unhappy")


def test_open_a_trace_and_expand_a_span(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        trace = seed(api)
    sign_in_page(page, org.users(engine, "viewer"))
    page.goto(f"/traces/{trace}")
    expect(page.locator("#trace .span[data-path]")).to_have_count(102)  # root, 100, "more"
    toggle = page.locator("#trace button.toggle").first
    toggle.click()
    tool = page.locator("#trace .span", has_text="tool")
    expect(tool).to_have_count(1)
    toggle.click()  # folds it again
    expect(tool).to_be_hidden()
    page.click("text=Show more spans")
    expect(page.locator("#trace .span[data-path]")).to_have_count(
        1 + CHILDREN + 1
    )  # root, all children, tool


def test_create_and_revoke_a_key(page: Page, server: Server, engine: Engine, org: Org) -> None:
    sign_in_page(page, org.users(engine, "admin"))
    page.goto("/settings/keys")
    page.fill("#create-key input[name=name]", "browser-key")
    page.click("#create-key button[type=submit]")
    expect(page.locator("#new-key .key-once")).to_contain_text("lt_")
    row = page.locator("#keys tr", has_text="browser-key")
    expect(row).to_contain_text("live")
    row.locator("button", has_text="Revoke").click()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once only
    expect(page.locator("#keys tr", has_text="browser-key")).to_contain_text("revoked")


def test_a_viewer_sees_no_edit_controls(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        made = api.post("/api/request-logs/", json={"model": "gpt-4o"}).json()
    sign_in_page(page, org.users(engine, "viewer"))
    page.goto(f"/logs/{made['unique_id']}")
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    page.goto("/settings/keys")
    expect(page.locator("#keys")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)


def test_change_an_automations_sampling_rate(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        evaluator = api.post(
            "/api/evaluators/",
            json={"name": "Helpful", "type": "human", "score_value_type": "numerical"},
        ).json()
        cond = api.post(
            "/automation/conditions/",
            json={
                "name": "OK",
                "condition_slug": "ok",
                "condition_type": "single_log",
                "condition_policy": {"rules": [], "connector": "AND"},
            },
        ).json()
        auto = api.post(
            "/automation/automations/",
            json={
                "automation_slug": "quality",
                "name": "Quality",
                "automation_type": "online_eval",
                "condition": cond["id"],
                "evaluator_ids": [evaluator["id"]],
                "configuration": {"sampling_rate": 1.0},
                "is_enabled": True,
            },
        ).json()
        sign_in_page(page, org.users(engine, "member"))
        page.goto("/evaluation")
        page.click("#automations a:has-text('Quality')")
        page.fill("#edit-automation input[name=sampling_rate]", "0.25")
        page.click("#edit-automation button[type=submit]")
        expect(page.locator("main")).to_contain_text("sampling 25% of matching logs")
        stored = api.get(f"/automation/automations/{auto['id']}/").json()
        assert stored["configuration"]["sampling_rate"] == 0.25 and stored["is_enabled"]


def test_create_a_dataset_from_a_filter(
    page: Page, server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        for model in ("gpt-4o", "gpt-4o", "claude"):
            api.post("/api/request-logs/", json={"model": model})
    sign_in_page(page, org.users(engine, "member"))
    page.goto("/logs?model=gpt-4o")
    expect(page.locator("#log-rows tr.row")).to_have_count(2)
    page.click("#to-dataset")
    page.fill("#new-dataset input[name=name]", "GPT-4o traffic")
    page.click("#new-dataset button[type=submit]")
    expect(page.locator("h1")).to_contain_text("GPT-4o traffic")
    for _ in range(60):  # filled by a background job
        if page.locator("#dataset-logs tr.row").count() == 2:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#dataset-logs tr.row")).to_have_count(2)
