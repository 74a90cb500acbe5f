"""UI fixtures: a browser-like HTTP client (cookies kept, CSRF tokens read off the pages),
signed-in users of an organization of their own, and one Chromium for the whole session."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from llmtrail.core.keys import authenticate, create_key
from llmtrail.core.users import create_user
from tests.conftest import PASSWORD, Server

CHROMIUM = "/usr/bin/chromium"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class Browserless(httpx.Client):
    """Talks to the UI as a browser would: keeps its cookies, sends forms with the token of
    the page they came from."""

    def token(self, path: str = "/signin") -> str:
        page = self.get(path)
        found = CSRF.search(page.text)
        assert found, f"no CSRF token on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        return self.post(action, data={"csrf_token": self.token(page), **fields})

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.submit("/signin", "/signin", email=email, password=password)


@dataclass
class Org:
    """An organization with a key (to write logs through the API) and its org id."""

    name: str
    key: str
    org_id: int

    def users(self, engine: Engine, role: str) -> str:
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        create_user(engine, email=email, password=PASSWORD, org=self.name, role=role)
        return email

    def api(self, base_url: str) -> httpx.Client:
        return httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30
        )


def new_org(engine: Engine) -> Org:
    name = f"org-{uuid.uuid4().hex[:10]}"
    _, key = create_key(engine, org=name)
    return Org(name, key, authenticate(engine, key).org_id)  # type: ignore[union-attr]


@pytest.fixture
def org(server: Server, engine: Engine) -> Org:
    return new_org(engine)


def browserless(base_url: str) -> Browserless:
    return Browserless(base_url=base_url, timeout=30)


@pytest.fixture
def signed_in(server: Server, engine: Engine, org: Org) -> Iterator[Browserless]:
    """A member of `org`, signed in."""
    with browserless(server.base_url) as client:
        assert client.sign_in(org.users(engine, "member")).status_code == 303
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per module; each test opens a context (cookies) of its own.

    Not per session: Playwright's sync API keeps an event loop running on the thread while it
    lives, and every later test in the same worker that calls `asyncio.run` would fail.
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in_page(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
