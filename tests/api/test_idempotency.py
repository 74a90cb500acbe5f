"""Retries of a create do not duplicate logs: the `Idempotency-Key` header on the Keywords AI
create and bulk routes and the Humanloop log routes answers a retry as the first request was
answered, and the ids a client chooses (`unique_id`, `log_id`) refuse a second copy."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from llmtrail.core.idempotency import Claim
from llmtrail.core.keys import create_key, organization
from llmtrail.errors import Conflict
from llmtrail.store.writer import apply
from tests.conftest import Tenant
from tests.helpers import in_writer

KW = "/api/request-logs"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def logged(api: httpx.Client, marker: str) -> int:
    """How many logs carry `marker` as their custom identifier."""
    listed = api.get(f"{KW}/list/", params={"custom_identifier": marker})
    assert listed.status_code == 200, listed.text
    return listed.json()["count"]


def a_log(marker: str, **more: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "custom_identifier": marker,
        "completion_message": {"role": "assistant", "content": "hi"},
        **more,
    }


@pytest.mark.parametrize("path", [f"{KW}/", f"{KW}/create/"])
def test_a_retried_create_is_answered_again_and_written_once(api: httpx.Client, path: str) -> None:
    marker, headers = uuid.uuid4().hex, key()
    first = api.post(path, json=a_log(marker), headers=headers)
    again = api.post(path, json=a_log(marker), headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert logged(api, marker) == 1


def test_a_retried_bulk_is_written_once(api: httpx.Client) -> None:
    marker, headers = uuid.uuid4().hex, key()
    body = {"logs": [a_log(marker), a_log(marker), {"cost": -1}]}
    first = api.post(f"{KW}/bulk/", json=body, headers=headers)
    again = api.post(f"{KW}/bulk/", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and first.json()["success_count"] == 2
    assert logged(api, marker) == 2


def test_the_same_key_with_another_body_is_refused_naming_the_header(api: httpx.Client) -> None:
    marker, headers = uuid.uuid4().hex, key()
    assert api.post(f"{KW}/", json=a_log(marker), headers=headers).status_code == 201
    other = api.post(f"{KW}/", json=a_log(marker, note="changed"), headers=headers)
    assert other.status_code == 409, other.text
    assert "Idempotency-Key" in other.json()["detail"]
    bulk = api.post(f"{KW}/bulk/", json={"logs": [a_log(marker)]}, headers=headers)
    assert bulk.status_code == 409, bulk.text  # another path is another request
    assert logged(api, marker) == 1


def test_a_bad_key_is_refused(api: httpx.Client) -> None:
    refused = api.post(f"{KW}/", json=a_log("x"), headers={"Idempotency-Key": "k" * 256})
    assert refused.status_code == 400, refused.text
    assert "Idempotency-Key" in refused.json()


def test_keys_belong_to_their_organization(tenant_factory) -> None:  # type: ignore[no-untyped-def]
    marker, headers = uuid.uuid4().hex, key()
    with tenant_factory().client() as one, tenant_factory().client() as other:
        mine = one.post(f"{KW}/", json=a_log(marker), headers=headers)
        theirs = other.post(f"{KW}/", json=a_log(marker), headers=headers)
        assert mine.status_code == theirs.status_code == 201, theirs.text
        assert "Idempotent-Replayed" not in theirs.headers
        assert mine.json()["unique_id"] != theirs.json()["unique_id"]
        assert logged(one, marker) == logged(other, marker) == 1


def test_twins_sent_at_once_are_written_once(api: httpx.Client) -> None:
    marker, headers = uuid.uuid4().hex, key()
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: api.post(f"{KW}/", json=a_log(marker), headers=headers), range(8))
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["unique_id"] for a in answers}) == 1
    assert logged(api, marker) == 1


@pytest.mark.parametrize("kind", ["prompt", "tool", "flow"])
def test_a_retried_humanloop_log_is_written_once(tenant: Tenant, kind: str) -> None:
    path, headers = f"retries/{uuid.uuid4().hex[:8]}", key()
    body = {
        "path": path,
        "output": "x",
        **({"tool": {"function": {"name": "f"}}} if kind == "tool" else {}),
    }
    with tenant.client("x-api-key") as api:
        first = api.post(f"/v5/{kind}s/log", json=body, headers=headers)
        again = api.post(f"/v5/{kind}s/log", json=body, headers=headers)
        assert first.status_code == again.status_code == 200, again.text
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        file_id = first.json()[f"{kind}_id"]
        listed = api.get("/v5/logs", params={"file_id": file_id})
        assert listed.json()["total"] == 1


def test_client_chosen_ids_refuse_a_second_copy(tenant: Tenant) -> None:
    unique_id = uuid.uuid4().hex
    with tenant.client() as api:
        body = a_log(unique_id, unique_id=unique_id)
        assert api.post(f"{KW}/", json=body).status_code == 201
        assert api.post(f"{KW}/", json=body).status_code == 409
        assert logged(api, unique_id) == 1
    with tenant.client("x-api-key") as api:
        log_id = uuid.uuid4().hex
        body = {"path": f"retries/{log_id[:8]}", "log_id": log_id, "output": "x"}
        first = api.post("/v5/prompts/log", json=body)
        assert first.status_code == 200, first.text
        assert api.post("/v5/prompts/log", json=body).status_code == 409
        listed = api.get("/v5/logs", params={"file_id": first.json()["prompt_id"]})
        assert listed.json()["total"] == 1


def test_an_expired_key_is_free_again(engine: Engine) -> None:
    name = f"org-{uuid.uuid4().hex[:10]}"
    create_key(engine, org=name)
    org_id = organization(engine, name)
    claim = Claim.of(org_id, "k", b"POST /api/request-logs/\n{}", lifetime_seconds=0.5)

    async def remember(writer):  # type: ignore[no-untyped-def]
        await apply(writer, claim.receipt(201, {"n": 1}))

    in_writer(engine, remember)
    assert claim.stored(engine).body == b'{"n":1}'  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        Claim.of(org_id, "k", b"POST /api/request-logs/\n{ }", 1).stored(engine)
    time.sleep(0.6)
    assert claim.stored(engine) is None
    in_writer(engine, remember)  # the expired answer is replaced, not a conflict
    assert claim.stored(engine) is not None
