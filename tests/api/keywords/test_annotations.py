"""Editable annotations, batch-update atomicity (seed 000) and the history of every change."""

from __future__ import annotations

import httpx


def create(api: httpx.Client, **fields) -> str:
    body = {"model": "gpt-4o", "input": "q", "output": "a", "prompt_tokens": 5, **fields}
    response = api.post("/api/request-logs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()["unique_id"]


def get(api: httpx.Client, uid: str) -> dict:
    return api.get(f"/api/request-logs/{uid}/").json()


def test_batch_update_exactly_as_seed_000(api: httpx.Client) -> None:
    a = create(api, metadata={"keep": "me", "metadata_key": "old", "drop": "x"})
    b = create(api)
    data = {
        "logs": [
            {
                "unique_id": a,
                "metadata": {"metadata_key": "updated_value", "drop": None},
                "note": "updated note",
            },
            {"unique_id": b, "positive_feedback": True, "custom_identifier": "ticket-7"},
        ]
    }
    response = api.patch("/api/request-logs/batch-update/", json=data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["updated_count"] == 2
    assert [log["unique_id"] for log in body["logs"]] == [a, b]
    log_a = get(api, a)
    assert log_a["metadata"] == {"keep": "me", "metadata_key": "updated_value"}
    assert log_a["note"] == "updated note"
    log_b = get(api, b)
    assert log_b["positive_feedback"] is True and log_b["custom_identifier"] == "ticket-7"
    assert log_a["output"] == "a" and log_a["model"] == "gpt-4o", "telemetry is untouched"


def test_batch_update_of_a_thousand_logs_in_request_order(api: httpx.Client) -> None:
    """More ids than one lookup statement takes: every log found, updated and answered."""
    for _ in range(2):
        logs = [{"model": "gpt-4o", "input": "q", "output": "a"} for _ in range(500)]
        assert api.post("/api/request-logs/bulk/", json={"logs": logs}).json()["error_count"] == 0
    listed = api.post("/api/request-logs/list/?page_size=1000", json={}).json()["results"]
    ids = [log["unique_id"] for log in reversed(listed)]
    assert len(ids) == 1000
    items = [{"unique_id": uid, "note": f"n{i}"} for i, uid in enumerate(ids)]
    response = api.patch("/api/request-logs/batch-update/", json={"logs": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["updated_count"] == 1000
    assert [(log["unique_id"], log["note"]) for log in body["logs"]] == [
        (uid, f"n{i}") for i, uid in enumerate(ids)
    ]
    assert get(api, ids[777])["note"] == "n777"


def test_batch_update_refuses_telemetry_whole_and_applies_nothing(api: httpx.Client) -> None:
    a, b = create(api), create(api)
    before = get(api, a)
    data = {
        "logs": [
            {"unique_id": a, "note": "should not land"},
            {"unique_id": b, "cost": 0, "model": "gpt-3.5"},
        ]
    }
    response = api.patch("/api/request-logs/batch-update/", json=data)
    assert response.status_code == 400
    body = response.json()
    assert "logs[1].cost" in body["detail"] and "logs[1].model" in body["detail"]
    assert body["logs"]["1"]["cost"], "field-keyed errors name the item index and field"
    assert get(api, a) == before, "nothing of a refused batch is applied"
    assert api.get(f"/api/request-logs/{a}/history/").json()["count"] == 0


def test_batch_update_refuses_unknown_ids_whole(api: httpx.Client, tenant_factory) -> None:
    a = create(api)
    with tenant_factory().client() as other:
        theirs = create(other)
    data = {"logs": [{"unique_id": a, "note": "n"}, {"unique_id": theirs, "note": "n"}]}
    response = api.patch("/api/request-logs/batch-update/", json=data)
    assert response.status_code == 400
    assert "logs[1].unique_id" in response.json()["detail"]
    assert get(api, a)["note"] is None


def test_batch_update_type_rules(api: httpx.Client) -> None:
    a = create(api)
    for bad in ({"metadata": "x"}, {"positive_feedback": "yes"}, {"note": 3}, {}):
        response = api.patch(
            "/api/request-logs/batch-update/", json={"logs": [{"unique_id": a, **bad}]}
        )
        if bad:
            assert response.status_code == 400, bad
            assert f"logs[0].{next(iter(bad))}" in response.json()["detail"]
        else:
            assert response.status_code == 200
    assert (
        api.patch("/api/request-logs/batch-update/", json={"logs": [{"note": "x"}]})
        .json()["detail"]
        .startswith("logs[0].unique_id")
    )


def test_patch_one_log_and_immutable_fields(api: httpx.Client) -> None:
    uid = create(api, metadata={"a": 1})
    response = api.patch(
        f"/api/request-logs/{uid}/",
        json={"metadata": {"b": 2}, "custom_identifier": "c-1", "blurred": True},
    )
    assert response.status_code == 200, response.text
    log = response.json()
    assert log["metadata"] == {"a": 1, "b": 2}
    assert log["custom_identifier"] == "c-1" and log["blurred"] is True
    refused = api.patch(f"/api/request-logs/{uid}/", json={"cost": 1.0})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Cannot update immutable field",
        "detail": "The field 'cost' cannot be modified",
    }
    assert api.patch("/api/request-logs/nope/", json={"note": "x"}).status_code == 404


def test_history_records_every_change_with_old_and_new_values(api: httpx.Client) -> None:
    uid = create(api, metadata={"stage": "draft"})
    api.patch(f"/api/request-logs/{uid}/", json={"metadata": {"stage": "final"}})
    api.patch(
        "/api/request-logs/batch-update/",
        json={"logs": [{"unique_id": uid, "note": "checked", "positive_feedback": False}]},
    )
    api.patch(f"/api/request-logs/{uid}/", json={"note": "checked"})  # no change: no revision
    history = api.get(f"/api/request-logs/{uid}/history/").json()
    assert history["count"] == 3
    changes = [(r["field"], r["old_value"], r["new_value"]) for r in history["results"]]
    assert changes == [
        ("metadata", {"stage": "draft"}, {"stage": "final"}),
        ("note", None, "checked"),
        ("positive_feedback", None, False),
    ]
    assert all(r["api_key_id"] and r["timestamp"].endswith("Z") for r in history["results"])
    assert [r["source"] for r in history["results"]] == ["patch", "batch-update", "batch-update"]


def test_telemetry_never_changes_through_these_routes(api: httpx.Client) -> None:
    uid = create(api)
    before = get(api, uid)
    api.patch(f"/api/request-logs/{uid}/", json={"note": "n"})
    after = get(api, uid)
    for field in ("model", "input", "output", "prompt_tokens", "cost", "timestamp", "latency"):
        assert before[field] == after[field]


def test_metadata_filters_follow_edits_and_deletes(api: httpx.Client) -> None:
    def tier(value: object) -> list[str]:
        body = {"filters": {"metadata__tier": {"operator": "", "value": value}}}
        page = api.post("/api/request-logs/list/", json=body).json()
        assert page["count"] == len(page["results"])
        return sorted(log["unique_id"] for log in page["results"])

    gold, silver, flag = (
        create(api, metadata={"tier": "gold"}),
        create(api, metadata={"tier": "silver"}),
        create(api, metadata={"tier": True}),
    )
    assert tier("gold") == [gold] and tier(True) == [flag] and tier("true") == [flag]
    assert api.patch(f"/api/request-logs/{gold}/", json={"metadata": {"tier": "silver"}}).is_success
    assert tier("gold") == [] and tier("silver") == sorted([gold, silver])
    assert api.patch(f"/api/request-logs/{silver}/", json={"metadata": {"tier": None}}).is_success
    assert tier("silver") == [gold]
    assert api.delete(f"/api/request-logs/{gold}/").status_code == 204
    assert tier("silver") == [] and tier(["gold", "silver", "true"]) == [flag]
