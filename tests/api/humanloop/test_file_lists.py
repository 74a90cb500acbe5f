"""Files listed, moved and deleted, and their versions listed, named and deleted, through
the official `humanloop` SDK."""

from __future__ import annotations

import uuid

import httpx
import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from humanloop.errors import UnprocessableEntityError


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


@pytest.fixture
def api(tenant):
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as client:
        yield client


def status_of(call, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as refused:
        call(*args, **kwargs)
    return refused.value.status_code


def test_prompts_list_pages_filters_and_sorts(hl: Humanloop, api: httpx.Client) -> None:
    base = uuid.uuid4().hex[:8]
    names = [f"{base}-{n}" for n in ("delta", "alpha", "charlie", "bravo", "echo")]
    for name in names:
        hl.prompts.upsert(path=f"dir/{name}", model="gpt-4o")
    hl.prompts.upsert(path=f"dir/{base}-alpha", model="gpt-4o-mini")  # a second version
    hl.tools.upsert(path=f"dir/{base}-tool-alpha", function={"name": "f"})

    # The pager asks page after page until one comes back empty.
    listed = list(hl.prompts.list(size=2, name=base, sort_by="name", order="asc"))
    assert [p.name.split("-", 1)[1] for p in listed] == [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
    ]
    alpha = listed[0]
    assert alpha.model == "gpt-4o-mini", "each File at its newest version"
    assert alpha.path == f"dir/{base}-alpha" and alpha.type == "prompt"
    page = hl.prompts.list(size=2, page=3, name=base, sort_by="name", order="asc")
    assert [p.name for p in page.items] == [f"{base}-echo"]
    params = {"size": 2, "page": 3, "name": base}
    assert api.get("/v5/prompts", params=params).json()["total"] == 5
    newest_first = list(hl.prompts.list(size=10, name=base))
    assert [p.name for p in newest_first] == names[::-1], "created_at, newest first by default"
    assert [p.name for p in hl.prompts.list(name=f"{base}-ALPHA")] == [f"{base}-alpha"]
    assert [t.name for t in hl.tools.list(name=base)] == [f"{base}-tool-alpha"]
    with pytest.raises(UnprocessableEntityError):
        hl.prompts.list(sort_by="size")
    with pytest.raises(UnprocessableEntityError):
        hl.prompts.list(size=1001)


def test_every_type_lists_and_deletes(hl: Humanloop, api: httpx.Client) -> None:
    base = uuid.uuid4().hex[:8]
    made = {
        "prompts": hl.prompts.upsert(path=f"{base}/{base}-p", model="m"),
        "agents": api.post("/v5/agents", json={"path": f"{base}/{base}-a", "model": "m"}).json(),
        "tools": hl.tools.upsert(path=f"{base}/{base}-t", function={"name": "f"}),
        "flows": hl.flows.upsert(path=f"{base}/{base}-f", attributes={}),
        "evaluators": hl.evaluators.upsert(
            path=f"{base}/{base}-e",
            spec={
                "arguments_type": "target_free",
                "return_type": "number",
                "evaluator_type": "human",
            },
        ),
    }
    ids = {kind: f["id"] if isinstance(f, dict) else f.id for kind, f in made.items()}
    for kind, file_id in ids.items():
        listed = api.get(f"/v5/{kind}", params={"name": base}).json()
        assert [r["id"] for r in listed["records"]] == [file_id], kind
    everything = hl.files.list_files(path=base, size=10, sort_by="name", order="asc")
    assert [f.id for f in everything.records] == [
        ids[k] for k in ("agents", "evaluators", "flows", "prompts", "tools")
    ]
    only = hl.files.list_files(path=base, type=["flow", "tool"], sort_by="name", order="asc")
    assert [f.type for f in only.records] == ["flow", "tool"] and only.total == 2
    assert hl.files.list_files(path=f"{base}/{base}-p", size=10).total == 0, (
        "a directory, not a prefix"
    )

    # A prompt with a log and a monitoring evaluator: the File goes, the log stays.
    log = hl.prompts.log(id=ids["prompts"], output="kept")
    hl.prompts.update_monitoring(
        ids["prompts"], activate=[{"evaluator_version_id": made["evaluators"].version_id}]
    )
    hl.prompts.delete(ids["prompts"])
    assert status_of(hl.prompts.get, ids["prompts"]) == 404
    assert status_of(hl.prompts.delete, ids["prompts"]) == 404
    assert hl.logs.get(log.id)["output"] == "kept"
    assert api.get(f"/api/request-logs/{log.id}/").status_code == 200
    assert status_of(hl.flows.delete, ids["tools"]) == 404, "a tool is not a flow"
    hl.tools.delete(ids["tools"])
    hl.flows.delete(ids["flows"])
    hl.evaluators.delete(ids["evaluators"])
    assert api.delete(f"/v5/agents/{ids['agents']}").status_code == 204
    assert hl.files.list_files(path=base).total == 0
    # The path is free again: a log there makes a new File.
    again = hl.prompts.log(path=f"{base}/{base}-p", prompt={"model": "m"}, output="new")
    assert again.prompt_id != ids["prompts"]


def test_files_move_and_rename(hl: Humanloop) -> None:
    base = uuid.uuid4().hex[:8]
    prompt = hl.prompts.upsert(path=f"{base}/a/first", model="m")
    other = hl.prompts.upsert(path=f"{base}/b/other", model="m")
    moved = hl.prompts.move(prompt.id, path=f"{base}/b/second")
    assert moved.path == f"{base}/b/second" and moved.name == "second" and moved.id == prompt.id
    renamed = hl.prompts.move(prompt.id, name="third")
    assert renamed.path == f"{base}/b/third"
    assert hl.files.retrieve_by_path(path=f"{base}/b/third").id == prompt.id
    assert status_of(hl.prompts.move, prompt.id, path=other.path) == 409
    assert status_of(hl.prompts.move, prompt.id, name="a/b") == 422
    assert status_of(hl.prompts.move, "pr_nope", name="x") == 404
    # A log to the old path makes a new File there, not a version of the moved one.
    fresh = hl.prompts.log(path=f"{base}/a/first", prompt={"model": "m"}, output="x")
    assert fresh.prompt_id != prompt.id


def test_versions_listed_named_and_deleted(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/versioned"
    first = hl.prompts.upsert(path=path, model="m", temperature=0.1, version_name="v1")
    second = hl.prompts.upsert(path=path, model="m", temperature=0.2)
    third = hl.prompts.log(path=path, prompt={"model": "m", "temperature": 0.3}, output="o")
    versions = hl.prompts.list_versions(first.id).records
    assert [v.version_id for v in versions] == [
        third.version_id,
        second.version_id,
        first.version_id,
    ]
    assert [v.temperature for v in versions] == [0.3, 0.2, 0.1]
    assert versions[0].version_logs_count == 1 and versions[0].total_logs_count == 1

    named = hl.prompts.patch_prompt_version(
        first.id, second.version_id, name="v2", description="warmer"
    )
    assert named.version_id == second.version_id
    assert (named.version_name, named.version_description) == ("v2", "warmer")
    got = hl.prompts.get(first.id, version_id=second.version_id)
    assert got.version_name == "v2" and got.temperature == 0.2
    taken = status_of(hl.prompts.patch_prompt_version, first.id, second.version_id, name="v1")
    assert taken == 409
    unset = hl.prompts.patch_prompt_version(first.id, second.version_id, description=None)
    assert unset.version_name == "v2" and unset.version_description is None

    hl.prompts.delete_prompt_version(first.id, third.version_id)
    assert hl.prompts.get(first.id).version_id == second.version_id, "the newest left"
    assert status_of(hl.prompts.get, first.id, version_id=third.version_id) == 404
    assert status_of(hl.prompts.delete_prompt_version, first.id, third.version_id) == 404
    hl.prompts.delete_prompt_version(first.id, first.version_id)
    only = status_of(hl.prompts.delete_prompt_version, first.id, second.version_id)
    assert only == 409, "a File keeps one version"
    assert [v.version_id for v in hl.prompts.list_versions(first.id).records] == [second.version_id]
    assert status_of(hl.prompts.list_versions, "pr_nope") == 404

    flow = hl.flows.upsert(path=f"{path}-flow", attributes={"a": 1})
    hl.flows.upsert(path=f"{path}-flow", attributes={"a": 2})
    assert [v.attributes for v in hl.flows.list_versions(flow.id).records] == [{"a": 2}, {"a": 1}]
    tool = hl.tools.upsert(path=f"{path}-tool", function={"name": "f"})
    updated = hl.tools.update_tool_version(tool.id, tool.version_id, name="stable")
    assert updated.version_name == "stable"
    assert status_of(hl.flows.list_versions, tool.id) == 404, "a tool is not a flow"


def test_files_of_another_organization_are_out_of_reach(hl: Humanloop, tenant_factory) -> None:
    prompt = hl.prompts.upsert(path=f"{uuid.uuid4().hex[:8]}/mine", model="m")
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    assert other.files.list_files().total == 0
    assert status_of(other.prompts.delete, prompt.id) == 404
    assert status_of(other.prompts.list_versions, prompt.id) == 404
    assert status_of(other.prompts.delete_prompt_version, prompt.id, prompt.version_id) == 404
    assert hl.prompts.get(prompt.id).id == prompt.id
