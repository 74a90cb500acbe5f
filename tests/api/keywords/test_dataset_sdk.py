"""The official `keywordsai==1.0.4` SDK's `DatasetAPI` against `llmtrail serve`: only the
base URL and the key change. It sends its own paths (`datasets/create`, no `/api`, no
slash) and parses the answers into its own types."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from keywordsai.datasets.api import DatasetAPI
from keywordsai.types.dataset_types import (
    Dataset,
    DatasetCreate,
    DatasetUpdate,
    EvalReport,
    LogManagementRequest,
)

from tests.api.keywords.test_dataset_evals import EXACT, code_evaluator
from tests.api.keywords.test_datasets import write_logs
from tests.conftest import Tenant


def ready(client: DatasetAPI, dataset_id: str) -> Dataset:
    deadline = time.monotonic() + 60
    while (found := client.get(dataset_id)).status != "ready":
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    return found


def test_keywordsai_dataset_api(tenant: Tenant) -> None:
    with tenant.client() as api:
        wanted = write_logs(api, 3, "sdk-customer")
        exact = code_evaluator(api, "Exact", EXACT, "boolean")
    client = DatasetAPI(api_key=tenant.key, base_url=tenant.base_url)
    now = datetime.now(UTC)
    window = {"start_time": now - timedelta(hours=1), "end_time": now + timedelta(minutes=5)}
    filters = {"customer_identifier": {"operator": "equals", "value": ["sdk-customer"]}}
    created = client.create(
        DatasetCreate(name="From the SDK", type="sampling", initial_log_filters=filters, **window)
    )
    assert isinstance(created, Dataset) and created.name == "From the SDK"
    filled = ready(client, created.id)
    assert filled.log_count == 3 and filled.running_status == "completed"

    listed = client.list(page=1, page_size=10)
    assert [d.id for d in listed.results] == [created.id] and listed.count == 1
    renamed = client.update(created.id, DatasetUpdate(name="Renamed"))
    assert renamed.name == "Renamed"

    logs = client.list_dataset_logs(created.id, page=1, page_size=10)
    assert sorted(log["id"] for log in logs["results"]) == sorted(wanted)
    # The SDK's DELETE calls (delete, remove_logs_from_dataset) pass `json=` to httpx's
    # delete(), which takes none: a TypeError before any request. Their requests, sent as
    # they mean them.
    one = LogManagementRequest(filters={"unique_id": {"operator": "in", "value": wanted[:1]}})
    with tenant.client() as api:
        removed = api.request("DELETE", f"datasets/{created.id}/logs/delete", json=one.model_dump())
    assert removed.status_code == 200 and removed.json()["removed_count"] == 1
    added = client.add_logs_to_dataset(created.id, LogManagementRequest(filters=filters, **window))
    assert added["message"] == "Logs are being added to dataset in the background"
    assert ready(client, created.id).log_count == 3

    run = client.run_dataset_evaluation(created.id, [exact["evaluator_slug"]])
    report = client.get_evaluation_report(created.id, run["id"])
    assert isinstance(report, EvalReport) and report.evaluator_slugs == [exact["evaluator_slug"]]
    assert [r.id for r in client.list_evaluation_reports(created.id).results] == [run["id"]]
    with tenant.client() as api:
        assert api.delete(f"datasets/{created.id}").status_code == 204
    assert client.list().count == 0
