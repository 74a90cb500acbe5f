"""The audit trail: each change to keys, users, evaluators, automations and conditions leaves
a row saying who made it, and `GET /api/audit/` shows them to the organization's admins."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine

from llmtrail.core import keys, users
from llmtrail.core.keys import authenticate
from tests.conftest import Person, Server, Tenant

RULE = {
    "type": "rule",
    "score_value_type": "boolean",
    "rule_config": {"rule": "contains", "value": "x"},
}
POLICY = {"rules": [{"field": "status_code", "operator": "equals", "value": 200}]}


def trail(server: Server, admin: Person, **params: Any) -> list[tuple[Any, ...]]:
    """(actor_type, actor_id, action, object_type, object_id, changes), oldest first."""
    response = httpx.get(
        f"{server.base_url}/api/audit/", params={"page_size": 100, **params}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return [
        (
            r["actor_type"],
            r["actor_id"],
            r["action"],
            r["object_type"],
            r["object_id"],
            r["changes"],
        )
        for r in reversed(response.json()["results"])
    ]


def user_id(person: Person, server: Server) -> int:
    return httpx.get(f"{server.base_url}/auth/users/me/", headers=person.headers).json()["id"]


def test_changes_through_the_api_name_the_user_or_key_that_made_them(
    server: Server, engine: Engine, tenant: Tenant, person_factory
) -> None:
    admin = person_factory(tenant.org, "admin")
    admin_id = user_id(admin, server)
    with httpx.Client(base_url=server.base_url, headers=admin.headers) as api:
        evaluator = api.post("/api/evaluators/", json={"name": "e", **RULE}).json()["id"]
        api.patch(f"/api/evaluators/{evaluator}/", json={"description": "d"})
        condition_body = {
            "name": "ok",
            "condition_slug": "ok",
            "condition_type": "single_log",
            "condition_policy": POLICY,
        }
        condition = api.post("/automation/conditions/", json=condition_body).json()["id"]
        api.patch(f"/automation/conditions/{condition}/", json={"name": "fine"})
        automation_body = {
            "automation_slug": "a",
            "name": "a",
            "automation_type": "online_eval",
            "condition": condition,
            "evaluator_ids": [evaluator],
            "configuration": {"sampling_rate": 1},
        }
        automation = api.post("/automation/automations/", json=automation_body).json()["id"]
        api.patch(f"/automation/automations/{automation}/", json={"is_enabled": True})
        assert api.delete(f"/automation/automations/{automation}/").status_code == 204
        assert api.delete(f"/automation/conditions/{condition}/").status_code == 204
        assert api.delete(f"/api/evaluators/{evaluator}/").status_code == 204
    with tenant.client() as keyed:
        by_key = keyed.post("/api/evaluators/", json={"name": "k", **RULE}).json()["id"]
    key_id = authenticate(engine, tenant.key).key_id  # type: ignore[union-attr]

    rows = trail(server, admin)
    assert rows[0][:4] == ("cli", None, "created", "key")  # the tenant's key
    assert rows[1] == ("cli", None, "created", "user", str(admin_id), {"role": "admin"})
    me = ("user", admin_id)
    assert rows[2:] == [
        (*me, "created", "evaluator", evaluator, None),
        (*me, "changed", "evaluator", evaluator, {"fields": ["description"]}),
        (*me, "created", "condition", condition, None),
        (*me, "changed", "condition", condition, {"fields": ["name"]}),
        (*me, "created", "automation", automation, None),
        (*me, "changed", "automation", automation, {"fields": ["is_enabled"]}),
        (*me, "deleted", "automation", automation, None),
        (*me, "deleted", "condition", condition, None),
        (*me, "deleted", "evaluator", evaluator, None),
        ("key", key_id, "created", "evaluator", by_key, None),
    ]


def test_humanloop_evaluators_and_monitors_are_audited_too(
    server: Server, tenant: Tenant, person_factory
) -> None:
    admin = person_factory(tenant.org, "admin")
    spec = {"arguments_type": "target_free", "return_type": "number", "evaluator_type": "human"}
    with tenant.client("x-api-key") as api:
        judge = api.post("/v5/evaluators", json={"path": "e/judge", "spec": spec}).json()
        flow = api.post("/v5/flows", json={"path": "f", "attributes": {}}).json()
        activate = {"activate": [{"evaluator_version_id": judge["version_id"]}]}
        assert api.post(f"/v5/flows/{flow['id']}/evaluators", json=activate).is_success
        assert api.delete(f"/v5/evaluators/{judge['id']}").status_code == 204
    actions = [(action, kind) for _, _, action, kind, _, _ in trail(server, admin)[2:]]
    assert actions == [
        ("created", "evaluator"),
        ("created", "automation"),
        ("changed", "automation"),  # the deleted evaluator leaves the monitor
        ("deleted", "evaluator"),
    ]


def test_keys_and_users_changed_at_the_command_line(
    server: Server, engine: Engine, tenant: Tenant, person_factory
) -> None:
    admin = person_factory(tenant.org, "admin")
    other = person_factory(tenant.org, "member")
    info, _ = keys.create_key(engine, org=tenant.org, role="viewer")
    keys.revoke_key(engine, info.id)
    users.set_role(engine, other.email, tenant.org, "viewer")
    users.disable_user(engine, other.email)
    other_id = next(u.id for u in users.list_users(engine) if u.email == other.email)
    assert trail(server, admin)[3:] == [
        ("cli", None, "created", "key", str(info.id), {"role": "viewer"}),
        ("cli", None, "deleted", "key", str(info.id), None),
        ("cli", None, "changed", "user", str(other_id), {"role": ["member", "viewer"]}),
        ("cli", None, "changed", "user", str(other_id), {"disabled": True}),
    ]


def test_a_refused_change_leaves_no_row(server: Server, tenant: Tenant, person_factory) -> None:
    admin = person_factory(tenant.org, "admin")
    with tenant.client() as api:
        body = {"name": "e", "evaluator_slug": "same", **RULE}
        assert api.post("/api/evaluators/", json=body).status_code == 201
        assert api.post("/api/evaluators/", json=body).status_code == 409
        assert api.patch("/api/evaluators/nope/", json={"name": "n"}).status_code == 404
    assert [row[2:4] for row in trail(server, admin)[2:]] == [("created", "evaluator")]


def test_the_trail_is_paged_and_for_its_own_admins_only(
    server: Server, tenant_factory, person_factory
) -> None:
    tenant, stranger = tenant_factory(), tenant_factory()
    admin = person_factory(tenant.org, "admin")
    member = person_factory(tenant.org, "member")
    outsider = person_factory(stranger.org, "admin")
    url = f"{server.base_url}/api/audit/"
    first = httpx.get(url, params={"page_size": 2}, headers=admin.headers).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    second = httpx.get(first["next"], headers=admin.headers).json()
    assert second["next"] is None and len(second["results"]) == 1
    assert second["results"][0]["id"] < first["results"][1]["id"]  # newest first
    assert all(r["object_type"] in ("key", "user") for r in first["results"] + second["results"])
    theirs = httpx.get(url, headers=outsider.headers).json()["results"]
    assert [r["object_type"] for r in theirs] == ["user", "key"]  # its own org's alone
    for headers, role in ((member.headers, "member"), ({"X-API-KEY": tenant.key}, "member")):
        refused = httpx.get(url, headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": f"Your role, {role}, may not do this: it is for admins only."
        }
