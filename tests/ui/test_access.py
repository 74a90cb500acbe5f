"""Signing in, the first-run page, the session cookie, CSRF and the pages' headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from llmtrail.core import users
from llmtrail.store.database import make_engine
from tests.conftest import PASSWORD, Server, new_database, start_server, stop_server
from tests.ui.conftest import Browserless, Org, browserless


def test_pages_ask_for_sign_in_and_come_back_after_it(
    server: Server, engine: Engine, org: Org
) -> None:
    with browserless(server.base_url) as client:
        asked = client.get("/logs?model=gpt-4o")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/signin?next=/logs%3Fmodel%3Dgpt-4o"
        email = org.users(engine, "member")
        wrong = client.submit("/signin", "/signin", email=email, password="not the password")
        assert wrong.status_code == 401
        assert "No active account found with the given credentials" in wrong.text
        signed = client.submit(
            "/signin", "/signin", email=email, password=PASSWORD, next="/logs?model=gpt-4o"
        )
        assert (signed.status_code, signed.headers["location"]) == (303, "/logs?model=gpt-4o")
        cookie = next(c for c in signed.headers.get_list("set-cookie") if "llmtrail_session" in c)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        assert client.get("/logs").status_code == 200


def test_next_never_leaves_the_site(server: Server, engine: Engine, org: Org) -> None:
    with browserless(server.base_url) as client:
        email = org.users(engine, "member")
        for target in ("https://evil.example/", "//evil.example/"):
            signed = client.submit(
                "/signin", "/signin", email=email, password=PASSWORD, next=target
            )
            assert signed.headers["location"] == "/logs"


def test_the_session_cookie_is_secure_over_https(server: Server, engine: Engine, org: Org) -> None:
    """Behind a TLS proxy on the same host (X-Forwarded-Proto, trusted from loopback). The
    client speaks plain HTTP to it, so it sends the Secure cookie back by hand."""
    https = {"X-Forwarded-Proto": "https"}
    with Browserless(base_url=server.base_url, headers=https, timeout=30) as client:
        token = client.token("/signin")
        nonce = client.cookies["llmtrail_csrf"]
        signed = client.post(
            "/signin",
            data={"csrf_token": token, "email": org.users(engine, "viewer"), "password": PASSWORD},
            headers={"Cookie": f"llmtrail_csrf={nonce}"},
        )
        cookies = signed.headers.get_list("set-cookie")
        assert signed.status_code == 303 and len(cookies) == 2  # the session, a new nonce
        assert all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_a_forged_post_is_refused(signed_in: Browserless) -> None:
    """Without the token, with another browser's, or with no CSRF cookie at all: 403, and
    the session goes on (the sign-out did not happen)."""
    assert signed_in.post("/signout").status_code == 403
    assert signed_in.post("/signout", data={"csrf_token": "0" * 64}).status_code == 403
    token = signed_in.token("/logs")
    with browserless(str(signed_in.base_url)) as other:
        other.cookies.set("llmtrail_session", signed_in.cookies["llmtrail_session"])
        refused = other.post("/signout", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "CSRF token is missing or wrong" in refused.text
    assert signed_in.get("/logs").status_code == 200
    out = signed_in.post("/signout", headers={"X-CSRF-Token": token})
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert signed_in.get("/logs").status_code == 303


def test_pages_carry_security_headers(server: Server) -> None:
    with browserless(server.base_url) as client:
        page = client.get("/signin")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.integration
def test_the_first_run_page_creates_one_admin_once(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a data dir of its own: the session's server has users already."""
    with new_database("sqlite", tmp_path_factory) as url:
        fresh = start_server(url, tmp_path)
        try:
            with browserless(fresh.base_url) as client:
                assert client.get("/").headers["location"] == "/setup"
                assert client.post("/setup", data={"email": "a@example.com"}).status_code == 403
                differ = client.submit(
                    "/setup", "/setup", email="a@x.io", password=PASSWORD, repeat="other pass"
                )
                assert differ.status_code == 400 and "the two passwords differ" in differ.text
                made = client.submit(
                    "/setup",
                    "/setup",
                    email="Admin@Example.com",
                    password=PASSWORD,
                    repeat=PASSWORD,
                )
                assert (made.status_code, made.headers["location"]) == (303, "/logs")
                assert "admin" in client.get("/logs").text
            with browserless(fresh.base_url) as late:
                assert late.get("/").headers["location"] == "/logs"
                assert late.get("/setup").headers["location"] == "/signin"
                token = late.token("/signin")
                again = late.post(
                    "/setup",
                    data={
                        "csrf_token": token,
                        "email": "b@example.com",
                        "password": PASSWORD,
                        "repeat": PASSWORD,
                    },
                )
                assert again.headers["location"] == "/signin"
            engine = make_engine(url)
            listed = users.list_users(engine)
            engine.dispose()
            assert [(u.email, u.role) for u in listed] == [("admin@example.com", "admin")]
        finally:
            stop_server(fresh)
