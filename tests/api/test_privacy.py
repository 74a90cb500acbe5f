"""Privacy against a live server: an organization's admins choose what is masked in its new
logs (`/api/privacy/`), every dialect stores them masked and `blurred`, other organizations
are untouched; a retention deletes old logs with everything kept beside them, in batches."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, func, select

from llmtrail.api.otlp.mapping.spans import log_id
from llmtrail.core import keys, retention
from llmtrail.core.ids import utcnow
from llmtrail.store import privacy as privacy_store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import log_metadata, log_rollups, logs
from tests.api.keywords.test_datasets import DS, empty_dataset, log_ids, made, settled
from tests.api.keywords.test_evaluation import eventually
from tests.api.otlp.examples import export, span
from tests.conftest import Person, Server, Tenant

SECRETS = (
    "mail jo@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, sk-abcdefghij0123456789"
)
MASKED = "mail [email], call [phone], card [card], [secret]"
ALL = {"maskers": ["email", "phone", "card", "secret"], "custom_patterns": [r"ACME-\d{4}"]}


def admin_client(server: Server, admin: Person) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=admin.headers, timeout=30)


@pytest.fixture
def masked_tenant(server: Server, tenant: Tenant, person_factory) -> Tenant:
    """A tenant whose admin switched on every masker and a pattern of its own."""
    with admin_client(server, person_factory(tenant.org, "admin")) as admin:
        made(admin.patch("/api/privacy/", json=ALL), 200)
    return tenant


def keywords_log(api: httpx.Client, **fields: Any) -> str:
    body = {
        "model": "gpt-4o",
        "prompt_messages": [{"role": "user", "content": SECRETS}],
        "completion_message": {"role": "assistant", "content": "ticket ACME-1234"},
        "metadata": {"contact": "jo@example.com", "plain": "hello"},
        **fields,
    }
    return made(api.post("/api/request-logs/", json=body))["unique_id"]


def test_admins_read_and_change_the_settings(server: Server, tenant: Tenant, person_factory):
    with admin_client(server, person_factory(tenant.org, "admin")) as admin:
        empty = made(admin.get("/api/privacy/"), 200)
        assert empty == {
            "maskers": [],
            "custom_patterns": [],
            "retention_days": None,
            "updated_at": None,
        }
        changed = made(admin.patch("/api/privacy/", json={"maskers": ["secret", "email"]}), 200)
        assert changed["maskers"] == ["email", "secret"] and changed["updated_at"]
        kept = made(admin.patch("/api/privacy/", json={"retention_days": 30}), 200)
        assert kept["maskers"] == ["email", "secret"] and kept["retention_days"] == 30
        forever = made(admin.patch("/api/privacy/", json={"retention_days": None}), 200)
        assert forever["retention_days"] is None
        assert made(admin.get("/api/privacy/"), 200) == forever
        trail = made(admin.get("/api/audit/"), 200)["results"]
        assert [r["object_type"] for r in trail[:3]] == ["privacy"] * 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"custom_patterns": ["ok", "(unclosed"]}, "custom_patterns"),
        ({"custom_patterns": ["(a+)+$"]}, "custom_patterns"),
        ({"maskers": ["ssn"]}, "maskers"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention": 3}, "retention"),
    ],
)
def test_bad_settings_are_400_naming_the_field(
    server: Server, tenant: Tenant, person_factory, body: dict, field: str
) -> None:
    with admin_client(server, person_factory(tenant.org, "admin")) as admin:
        answer = admin.patch("/api/privacy/", json=body)
        assert answer.status_code == 400, answer.text
        assert field in answer.text
        assert made(admin.get("/api/privacy/"), 200)["custom_patterns"] == []


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_only_admins_see_or_change_the_settings(
    server: Server, tenant: Tenant, person_factory, role: str
) -> None:
    with admin_client(server, person_factory(tenant.org, role)) as person:
        assert person.patch("/api/privacy/", json={"maskers": []}).status_code == 403
        assert person.get("/api/privacy/").status_code == 403
    with tenant.client() as api:  # an API key is never an admin
        assert api.get("/api/privacy/").status_code == 403


def test_keywords_logs_are_stored_masked_and_blurred(masked_tenant: Tenant) -> None:
    with masked_tenant.client() as api:
        unique_id = keywords_log(api)
        got = made(api.get(f"/api/request-logs/{unique_id}/"), 200)
        assert got["blurred"] is True
        assert got["prompt_messages"][0]["content"] == MASKED
        assert got["completion_message"]["content"] == "ticket [masked]"
        assert got["metadata"] == {"contact": "[email]", "plain": "hello"}
        assert "jo@example.com" not in orjson.dumps(got).decode()
        listed = made(api.post("/api/request-logs/list/", json={}), 200)["results"]
        assert [(r["unique_id"], r["blurred"]) for r in listed] == [(unique_id, True)]
        bulk = {"logs": [{"model": "m", "output": "reach me at jo@example.com"}]}
        made(api.post("/api/request-logs/bulk/", json=bulk))
        listed = made(api.post("/api/request-logs/list/", json={}), 200)["results"]
        assert listed[0]["output"] == "reach me at [email]" and listed[0]["blurred"]
        # Annotations are masked as well.
        patch = {"metadata": {"phone": "555-123-4567"}}
        patched = made(api.patch(f"/api/request-logs/{unique_id}/", json=patch), 200)
        assert patched["metadata"]["phone"] == "[phone]"
        batch = {"logs": [{"unique_id": unique_id, "metadata": {"card": "4111111111111111"}}]}
        made(api.patch("/api/request-logs/batch-update/", json=batch), 200)
        got = made(api.get(f"/api/request-logs/{unique_id}/"), 200)
        assert got["metadata"]["card"] == "[card]"


def test_humanloop_logs_are_stored_masked_and_not_found_by_what_was_masked(
    masked_tenant: Tenant,
) -> None:
    with masked_tenant.client("x-api-key") as hl:
        body = {
            "path": "privacy/prompt",
            "prompt": {"model": "gpt-4o"},
            "messages": [{"role": "user", "content": SECRETS}],
            "output": "your card 4111-1111-1111-1111 is on file",
            "inputs": {"email": "jo@example.com"},
        }
        created = made(hl.post("/v5/prompts/log", json=body), 200)
        got = made(hl.get(f"/v5/logs/{created['id']}"), 200)
        assert got["messages"][0]["content"] == MASKED
        assert got["output"] == "your card [card] is on file"
        assert got["inputs"] == {"email": "[email]"}
        file_id = got["prompt"]["id"]

        def search(text: str) -> list[str]:
            params = {"file_id": file_id, "search": text}
            return [r["id"] for r in made(hl.get("/v5/logs", params=params), 200)["records"]]

        assert search("jo@example") == [], "the search index holds the masked text only"
        assert search("[card]") == [created["id"]]
        # What an update brings is masked as well.
        update = {"output": "now call 555-123-4567"}
        made(hl.patch(f"/v5/prompts/{file_id}/log/{created['id']}", json=update), 200)
        assert made(hl.get(f"/v5/logs/{created['id']}"), 200)["output"] == "now call [phone]"


def test_otlp_spans_are_stored_masked(masked_tenant: Tenant) -> None:
    trace, span_id = os.urandom(16).hex(), os.urandom(8).hex()
    sent = span("llm", trace, span_id, input__value="from jo@example.com", output__value="ok")
    with masked_tenant.client() as api:
        answer = api.post(
            "/v1/traces",
            content=orjson.dumps(export([sent])),
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        got = made(api.get(f"/api/request-logs/{log_id(trace, span_id)}/"), 200)
        assert got["blurred"] is True
        assert "jo@example.com" not in orjson.dumps(got).decode()
        assert "[email]" in orjson.dumps(got["input"]).decode()


def test_genai_events_that_fill_a_span_later_are_masked(masked_tenant: Tenant) -> None:
    trace, span_id = os.urandom(16).hex(), os.urandom(8).hex()
    chat = span("chat", trace, span_id, gen_ai__operation__name="chat", gen_ai__request__model="m")
    user = [{"key": "content", "value": {"stringValue": "I am jo@example.com"}}]
    record = {
        "timeUnixNano": "1700000000000000001",
        "eventName": "gen_ai.user.message",
        "traceId": trace,
        "spanId": span_id,
        "body": {"kvlistValue": {"values": user}},
    }
    events = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    json = {"Content-Type": "application/json"}
    with masked_tenant.client() as api:
        sent = api.post("/v1/traces", content=orjson.dumps(export([chat])), headers=json)
        assert sent.status_code == 200, sent.text
        got = made(api.get(f"/api/request-logs/{log_id(trace, span_id)}/"), 200)
        assert got["blurred"] is False, "nothing to mask yet"
        filled = api.post("/v1/logs", content=orjson.dumps(events), headers=json)
        assert filled.status_code == 200, filled.text
        got = made(api.get(f"/api/request-logs/{log_id(trace, span_id)}/"), 200)
        assert got["prompt_messages"] == [{"role": "user", "content": "I am [email]"}]
        assert got["blurred"] is True


def test_an_organization_without_settings_stores_text_as_sent(
    masked_tenant: Tenant, tenant_factory
) -> None:
    other = tenant_factory()  # its neighbour masks everything: that is not this one's rule
    with other.client() as api:
        unique_id = keywords_log(api)
        got = made(api.get(f"/api/request-logs/{unique_id}/"), 200)
        assert got["blurred"] is False
        assert got["prompt_messages"][0]["content"] == SECRETS
        assert got["metadata"] == {"contact": "jo@example.com", "plain": "hello"}


# Retention


def old_and_new(
    api: httpx.Client, old: int, new: int, customer: str
) -> tuple[list[str], list[str]]:
    """`old` logs of ten days ago and `new` ones of now, with metadata; their ids."""
    then = (datetime.now(UTC) - timedelta(days=10)).isoformat()

    def write(count: int, **fields: Any) -> list[str]:
        logs_ = [
            {
                "model": "gpt-4o",
                "output": f"answer {n}",
                "customer_identifier": customer,
                "prompt_tokens": 10,
                "metadata": {"batch": customer},
                **fields,
            }
            for n in range(count)
        ]
        return [made(api.post("/api/request-logs/", json=body))["unique_id"] for body in logs_]

    return write(old, timestamp=then), write(new)


def counts(engine: Engine, org_id: int) -> tuple[int, int, int]:
    """(logs, logs the rollups count, metadata index rows) of the organization."""
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).where(logs.c.org_id == org_id))
        rolled = conn.scalar(
            select(func.coalesce(func.sum(log_rollups.c.n), 0)).where(
                log_rollups.c.org_id == org_id
            )
        )
        indexed = conn.scalar(select(func.count()).where(log_metadata.c.org_id == org_id))
    return stored, int(rolled), indexed


def test_retention_deletes_old_logs_in_batches_with_what_is_kept_beside_them(
    engine: Engine, tenant: Tenant
) -> None:
    org_id = keys.organization(engine, tenant.org)
    with tenant.client() as api:
        old, new = old_and_new(api, 5, 2, "kept-a-while")
        dataset = empty_dataset(api)["id"]
        window = {
            "start_time": (datetime.now(UTC) - timedelta(days=11)).isoformat(),
            "end_time": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }
        made(api.post(f"{DS}/{dataset}/logs/bulk/", json=window), 200)
        settled(api, dataset)
        assert counts(engine, org_id) == (7, 7, 7)
        # Set here, not through the API: the server's worker would sweep at once, and this
        # test counts the batches of its own sweep.
        with begin_write(engine) as conn:
            privacy_store.put(
                conn, org_id, maskers=[], custom_patterns=[], retention_days=7, updated_at=utcnow()
            )
        progress: list[int] = []
        swept = retention.run_once(
            engine, batch=2, org_id=org_id, progress=lambda _, n: progress.append(n)
        )
        assert swept == {org_id: 5} and progress == [2, 4, 5]
        assert counts(engine, org_id) == (2, 2, 2)
        for unique_id in old:
            assert api.get(f"/api/request-logs/{unique_id}/").status_code == 404
        for unique_id in new:
            assert api.get(f"/api/request-logs/{unique_id}/").status_code == 200
        by_metadata = {"metadata__batch": {"operator": "", "value": ["kept-a-while"]}}
        listed = made(api.post("/api/request-logs/list/", json={"filters": by_metadata}), 200)
        assert sorted(r["unique_id"] for r in listed["results"]) == sorted(new)
        assert log_ids(api, dataset) == sorted(old + new), "datasets are snapshots: kept"
        again = retention.run_once(engine, batch=2, org_id=org_id)
        assert again == {org_id: 0} and counts(engine, org_id) == (2, 2, 2)


def test_setting_a_retention_sweeps_in_the_background(
    server: Server, engine: Engine, tenant: Tenant, tenant_factory, person_factory
) -> None:
    org_id = keys.organization(engine, tenant.org)
    neighbour = tenant_factory()
    with tenant.client() as api, neighbour.client() as theirs:
        old, new = old_and_new(api, 3, 1, "swept")
        their_old, _ = old_and_new(theirs, 1, 0, "not-mine")
        with admin_client(server, person_factory(tenant.org, "admin")) as admin:
            made(admin.patch("/api/privacy/", json={"retention_days": 7}), 200)
        assert eventually(lambda: counts(engine, org_id)[0] == 1, 60)
        assert api.get(f"/api/request-logs/{new[0]}/").status_code == 200
        assert all(api.get(f"/api/request-logs/{u}/").status_code == 404 for u in old)
        assert theirs.get(f"/api/request-logs/{their_old[0]}/").status_code == 200
