"""Settings: keys created (shown once) and revoked, roles changed, the audit trail; what a
member or a viewer sees and may not do."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from llmtrail.core import users
from tests.conftest import PASSWORD, Server
from tests.ui.conftest import Org, browserless

KEY = re.compile(r'<div class="key-once">(lt_[A-Za-z0-9_-]+)</div>')


def test_an_admin_creates_a_key_seen_once_and_revokes_it(
    server: Server, engine: Engine, org: Org
) -> None:
    with browserless(server.base_url) as admin:
        admin.sign_in(org.users(engine, "admin"))
        made = admin.submit(
            "/settings/keys", "/settings/keys", name="ci", environment="test", role="viewer"
        )
        assert made.status_code == 201
        plaintext = KEY.search(made.text).group(1)  # type: ignore[union-attr]
        listed = admin.get("/settings/keys").text
        assert plaintext not in listed and plaintext[:10] in listed
        reads = httpx.get(
            f"{server.base_url}/api/request-logs/list/",
            headers={"Authorization": f"Bearer {plaintext}"},
        )
        assert reads.status_code == 200  # a live viewer key of this organization
        key_id = re.search(r'<tr id="key-(\d+)"><td>ci</td>', listed).group(1)  # type: ignore[union-attr]
        revoked = admin.submit("/settings/keys", f"/settings/keys/{key_id}/revoke")
        assert revoked.status_code == 303
        row = admin.get("/settings/keys").text.split(f'id="key-{key_id}"')[1].split("</tr>")[0]
        assert "revoked" in row and "Revoke" not in row
        trail = admin.get("/settings/audit").text
        assert trail.count(f"key {key_id}") == 2 and "user" in trail


def test_an_admin_changes_a_role(server: Server, engine: Engine, org: Org) -> None:
    target = org.users(engine, "member")
    with browserless(server.base_url) as admin:
        admin.sign_in(org.users(engine, "admin"))
        page = admin.get("/settings/users").text
        assert target in page
        [info] = [u for u in users.list_users(engine) if u.email == target]
        changed = admin.submit("/settings/users", f"/settings/users/{info.id}/role", role="viewer")
        assert changed.status_code == 303
    assert [u.role for u in users.list_users(engine) if u.email == target] == ["viewer"]


def test_an_admin_adds_a_user_who_then_signs_in(server: Server, engine: Engine, org: Org) -> None:
    email, admin_email = f"new-{org.name}@example.com", org.users(engine, "admin")
    with browserless(server.base_url) as admin:
        admin.sign_in(admin_email)
        short = admin.submit("/settings/users", "/settings/users", email=email, password="x")
        assert short.status_code == 400 and "password" in short.text
        added = admin.submit(
            "/settings/users", "/settings/users", email=email, password=PASSWORD, role="viewer"
        )
        assert added.status_code == 303, added.text
        again = admin.submit("/settings/users", "/settings/users", email=email, password=PASSWORD)
        assert again.status_code == 409 and "already exists" in again.text
        trail = admin.get("/settings/audit").text
    listed = {u.email: u for u in users.list_users(engine, org.org_id)}
    assert listed[email].role == "viewer"
    by = listed[admin_email].id
    row = f"<td>user {by}</td><td>created</td><td>user {listed[email].id}</td>"
    assert row in trail  # who added whom
    with browserless(server.base_url) as newcomer:
        assert newcomer.sign_in(email).status_code == 303
        assert newcomer.get("/logs").status_code == 200


def test_members_and_viewers_see_no_controls_and_are_refused(
    server: Server, engine: Engine, org: Org
) -> None:
    for role in ("member", "viewer"):
        with browserless(server.base_url) as client:
            client.sign_in(org.users(engine, role))
            page = client.get("/settings/keys").text
            assert 'id="create-key"' not in page and "Revoke" not in page
            users_page = client.get("/settings/users").text.split("</header>")[1]
            assert "<select" not in users_page and 'id="new-user"' not in users_page
            refused = client.submit(
                "/settings/users", "/settings/users", email="x@example.com", password=PASSWORD
            )
            assert refused.status_code == 403
            refused = client.submit("/settings/keys", "/settings/keys", name="x")
            assert refused.status_code == 403 and "for admins only" in refused.text
            assert client.get("/settings/audit").status_code == 403


def test_an_admin_sets_privacy_and_new_logs_are_masked(
    server: Server, engine: Engine, org: Org
) -> None:
    with browserless(server.base_url) as admin:
        admin.sign_in(org.users(engine, "admin"))
        assert "Privacy and retention" in admin.get("/settings/keys").text
        form = {
            "csrf_token": admin.token("/settings/privacy"),
            "maskers": ["email", "card"],
            "custom_patterns": "ACME-\\d{4}\n",
            "retention_days": "30",
        }
        assert admin.post("/settings/privacy", data=form).status_code == 303
        page = admin.get("/settings/privacy").text
        assert 'value="email" checked' in page and 'value="phone" >' in page
        assert "ACME-\\d{4}</textarea>" in page and 'value="30"' in page
        unsafe = {
            **form,
            "csrf_token": admin.token("/settings/privacy"),
            "custom_patterns": "(a+)+",
        }
        refused = admin.post("/settings/privacy", data=unsafe)
        assert refused.status_code == 400 and "custom_patterns" in refused.text
        assert "ACME-\\d{4}</textarea>" in admin.get("/settings/privacy").text, "unchanged"
    with org.api(server.base_url) as api:
        body = {"model": "m", "output": "jo@example.com paid with 4111 1111 1111 1111, ACME-1234"}
        unique_id = api.post("/api/request-logs/", json=body).json()["unique_id"]
        got = api.get(f"/api/request-logs/{unique_id}/").json()
        assert (got["output"], got["blurred"]) == ("[email] paid with [card], [masked]", True)


def test_only_admins_see_the_privacy_settings(server: Server, engine: Engine, org: Org) -> None:
    with browserless(server.base_url) as member:
        member.sign_in(org.users(engine, "member"))
        assert "Privacy and retention" not in member.get("/settings/keys").text
        assert member.get("/settings/privacy").status_code == 403
        token = member.token("/settings/keys")
        form = {"csrf_token": token, "maskers": ["email"]}
        assert member.post("/settings/privacy", data=form).status_code == 403
