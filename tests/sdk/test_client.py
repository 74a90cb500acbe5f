"""`Client` and `AsyncClient` against a live server: every namespace's routes, the page
iterators, and the exceptions each failure raises."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from llmtrail.sdk import (
    AsyncClient,
    BadRequest,
    Client,
    Conflict,
    ConnectionFailed,
    NotFound,
    Overloaded,
    Unauthorized,
)
from llmtrail.sdk.models import CreatedLog, Log
from llmtrail.sdk.retry import Backoff
from tests.conftest import Tenant, free_port
from tests.fakes.openai_server import FakeOpenAI, Reply

MESSAGES = [{"role": "user", "content": "where is my refund?"}]
ANSWER = {"role": "assistant", "content": "your refund is on its way"}


@pytest.fixture
def client(tenant: Tenant) -> Iterator[Client]:
    with Client(tenant.key, base_url=tenant.base_url) as client:
        yield client


def test_logs_are_created_read_annotated_and_deleted(client: Client) -> None:
    created = client.logs.create(
        model="gpt-4o-mini",
        prompt_messages=MESSAGES,
        completion_message=ANSWER,
        usage={"prompt_tokens": 12, "completion_tokens": 6},
        latency=0.8,
        metadata={"feature": "sdk"},
    )
    assert isinstance(created, CreatedLog)
    log = client.logs.get(created.unique_id)
    assert isinstance(log, Log)
    assert (log.model, log.prompt_tokens, log.completion_tokens) == ("gpt-4o-mini", 12, 6)
    assert log.cost and log.cost > 0
    assert log.completion_message == ANSWER

    updated = client.logs.update(created.unique_id, note="checked", metadata={"reviewed": True})
    assert updated.note == "checked"
    assert updated.metadata == {"feature": "sdk", "reviewed": True}
    batch = client.logs.batch_update([{"unique_id": created.unique_id, "positive_feedback": True}])
    assert batch.updated_count == 1 and batch.logs[0].positive_feedback is True
    history = client.logs.history(created.unique_id)
    assert {r.field for r in history.results} == {"note", "metadata", "positive_feedback"}
    summary = client.logs.summary({"metadata__feature": {"operator": "", "value": "sdk"}})
    assert (summary.number_of_requests, summary.total_prompt_tokens) == (1, 12)

    client.logs.delete(created.unique_id)
    with pytest.raises(NotFound) as missing:
        client.logs.get(created.unique_id)
    assert missing.value.status == 404
    assert missing.value.body == {"detail": "Log not found"}


def test_iter_follows_next_links_one_page_at_a_time(client: Client) -> None:
    marker = uuid.uuid4().hex
    rows = [{"model": "m", "input": f"q{i}", "metadata": {"batch": marker}} for i in range(7)]
    assert client.logs.bulk_create(rows).success_count == 7
    requests: list[httpx.Request] = []
    client._http.event_hooks["request"].append(requests.append)
    selected = {"metadata__batch": {"operator": "", "value": marker}}

    logs = client.logs.iter(selected, page_size=3)
    assert requests == []  # nothing is fetched before it is asked for
    first = [next(logs) for _ in range(3)]
    assert len(requests) == 1
    rest = list(logs)
    assert len(requests) == 3  # 3 + 3 + 1
    assert len({log.unique_id for log in first + rest}) == 7
    assert all(r.method == "POST" and marker.encode() in r.content for r in requests)
    page = client.logs.list(selected, page_size=3, page=3)
    assert (page.count, len(page.results), page.next) == (7, 1, None)


def test_the_evaluation_namespaces(client: Client) -> None:
    evaluator = client.evaluators.create(
        name="Mentions refund",
        type="rule",
        score_value_type="boolean",
        rule_config={"rule": "contains", "value": "refund"},
    )
    assert client.evaluators.get(evaluator.id).evaluator_slug == evaluator.evaluator_slug
    assert client.evaluators.update(evaluator.id, description="d").description == "d"
    verdict = client.evaluators.run(evaluator.id, {"output": "a refund, then"})
    assert verdict.boolean_value is True
    assert evaluator.id in {e.id for e in client.evaluators.iter(page_size=1)}

    log = client.logs.create(model="gpt-4o", prompt_messages=MESSAGES, completion_message=ANSWER)
    score = client.scores.create(
        log_id=log.unique_id, evaluator_id=evaluator.id, boolean_value=False
    )
    with pytest.raises(Conflict) as again:
        client.scores.create(log_id=log.unique_id, evaluator_id=evaluator.id, boolean_value=True)
    assert again.value.body == {"error": "A score already exists for this evaluator in this log."}
    assert [s.id for s in client.scores.list(log_id=log.unique_id).results] == [score.id]
    assert client.scores.update(score.id, boolean_value=True).boolean_value is True
    assert [s.id for s in client.scores.iter(evaluator_id=evaluator.id)] == [score.id]

    condition = client.conditions.create(
        name="Refunds",
        condition_slug=f"refunds_{uuid.uuid4().hex[:6]}",
        condition_type="single_log",
        condition_policy={"rules": [{"field": "status_code", "operator": "equals", "value": 200}]},
    )
    assert condition.id in {c.id for c in client.conditions.iter(search="Refunds")}
    automation = client.automations.create(
        automation_slug=f"monitor_{uuid.uuid4().hex[:6]}",
        name="Monitor",
        automation_type="online_eval",
        condition=condition.id,
        evaluator_ids=[evaluator.id],
        configuration={"sampling_rate": 1.0},
        is_enabled=True,
    )
    assert client.automations.get(automation.automation_slug).id == automation.id
    assert client.automations.update(automation.id, is_enabled=False).is_enabled is False
    assert [a.id for a in client.automations.iter()] == [automation.id]
    assert client.jobs.summary().total == sum(1 for _ in client.jobs.iter())

    client.automations.delete(automation.id)
    client.conditions.delete(condition.id)
    client.scores.delete(score.id)
    client.evaluators.delete(evaluator.id)
    with pytest.raises(NotFound):
        client.evaluators.get(evaluator.id)


def test_a_refused_request_raises_what_the_server_said(client: Client, tenant: Tenant) -> None:
    with pytest.raises(BadRequest) as refused:
        client.logs.create(model="gpt-4o", cost=-1)
    assert refused.value.status == 400
    assert list(refused.value.errors) == ["cost"]
    assert "cost" in refused.value.message
    with pytest.raises(BadRequest) as incomplete:
        client.evaluators.create(type="rule")
    assert incomplete.value.errors == {"name": ["This field is required."]}
    with Client("not-a-key", base_url=tenant.base_url) as stranger, pytest.raises(Unauthorized):
        stranger.logs.list()
    with (
        Client("k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=0) as nowhere,
        pytest.raises(ConnectionFailed) as unreachable,
    ):
        nowhere.jobs.summary()
    assert unreachable.value.maybe_sent is False


def test_overload_is_retried_after_retry_after() -> None:
    created = {
        "id": "x",
        "unique_id": "x",
        "status": "success",
        "timestamp": "2026-01-01T00:00:00Z",
        "environment": "prod",
    }
    busy = Reply(503, {"detail": "The server is overloaded"}, {"Retry-After": "0.3"})
    with FakeOpenAI() as fake:
        root = fake.base_url.removesuffix("/v1")
        fake.script(busy, Reply(201, created))
        with Client("k", base_url=root, backoff=Backoff(base=5)) as client:
            began = time.monotonic()
            assert client.logs.create(model="m").unique_id == "x"
            assert 0.3 <= time.monotonic() - began < 3
        assert [r.path for r in fake.requests] == ["/api/request-logs/"] * 2

        fake.script(busy)
        with Client("k", base_url=root, max_retries=0) as client, pytest.raises(Overloaded) as full:
            client.logs.create(model="m")
        assert (full.value.status, full.value.retry_after) == (503, 0.3)


def test_the_async_client(tenant: Tenant) -> None:
    async def scenario() -> None:
        async with AsyncClient(tenant.key, base_url=tenant.base_url) as client:
            marker = uuid.uuid4().hex
            rows = [{"model": "m", "metadata": {"batch": marker}} for _ in range(5)]
            await client.logs.bulk_create(rows)
            created = await client.logs.create(model="gpt-4o", metadata={"batch": marker})
            log = await client.logs.update(created.unique_id, note="async")
            assert log.note == "async"
            selected = {"metadata__batch": {"operator": "", "value": marker}}
            found = [log.unique_id async for log in client.logs.iter(selected, page_size=2)]
            assert len(set(found)) == 6 and created.unique_id in found
            await client.logs.delete(created.unique_id)
            with pytest.raises(NotFound):
                await client.logs.get(created.unique_id)
            evaluator = await client.evaluators.create(
                name="Async", type="human", score_value_type="numerical"
            )
            assert [e.id async for e in client.evaluators.iter()] == [evaluator.id]
            assert (await client.jobs.summary()).total == 0

    asyncio.run(scenario())


def test_the_key_and_server_come_from_the_environment(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTRAIL_API_KEY", tenant.key)
    monkeypatch.setenv("LLMTRAIL_BASE_URL", tenant.base_url)
    with Client() as client:
        assert client.logs.list().count == 0
