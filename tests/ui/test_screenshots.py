"""`llmtrail demo` into a fresh data dir, then every page of the UI on it, in Chromium: the
screenshots in docs/ui/ are taken here (the README shows the logs page's). They are written
into docs/ui/ only by `make screenshots` (LLMTRAIL_UPDATE_SCREENSHOTS=1), so a test run
leaves the working tree as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from llmtrail.core import users
from llmtrail.store.database import make_engine
from tests.conftest import PASSWORD, Server, new_database, start_server, stop_server
from tests.ui.conftest import sign_in_page

SHOTS = Path(__file__).parents[2] / "docs" / "ui"
ADMIN = "admin@example.com"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("demo")
    with new_database("sqlite", tmp_path_factory) as url:
        env = {**os.environ, "LLMTRAIL_DATA_DIR": str(data_dir), "LLMTRAIL_DATABASE_URL": url}
        cli = Path(sys.executable).with_name("llmtrail")
        loaded = subprocess.run(
            [str(cli), "demo"], env=env, capture_output=True, text=True, timeout=300
        )
        assert loaded.returncode == 0, loaded.stderr
        assert "logs in 80 traces" in loaded.stderr
        engine = make_engine(url)
        users.create_first_admin(engine, email=ADMIN, password=PASSWORD)
        engine.dispose()
        server = start_server(url, data_dir)
        yield server
        stop_server(server)


@pytest.fixture
def demo_page(browser: Browser, demo_server: Server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=demo_server.base_url, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    sign_in_page(page, ADMIN)
    yield page
    context.close()


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Page, str], None]:
    folder = SHOTS if os.environ.get("LLMTRAIL_UPDATE_SCREENSHOTS") else tmp_path

    def take(page: Page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
        assert (folder / f"{name}.png").stat().st_size > 10_000  # a page, not a blank

    return take


@pytest.mark.integration
def test_every_page_on_the_demo_data(demo_page: Page, shot: Callable[[Page, str], None]) -> None:
    page = demo_page
    page.goto("/logs?range=7d")
    expect(page.locator("#log-rows tr.row")).to_have_count(50)
    shot(page, "logs")
    page.locator("#log-rows tr.row a", has_text="answer").first.click()
    expect(page.locator(".msg.user")).to_have_count(1)
    shot(page, "log")
    page.goto("/logs?range=7d&span_name=rerank")  # a trace three levels deep
    page.locator("#log-rows tr.row a").first.click()
    page.click("#open-trace")
    expect(page.locator("#trace-summary")).to_contain_text("spans")
    page.locator("#trace button.toggle").first.click()
    expect(page.locator("#trace .span", has_text="rerank")).to_be_visible()
    shot(page, "trace")
    page.goto("/dashboard?range=7d")
    expect(page.locator("canvas")).to_have_count(4)  # uPlot drew every chart under the CSP
    shot(page, "dashboard")
    page.goto("/evaluation")
    expect(page.locator(".dist-row").first).to_be_visible()
    shot(page, "evaluation")
    page.goto("/data")
    page.locator("#datasets a", has_text="Demo").first.click()
    for _ in range(60):  # filled by the server's worker
        if page.locator("#dataset-logs tr.row").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#dataset-logs tr.row").first).to_be_visible()
    shot(page, "dataset")
    page.goto("/settings/keys")
    shot(page, "settings")
