"""Files: implicit creation by `*.log`, explicit upserts, versions keyed by their kernel."""

from __future__ import annotations

import uuid

import httpx
import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


@pytest.fixture
def api(tenant):
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as client:
        yield client


def test_same_kernel_same_version_new_kernel_new_version(hl: Humanloop) -> None:
    path = f"prompts/{uuid.uuid4().hex[:8]}"
    first = hl.prompts.log(path=path, prompt={"model": "gpt-4o", "temperature": 0.1}, output="a")
    again = hl.prompts.log(path=path, prompt={"temperature": 0.1, "model": "gpt-4o"}, output="b")
    newer = hl.prompts.log(path=path, prompt={"model": "gpt-4o", "temperature": 0.9}, output="c")
    assert first.prompt_id == again.prompt_id == newer.prompt_id
    assert first.version_id == again.version_id != newer.version_id
    assert first.version_id.startswith("prv_")
    prompt = hl.prompts.get(first.prompt_id)
    assert prompt.version_id == newer.version_id, "the newest version by default"
    assert prompt.total_logs_count == 3 and prompt.version_logs_count == 1
    older = hl.prompts.get(first.prompt_id, version_id=first.version_id)
    assert older.temperature == 0.1 and older.version_logs_count == 2


def test_explicit_upserts_and_retrieve_by_path(hl: Humanloop, api: httpx.Client) -> None:
    base = uuid.uuid4().hex[:8]
    flow = hl.flows.upsert(path=f"{base}/flow", attributes={"k": 1}, version_name="v1")
    assert flow.id.startswith("fl_") and flow.attributes == {"k": 1} and flow.name == "flow"
    assert hl.flows.get(flow.id).version_id == flow.version_id
    tool = hl.tools.upsert(path=f"{base}/tool", function={"name": "f"})
    assert tool.id.startswith("tl_")
    evaluator = hl.evaluators.upsert(
        path=f"{base}/judge",
        spec={"arguments_type": "target_free", "return_type": "number", "evaluator_type": "human"},
    )
    assert evaluator.id.startswith("ev_") and evaluator.spec.return_type == "number"
    agent = api.post("/v5/agents", json={"path": f"{base}/agent", "model": "gpt-4o"}).json()
    assert agent["id"].startswith("ag_") and agent["status"] == "committed"
    found = hl.files.retrieve_by_path(path=f"{base}/flow")
    assert found.id == flow.id

    taken = api.post(
        "/v5/flows", json={"path": f"{base}/flow", "attributes": {"k": 2}, "version_name": "v1"}
    )
    assert taken.status_code == 409, "version names are unique within a File"
    wrong_type = api.post(
        "/v5/prompts/log", json={"path": f"{base}/flow", "prompt": {"model": "m"}}
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == [
        "body",
        "path",
    ]
    no_model = api.post("/v5/prompts", json={"path": f"{base}/p"})
    assert no_model.status_code == 422
    nameless = api.post("/v5/flows/log", json={"flow": {"attributes": {}}})
    assert nameless.status_code == 422 and "path" in nameless.text
    assert api.post("/v5/files/retrieve-by-path", json={"path": "nowhere"}).status_code == 404


def test_files_of_another_organization_are_not_found(hl: Humanloop, tenant_factory) -> None:
    flow = hl.flows.upsert(path=f"{uuid.uuid4().hex[:8]}/flow", attributes={})
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    with pytest.raises(ApiError) as missing:
        other.flows.get(flow.id)
    assert missing.value.status_code == 404
