"""Keywords AI datasets against a live server (contract §3.3, seed 004): the dataset routes,
filling from logs in the background, frozen snapshots, and the JWT-only read of one log."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Server, Tenant

DS = "/api/datasets"
# Every field of seed 004's answer.
SEED_FIELDS = {
    "id",
    "organization_id",
    "organization_key_id",
    "environment",
    "timestamp",
    "start_time",
    "prompt_id",
    "prompt_name",
    "trace_unique_id",
    "customer_identifier",
    "thread_identifier",
    "custom_identifier",
    "unique_organization_id",
    "log_type",
    "prompt_tokens",
    "completion_tokens",
    "total_request_tokens",
    "cost",
    "model",
    "latency",
    "tokens_per_second",
    "time_to_first_token",
    "routing_time",
    "status_code",
    "status",
    "blurred",
    "metadata",
    "system",
    "prompt",
    "completion",
    "messages",
    "dataset_id",
}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def window(**extra: Any) -> dict[str, Any]:
    """A time window around now: every log the test just wrote."""
    now = datetime.now(UTC)
    return {
        "start_time": iso(now - timedelta(hours=1)),
        "end_time": iso(now + timedelta(minutes=5)),
        **extra,
    }


def made(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def write_logs(api: httpx.Client, count: int, customer: str, **fields: Any) -> list[str]:
    """Write logs of a customer; the ids of every log of that customer."""
    logs = [
        {"model": "gpt-4o", "output": f"answer {n}", "customer_identifier": customer, **fields}
        for n in range(count)
    ]
    answer = made(api.post("/api/request-logs/bulk/", json={"logs": logs}))
    assert answer["success_count"] == count
    listed = api.post(
        "/api/request-logs/list/?page_size=1000",
        json={"filters": {"customer_identifier": {"operator": "", "value": [customer]}}},
    )
    return [log["unique_id"] for log in listed.json()["results"]]


def empty_dataset(api: httpx.Client, name: str = "Golden set") -> dict[str, Any]:
    return made(api.post(f"{DS}/", json={"name": name, "description": "d", "is_empty": True}))


def settled(api: httpx.Client, dataset_id: str, seconds: float = 60) -> dict[str, Any]:
    """The dataset once its background add is done."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = made(api.get(f"{DS}/{dataset_id}/"), 200)
        if found["status"] == "ready":
            return found
        time.sleep(0.2)
    raise AssertionError(f"the dataset is still filling: {found}")


def log_ids(api: httpx.Client, dataset_id: str) -> list[str]:
    listed = made(api.get(f"{DS}/{dataset_id}/logs/list/", params={"page_size": 1000}), 200)
    return sorted(log["id"] for log in listed["results"])


def test_create_get_list_patch_delete(api: httpx.Client) -> None:
    created = empty_dataset(api)
    assert created["status"] == "ready" and created["log_count"] == 0
    assert (created["running_status"], created["running_progress"]) == ("completed", 100)
    assert created["type"] == "sampling" and created["id"].startswith("ds_")
    assert created["path"] == "Golden set"
    again = empty_dataset(api)  # the same name: a path of its own
    assert again["path"] != created["path"]
    got = made(api.get(f"{DS}/{created['id']}/"), 200)
    assert got == created
    listed = made(api.get(f"{DS}/list/", params={"page_size": 1}), 200)
    assert listed["count"] == 2 and listed["results"][0]["id"] == again["id"]
    assert listed["next"] and listed["previous"] is None
    alpha = empty_dataset(api, "Alpha")
    by_name = made(api.get(f"{DS}/list/", params={"sort_by": "name"}), 200)
    assert by_name["count"] == 3 and by_name["results"][0]["id"] == alpha["id"]
    patched = made(api.patch(f"{DS}/{created['id']}/", json={"name": "Renamed"}), 200)
    assert patched["name"] == "Renamed" and patched["description"] == "d"
    assert patched["updated_at"] > created["updated_at"]
    assert api.delete(f"{DS}/{created['id']}/").status_code == 204
    assert api.get(f"{DS}/{created['id']}/").status_code == 404
    assert api.delete(f"{DS}/{created['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_empty": True}, "name"),
        ({"name": " ", "is_empty": True}, "name"),
        ({"name": "n", "type": "other", "is_empty": True}, "type"),
        ({"name": "n"}, "start_time"),
        ({"name": "n", **window(sampling=101)}, "sampling"),
        (
            {"name": "n", **window(initial_log_filters={"nope": {"value": 1}})},
            "initial_log_filters",
        ),
    ],
)
def test_a_bad_create_names_the_field(api: httpx.Client, body: dict, field: str) -> None:
    answer = api.post(f"{DS}/", json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json() and field in answer.json()["detail"]
    assert made(api.get(f"{DS}/list/"), 200)["count"] == 0, "nothing half-written"


def test_create_from_filters_fills_in_the_background(api: httpx.Client) -> None:
    wanted = write_logs(api, 3, "alice")
    write_logs(api, 2, "bob")
    filters = {"customer_identifier": {"operator": "eq", "value": "alice"}}
    body = {"name": "Alice", **window(initial_log_filters=filters)}
    created = made(api.post(f"{DS}/", json=body))
    assert created["initial_log_filters"] == filters
    assert len(created["timestamps"]) == 2
    done = settled(api, created["id"])
    assert done["running_status"] == "completed" and done["running_progress"] == 100
    assert done["log_count"] == 3
    assert log_ids(api, created["id"]) == sorted(wanted)


def test_adding_logs_in_bulk_never_duplicates(api: httpx.Client) -> None:
    first = write_logs(api, 4, "c1")
    dataset = empty_dataset(api)["id"]
    filters = {"customer_identifier": {"operator": "", "value": ["c1"]}}
    answer = made(api.post(f"{DS}/{dataset}/logs/bulk/", json=window(filters=filters)), 200)
    assert answer == {"message": "Logs are being added to dataset in the background"}
    assert settled(api, dataset)["log_count"] == 4
    second = write_logs(api, 2, "c1")
    made(api.post(f"{DS}/{dataset}/logs/bulk/", json=window(filters=filters)), 200)
    assert settled(api, dataset)["log_count"] == 6
    assert set(first) < set(second) and log_ids(api, dataset) == sorted(second)


def test_sampling_keeps_a_share(api: httpx.Client) -> None:
    write_logs(api, 40, "many")
    filters = {"customer_identifier": {"operator": "", "value": ["many"]}}
    counts = {}
    for share in (0, 50, 100):
        dataset = empty_dataset(api)["id"]
        body = window(filters=filters, sampling_percentage=share)
        made(api.post(f"{DS}/{dataset}/logs/bulk/", json=body), 200)
        counts[share] = settled(api, dataset)["log_count"]
    assert counts[0] == 0 and counts[100] == 40
    assert 0 < counts[50] < 40


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "start_time"),
        (window(filters={"cost": {"operator": "gt", "value": "x"}}), "filters"),
        (window(sampling_percentage="all"), "sampling_percentage"),
    ],
)
def test_a_bad_bulk_add_names_the_field(api: httpx.Client, body: dict, field: str) -> None:
    dataset = empty_dataset(api)["id"]
    answer = api.post(f"{DS}/{dataset}/logs/bulk/", json=body)
    assert answer.status_code == 400 and field in answer.json(), answer.text
    unchanged = made(api.get(f"{DS}/{dataset}/"), 200)
    assert (unchanged["status"], unchanged["running_status"]) == ("ready", "completed")


def test_unknown_dataset_is_404_on_every_route(api: httpx.Client) -> None:
    nope = f"{DS}/ds_nope"
    for method, path, body in (
        ("GET", f"{nope}/", None),
        ("PATCH", f"{nope}/", {"name": "x"}),
        ("POST", f"{nope}/logs/bulk/", window()),
        ("POST", f"{nope}/logs/", {"input": "i", "output": "o"}),
        ("GET", f"{nope}/logs/list/", None),
        ("POST", f"{nope}/logs/list/", {}),
        ("DELETE", f"{nope}/logs/delete/", {"is_deleting_all_logs": True}),
        ("PATCH", f"{nope}/logs/x/", {"metadata": {}}),
        ("PUT", f"{nope}/logs/x/", {}),
        ("DELETE", f"{nope}/logs/x/", None),
    ):
        answer = api.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json() == {"detail": "Dataset not found"}


def test_a_copy_is_frozen(
    api: httpx.Client, server: Server, tenant: Tenant, person_factory
) -> None:
    """Edits to the source log (metadata, note) and its deletion leave the copy as it was."""
    [source] = write_logs(api, 1, "frozen", metadata={"v": 1})
    dataset = empty_dataset(api)["id"]
    filters = {"customer_identifier": {"operator": "", "value": ["frozen"]}}
    made(api.post(f"{DS}/{dataset}/logs/bulk/", json=window(filters=filters)), 200)
    settled(api, dataset)
    member = person_factory(tenant.org)
    with httpx.Client(base_url=server.base_url, headers=member.headers) as signed_in:
        before = made(signed_in.get(f"{DS}/{dataset}/logs/{source}/"), 200)
        assert before["id"] == source and before["metadata"] == {"v": 1}
        edit = {"metadata": {"v": 2}, "note": "edited"}
        made(api.patch(f"/api/request-logs/{source}/", json=edit), 200)
        assert made(signed_in.get(f"{DS}/{dataset}/logs/{source}/"), 200) == before
        assert api.delete(f"/api/request-logs/{source}/").status_code == 204
        assert made(signed_in.get(f"{DS}/{dataset}/logs/{source}/"), 200) == before
    assert log_ids(api, dataset) == [source]


SEED_LOG = {
    "model": "gpt-3.5-turbo",
    "log_type": "text",
    "prompt_messages": [
        {"role": "system", "content": "## Identity\nYou are Jordan, a helpful dispatcher..."},
        {"role": "user", "content": [{"type": "text", "text": "Full prompt text here..."}]},
    ],
    "completion_message": {"role": "assistant", "content": "Full completion text here..."},
    "prompt_tokens": 415,
    "completion_tokens": 12,
    "latency": 0.451,
    "time_to_first_token": 0.29,
    "customer_identifier": "test_customer_identifier",
    "thread_identifier": "thread_id_num_1",
    "metadata": {"call_id": "thread_id_num_1", "provider": "azure_openai"},
}


@pytest.fixture
def seeded(api: httpx.Client) -> tuple[str, str]:
    """(dataset id, log id) of a dataset holding a copy of seed 004's log."""
    marker = f"seed-{uuid.uuid4().hex[:8]}"
    log = made(api.post("/api/request-logs/", json={**SEED_LOG, "custom_identifier": marker}))
    dataset = empty_dataset(api)["id"]
    filters = {"custom_identifier": {"operator": "", "value": [marker]}}
    made(api.post(f"{DS}/{dataset}/logs/bulk/", json=window(filters=filters)), 200)
    assert settled(api, dataset)["log_count"] == 1
    return dataset, log["unique_id"]


def test_seed_004_with_a_jwt(
    server: Server, tenant: Tenant, person_factory, seeded: tuple[str, str]
) -> None:
    dataset, log = seeded
    member = person_factory(tenant.org)
    with httpx.Client(base_url=server.base_url, headers=member.headers) as signed_in:
        body = made(signed_in.get(f"{DS}/{dataset}/logs/{log}/"), 200)
        assert made(signed_in.get(f"datasets/{dataset}/logs/{log}"), 200) == body  # SDK form
    assert set(body) >= SEED_FIELDS
    assert body["id"] == log and body["dataset_id"] == dataset
    assert body["system"] == "## Identity\nYou are Jordan, a helpful dispatcher..."
    assert body["prompt"] == "Full prompt text here..."
    assert body["completion"] == "Full completion text here..."
    assert body["messages"] == SEED_LOG["prompt_messages"]
    assert body["metadata"] == SEED_LOG["metadata"]
    assert (body["prompt_tokens"], body["completion_tokens"], body["total_request_tokens"]) == (
        415,
        12,
        427,
    )
    assert body["tokens_per_second"] == pytest.approx(12 / 0.451)
    assert body["routing_time"] == 0.0 and body["blurred"] is False
    assert body["customer_identifier"] == "test_customer_identifier"
    assert body["prompt_id"] == "" and body["prompt_name"] == ""
    assert body["status"] == "success" and body["status_code"] == 200
    assert body["environment"] == "prod" and body["log_type"] == "text"
    assert body["organization_id"] == body["unique_organization_id"]
    # The key's id, never the key.
    assert body["organization_key_id"].isdigit() and tenant.key not in str(body)


def test_seed_004_refuses_an_api_key(api: httpx.Client, seeded: tuple[str, str]) -> None:
    dataset, log = seeded
    answer = api.get(f"{DS}/{dataset}/logs/{log}/")
    assert answer.status_code == 401
    assert "JWT" in answer.json()["detail"] and "API key" in answer.json()["detail"]


def test_seed_004_is_404_for_another_org_and_what_is_not_in_it(
    server: Server, tenant: Tenant, tenant_factory, person_factory, seeded: tuple[str, str]
) -> None:
    dataset, log = seeded
    stranger = person_factory(tenant_factory().org)
    with httpx.Client(base_url=server.base_url, headers=stranger.headers) as other:
        answer = other.get(f"{DS}/{dataset}/logs/{log}/")
        assert answer.status_code == 404 and answer.json() == {"detail": "Dataset not found"}
    member = person_factory(tenant.org)
    with httpx.Client(base_url=server.base_url, headers=member.headers) as signed_in:
        answer = signed_in.get(f"{DS}/ds_nope/logs/{log}/")
        assert answer.status_code == 404
        answer = signed_in.get(f"{DS}/{dataset}/logs/nope/")
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Log not found in the dataset"}


def test_dataset_logs_made_listed_changed_and_removed(
    api: httpx.Client, server: Server, tenant: Tenant, person_factory
) -> None:
    dataset = empty_dataset(api)["id"]
    logs = f"{DS}/{dataset}/logs/"
    created = made(
        api.post(
            logs,
            json={
                "input": [{"role": "user", "content": "2+2?"}],
                "output": {"role": "assistant", "content": "4"},
                "metadata": {"model": "gpt-4o", "topic": "math"},
                "metrics": {"prompt_tokens": 5, "completion_tokens": 1, "cost": 0.01},
                "target": {"answer": "4"},
            },
        )
    )
    one = created["log_data"]
    assert one["model"] == "gpt-4o" and one["metadata"] == {"topic": "math"}
    assert one["prompt"] == "2+2?" and one["completion"] == "4" and one["cost"] == 0.01
    assert one["target"] == {"answer": "4"} and one["source_log_id"] is None
    other = made(api.post(logs, json={"input": "hi", "output": "hello", "model": "gpt-4o-mini"}))
    other = other["log_data"]
    duplicate = api.post(logs, json={"input": "x", "output": "y", "unique_id": one["id"]})
    assert duplicate.status_code == 409
    missing = api.post(logs, json={"input": "x"})
    assert missing.status_code == 400 and "output" in missing.json()

    def listed(body: dict[str, Any]) -> list[str]:
        return [r["id"] for r in made(api.post(f"{logs}list/", json=body), 200)["results"]]

    assert sorted(listed({})) == sorted([one["id"], other["id"]])
    assert listed({"filters": {"model": {"operator": "", "value": ["gpt-4o"]}}}) == [one["id"]]
    assert listed({"filters": {"model": "gpt-4o-mini"}}) == [other["id"]]  # §5.4
    assert listed({"filters": {"metadata.topic": "math"}}) == [one["id"]]
    later = iso(datetime.now(UTC) + timedelta(hours=1))
    assert listed({"filters": {"created_at": {"gte": later}}}) == []
    assert listed({"page": 2, "page_size": 1}) and len(listed({"page_size": 1})) == 1
    bad = api.post(f"{logs}list/", json={"filters": {"nope": "x"}})
    assert bad.status_code == 400 and "filters" in bad.json()

    patched = made(api.patch(f"{logs}{one['id']}/", json={"metadata": {"level": 1}}), 200)
    assert patched["metadata"] == {"topic": "math", "level": 1}
    assert patched["prompt"] == "2+2?", "a patch keeps what it does not name"
    refused = api.patch(f"{logs}{one['id']}/", json={"cost": 1})
    assert refused.status_code == 400 and "cost" in refused.json()
    replaced = {
        "messages": [{"role": "user", "content": "3+3?"}],
        "model": "m",
        "parameters": {"t": 0},
    }
    put = made(api.put(f"{logs}{one['id']}/", json=replaced), 200)
    assert put["messages"] == replaced["messages"] and put["model"] == "m"
    assert put["parameters"] == {"t": 0} and put["metadata"] == {} and put["target"] is None
    member = person_factory(tenant.org)
    with httpx.Client(base_url=server.base_url, headers=member.headers) as signed_in:
        assert made(signed_in.get(f"{logs}{one['id']}/"), 200) == put

    assert api.delete(f"{logs}{other['id']}/").status_code == 204
    assert api.delete(f"{logs}{other['id']}/").status_code == 404
    assert listed({}) == [one["id"]]
    assert api.request("DELETE", f"{logs}delete/", json={}).status_code == 400
    by_filter = {"filters": {"model": {"operator": "", "value": ["nothing"]}}}
    assert made(api.request("DELETE", f"{logs}delete/", json=by_filter), 200)["removed_count"] == 0
    everything = {"is_deleting_all_logs": True}
    removed = made(api.request("DELETE", f"{logs}delete/", json=everything), 200)
    assert removed["removed_count"] == 1 and listed({}) == []


def test_changes_are_audited(
    api: httpx.Client, server: Server, tenant: Tenant, person_factory
) -> None:
    dataset = empty_dataset(api)["id"]
    made(api.patch(f"{DS}/{dataset}/", json={"description": "new"}), 200)
    assert api.delete(f"{DS}/{dataset}/").status_code == 204
    admin = person_factory(tenant.org, "admin")
    with httpx.Client(base_url=server.base_url, headers=admin.headers) as signed_in:
        trail = made(signed_in.get("/api/audit/"), 200)["results"]
    mine = [(e["action"], e["changes"]) for e in trail if e["object_id"] == dataset]
    assert mine == [("deleted", None), ("changed", {"fields": ["description"]}), ("created", None)]
    assert {e["actor_type"] for e in trail if e["object_id"] == dataset} == {"key"}
