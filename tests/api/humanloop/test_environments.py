"""Environments through the official `humanloop` SDK: `production` (the default) and
`staging`, a version of a File or a Dataset deployed to each, and `environment=` on get,
log and the Dataset reads."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def status_of(call, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as refused:
        call(*args, **kwargs)
    return refused.value.status_code


def test_deploy_get_log_and_remove(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/deployed"
    first = hl.prompts.upsert(path=path, model="m", temperature=0.1)
    second = hl.prompts.upsert(path=path, model="m", temperature=0.2)
    newest = hl.prompts.upsert(path=path, model="m", temperature=0.3)

    envs = hl.prompts.list_environments(first.id)
    assert [(e.name, e.tag, e.file) for e in envs] == [
        ("production", "default", None),
        ("staging", "other", None),
    ]
    production, staging = envs
    assert hl.prompts.get(first.id).version_id == newest.version_id, "nothing deployed: newest"

    deployed = hl.prompts.set_deployment(first.id, "production", version_id=first.version_id)
    assert deployed.version_id == first.version_id
    assert [e.name for e in deployed.environments] == ["production"]
    hl.prompts.set_deployment(first.id, staging.id, version_id=second.version_id)  # by id

    assert hl.prompts.get(first.id).version_id == first.version_id, "the default's version"
    assert hl.prompts.get(first.id, environment="staging").temperature == 0.2
    assert hl.prompts.get(first.id, version_id=newest.version_id).environments == []
    found = hl.files.retrieve_by_path(path=path, environment="staging")
    assert found.version_id == second.version_id
    listed = {e.name: e.file.version_id for e in hl.prompts.list_environments(first.id)}
    assert listed == {"production": first.version_id, "staging": second.version_id}

    # A log without a kernel goes to the deployed version, of the environment it names.
    logged = hl.prompts.log(id=first.id, output="a")
    assert logged.version_id == first.version_id
    staged = hl.prompts.log(id=first.id, output="b", environment="staging")
    assert staged.version_id == second.version_id
    kernel = hl.prompts.log(path=path, prompt={"model": "m", "temperature": 0.3}, output="c")
    assert kernel.version_id == newest.version_id, "a kernel names its own version"

    # Redeploying replaces; a deployed version cannot be deleted.
    hl.prompts.set_deployment(first.id, "staging", version_id=newest.version_id)
    assert hl.prompts.get(first.id, environment="staging").version_id == newest.version_id
    assert status_of(hl.prompts.delete_prompt_version, first.id, newest.version_id) == 409
    hl.prompts.remove_deployment(first.id, "staging")
    assert status_of(hl.prompts.get, first.id, environment="staging") == 404
    assert status_of(hl.prompts.remove_deployment, first.id, "staging") == 404
    hl.prompts.delete_prompt_version(first.id, newest.version_id)
    assert production.id == hl.prompts.list_environments(first.id)[0].id


def test_refusals_name_what_is_missing(hl: Humanloop, tenant_factory) -> None:
    flow = hl.flows.upsert(path=f"{uuid.uuid4().hex[:8]}/flow", attributes={"a": 1})
    deploy = hl.flows.set_deployment
    assert status_of(deploy, flow.id, "nowhere", version_id=flow.version_id) == 404
    assert status_of(deploy, flow.id, "production", version_id="flv_nope") == 404
    assert status_of(deploy, "fl_nope", "production", version_id=flow.version_id) == 404
    assert status_of(hl.flows.get, flow.id, environment="nowhere") == 404
    assert status_of(hl.flows.get, flow.id, environment="staging") == 404, "nothing deployed"
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    assert status_of(other.flows.list_environments, flow.id) == 404
    theirs = other.flows.set_deployment
    assert status_of(theirs, flow.id, "production", version_id=flow.version_id) == 404


def test_a_dataset_version_is_deployed_read_and_removed(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/golden"
    first = hl.datasets.upsert(path=path, datapoints=[{"inputs": {"q": "a"}}], version_name="v1")
    second = hl.datasets.upsert(
        id=first.id, datapoints=[{"inputs": {"q": "b"}}], action="add", version_name="v2"
    )
    envs = hl.datasets.list_environments(first.id)
    assert [(e.name, e.file) for e in envs] == [("production", None), ("staging", None)]
    assert hl.datasets.get(first.id).version_id == second.version_id, "nothing deployed: newest"

    deployed = hl.datasets.set_deployment(first.id, "production", version_id=first.version_id)
    assert deployed.version_id == first.version_id and deployed.datapoints_count == 1
    assert [e.name for e in deployed.environments] == ["production"]
    hl.datasets.set_deployment(first.id, envs[1].id, version_id=second.version_id)  # by id
    listed = {e.name: e.file.version_id for e in hl.datasets.list_environments(first.id)}
    assert listed == {"production": first.version_id, "staging": second.version_id}

    # A read without a version is at the default's version; `environment=` at its own.
    assert hl.datasets.get(first.id).version_id == first.version_id
    staged = hl.datasets.get(first.id, environment="staging", include_datapoints=True)
    assert [p.inputs["q"] for p in staged.datapoints] == ["a", "b"]
    assert [e.name for e in staged.environments] == ["staging"]
    points = hl.datasets.list_datapoints(first.id, environment="production")
    assert [p.inputs["q"] for p in points] == ["a"]
    assert hl.datasets.get(first.id, version_id=second.version_id).version_id == second.version_id
    # `add` on the deployed version.
    based = hl.datasets.upsert(
        id=first.id, datapoints=[{"inputs": {"q": "c"}}], action="add", environment="production"
    )
    assert based.datapoints_count == 2 and based.environments == []

    hl.datasets.remove_deployment(first.id, "staging")
    assert status_of(hl.datasets.get, first.id, environment="staging") == 404
    assert status_of(hl.datasets.remove_deployment, first.id, "staging") == 404
    assert status_of(hl.datasets.list_datapoints, first.id, environment="nowhere") == 404


def test_dataset_deployments_refuse_what_is_missing(hl: Humanloop, tenant_factory) -> None:
    dataset = hl.datasets.upsert(path=f"{uuid.uuid4().hex[:8]}/ds", datapoints=[])
    deploy = hl.datasets.set_deployment
    assert status_of(deploy, dataset.id, "nowhere", version_id=dataset.version_id) == 404
    assert status_of(deploy, dataset.id, "production", version_id="dsv_nope") == 404
    assert status_of(deploy, "ds_nope", "production", version_id=dataset.version_id) == 404
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    assert status_of(other.datasets.list_environments, dataset.id) == 404
    assert status_of(other.datasets.remove_deployment, dataset.id, "production") == 404
    theirs = other.datasets.set_deployment
    assert status_of(theirs, dataset.id, "production", version_id=dataset.version_id) == 404
