"""Humanloop Datasets through the official SDK (`datasets.*`), over the datasets the Keywords
AI dialect shares: versions, set/add/remove, deduplication, CSV upload, both dialects."""

from __future__ import annotations

import uuid

import httpx
import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError


@pytest.fixture
def hl(tenant) -> Humanloop:  # type: ignore[no-untyped-def]
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def point(question: str, answer: str | None = None) -> dict:
    made: dict = {"inputs": {"question": question}}
    if answer is not None:
        made["target"] = {"answer": answer}
    return made


def inputs_of(records) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.inputs["question"] for p in records]


def test_upsert_versions_and_actions(hl: Humanloop) -> None:
    path = f"evals/{uuid.uuid4().hex[:8]}/golden"
    first = hl.datasets.upsert(
        path=path,
        datapoints=[point("a", "A"), point("b", "B"), point("a", "A")],
        version_name="v1",
        version_description="two questions",
    )
    assert first.id.startswith("ds_") and first.version_id.startswith("dsv_")
    assert first.name == "golden" and first.path == path and first.type == "dataset"
    assert first.datapoints_count == 2, "identical Datapoints are one"
    assert first.version_name == "v1" and first.datapoints is None

    added = hl.datasets.upsert(
        path=path,
        datapoints=[point("b", "B"), point("c"), {"inputs": {"question": "c", "_dedupe_id": "2"}}],
        action="add",
        version_name="v2",
        include_datapoints=True,
    )
    assert added.id == first.id and added.version_id != first.version_id
    assert added.datapoints_count == 4 and added.datapoints is not None
    assert inputs_of(added.datapoints) == ["a", "b", "c", "c"]
    assert added.datapoints[0].target == {"answer": "A"}

    removed = hl.datasets.upsert(id=first.id, datapoints=[point("a", "A")], action="remove")
    assert removed.datapoints_count == 3
    # `add` on top of v1 (not the newest): v1's two ("a" brought back) and the new one.
    based = hl.datasets.upsert(
        id=first.id, datapoints=[point("z")], action="add", version_id=first.version_id
    )
    held = inputs_of(hl.datasets.list_datapoints(first.id, version_id=based.version_id))
    assert sorted(held) == ["a", "b", "z"]
    replaced = hl.datasets.upsert(id=first.id, datapoints=[point("only")], version_name="v5")
    assert replaced.datapoints_count == 1

    # Every version keeps what it held.
    versions = hl.datasets.list_versions(first.id).records
    assert [v.version_name for v in versions] == ["v1", "v2", None, None, "v5"]
    assert [v.datapoints_count for v in versions] == [2, 4, 3, 3, 1]
    old = hl.datasets.get(first.id, version_id=first.version_id, include_datapoints=True)
    assert inputs_of(old.datapoints) == ["a", "b"] and old.version_description == "two questions"
    assert hl.datasets.get(first.id).version_id == replaced.version_id, "the newest by default"
    newest = hl.datasets.list_versions(first.id, include_datapoints="latest_saved").records
    assert inputs_of(newest[-1].datapoints) == ["only"] and newest[0].datapoints is None

    with pytest.raises(ApiError) as taken:
        hl.datasets.upsert(id=first.id, datapoints=[point("x")], version_name="v1")
    assert taken.value.status_code == 409
    assert hl.datasets.get(first.id).datapoints_count == 1, "a refused upsert changes nothing"


def test_list_datapoints_pages_and_list_datasets(hl: Humanloop) -> None:
    base = uuid.uuid4().hex[:8]
    dataset = hl.datasets.upsert(
        path=f"dir/{base}-paged", datapoints=[point(str(n)) for n in range(7)]
    )
    page = hl.datasets.list_datapoints(dataset.id, page=2, size=3)
    assert inputs_of(page.items) == ["3", "4", "5"]
    assert inputs_of(hl.datasets.list_datapoints(dataset.id, size=3)) == [str(n) for n in range(7)]
    hl.datasets.upsert(path=f"dir/{base}-other", datapoints=[point("x")])
    named = list(hl.datasets.list(name=base.upper(), size=10))
    assert {d.path for d in named} == {f"dir/{base}-paged", f"dir/{base}-other"}
    by_name = hl.datasets.list(sort_by="name", order="asc", size=1000)
    assert [d.name for d in by_name.items] == sorted(d.name for d in by_name.items)


def test_move_and_rename(hl: Humanloop) -> None:
    base = uuid.uuid4().hex[:8]
    dataset = hl.datasets.upsert(path=f"{base}/a/set", datapoints=[point("x")], version_name="v")
    moved = hl.datasets.move(dataset.id, path=f"{base}/b/renamed")
    assert (moved.path, moved.name) == (f"{base}/b/renamed", "renamed")
    assert moved.version_id == dataset.version_id and moved.datapoints_count == 1
    renamed = hl.datasets.move(dataset.id, name="again")
    assert renamed.path == f"{base}/b/again"
    hl.datasets.upsert(path=f"{base}/taken", datapoints=[])
    with pytest.raises(ApiError) as taken:
        hl.datasets.move(dataset.id, path=f"{base}/taken")
    assert taken.value.status_code == 409
    again = hl.datasets.upsert(path=f"{base}/b/again", datapoints=[point("y")], action="add")
    assert again.id == dataset.id, "found at its new path"


def test_delete_and_404(hl: Humanloop, tenant_factory) -> None:  # type: ignore[no-untyped-def]
    dataset = hl.datasets.upsert(path=f"{uuid.uuid4().hex[:8]}/gone", datapoints=[point("x")])
    other = tenant_factory()
    stranger = Humanloop(api_key=other.key, base_url=other.base_url + "/v5")
    with pytest.raises(ApiError) as theirs:
        stranger.datasets.get(dataset.id)
    assert theirs.value.status_code == 404
    hl.datasets.delete(dataset.id)
    for call in (
        lambda: hl.datasets.get(dataset.id),
        lambda: hl.datasets.list_versions(dataset.id),
        lambda: hl.datasets.list_datapoints(dataset.id),
        lambda: hl.datasets.delete(dataset.id),
        lambda: hl.datasets.get("ds_none", version_id="dsv_none"),
    ):
        with pytest.raises(ApiError) as missing:
            call()
        assert missing.value.status_code == 404


def test_upload_csv_adds_a_version(hl: Humanloop) -> None:
    dataset = hl.datasets.upsert(path=f"{uuid.uuid4().hex[:8]}/csv", datapoints=[point("a")])
    body = (
        "question,context,messages,target\r\n"
        'b,"with, a comma",,"{""answer"": ""B""}"\r\n'
        'c,,"[{""role"": ""user"", ""content"": ""hi""}]",\r\n'
        "a,,,\r\n"
    )
    uploaded = hl.datasets.upload_csv(
        dataset.id, file=("points.csv", body.encode(), "text/csv"), version_name="from csv"
    )
    assert uploaded.version_name == "from csv" and uploaded.datapoints_count == 3
    b, c = hl.datasets.list_datapoints(dataset.id, page=1, size=10).items[1:]
    assert b.inputs == {"question": "b", "context": "with, a comma"}
    assert b.target == {"answer": "B"} and b.messages is None
    assert c.messages[0].content == "hi" and c.target is None
    with pytest.raises(ApiError) as bad:
        hl.datasets.upload_csv(dataset.id, file=("x.csv", b"q,target\r\nx,[1]\r\n", "text/csv"))
    assert bad.value.status_code == 422 and "target" in str(bad.value.body)


def test_one_dataset_in_both_dialects(hl: Humanloop, tenant) -> None:  # type: ignore[no-untyped-def]
    with tenant.client() as api:
        made = api.post("/api/datasets/", json={"name": "kw made", "is_empty": True}).json()
        body = {"input": {"question": "from kw"}, "output": "an answer"}
        log = api.post(f"/api/datasets/{made['id']}/logs/", json=body).json()["log_data"]
        seen = hl.datasets.get(made["id"], include_datapoints=True)
        assert seen.version_id.endswith("_draft") and seen.datapoints_count == 1
        [datapoint] = seen.datapoints
        assert datapoint.id == log["unique_id"] and datapoint.inputs == {"question": "from kw"}
        assert datapoint.target == {"output": "an answer"}
        # The same content sent from Humanloop is the same Datapoint.
        again = hl.datasets.upsert(
            id=made["id"], datapoints=[{"inputs": {"question": "from kw"}}], action="add"
        )
        assert again.datapoints_count == 2, "its target differs: another Datapoint"
        same = hl.datasets.upsert(
            id=made["id"],
            datapoints=[{"inputs": {"question": "from kw"}, "target": {"output": "an answer"}}],
            action="remove",
        )
        assert same.datapoints_count == 1

        hl_made = hl.datasets.upsert(
            path=f"{uuid.uuid4().hex[:8]}/hl made", datapoints=[point("q1"), point("q2")]
        )
        listed = api.get(f"/api/datasets/{hl_made.id}/logs/list/").json()
        assert listed["count"] == 2
        assert api.get(f"/api/datasets/{hl_made.id}/").json()["name"] == "hl made"
        exported = api.get(f"/api/datasets/{hl_made.id}/export/")
        assert exported.status_code == 200 and len(exported.content.splitlines()) == 2


def test_bad_upserts_are_422_naming_the_field(tenant) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as api:
        no_points = api.post("/v5/datasets", json={"path": "x"})
        assert no_points.status_code == 422 and "datapoints" in no_points.text
        no_path = api.post("/v5/datasets", json={"datapoints": []})
        assert no_path.status_code == 422 and "path" in no_path.text
        action = api.post("/v5/datasets", json={"path": "x", "datapoints": [], "action": "swap"})
        assert action.status_code == 422 and "action" in action.text
        inputs = api.post("/v5/datasets", json={"path": "x", "datapoints": [{"inputs": [1]}]})
        assert inputs.status_code == 422 and "inputs" in inputs.text


def test_concurrent_upserts_each_commit_a_version(hl: Humanloop) -> None:
    from concurrent.futures import ThreadPoolExecutor

    dataset = hl.datasets.upsert(path=f"{uuid.uuid4().hex[:8]}/busy", datapoints=[point("0")])

    def add(n: int) -> str:
        return hl.datasets.upsert(id=dataset.id, datapoints=[point(str(n))], action="add").id

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(add, range(1, 9))) == {dataset.id}
    versions = hl.datasets.list_versions(dataset.id).records
    assert len(versions) == 9 and versions[-1].datapoints_count == 9


def status_of(call, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as refused:
        call(*args, **kwargs)
    return refused.value.status_code


def versions_of(hl: Humanloop, dataset_id: str) -> list[tuple[str | None, list[str]]]:
    """Each version's name and Datapoints (their questions, sorted), oldest first."""
    return [
        (
            v.version_name,
            sorted(inputs_of(hl.datasets.list_datapoints(dataset_id, version_id=v.version_id))),
        )
        for v in hl.datasets.list_versions(dataset_id).records
    ]


def test_versions_are_named_and_deleted_and_the_others_keep_their_datapoints(
    hl: Humanloop, tenant_factory
) -> None:  # type: ignore[no-untyped-def]
    path = f"{uuid.uuid4().hex[:8]}/versioned"
    v1 = hl.datasets.upsert(path=path, datapoints=[point("a"), point("b")], version_name="v1")
    key = v1.id
    v2 = hl.datasets.upsert(id=key, datapoints=[point("c")], action="add", version_name="v2")
    v3 = hl.datasets.upsert(id=key, datapoints=[point("a")], action="remove", version_name="v3")
    v4 = hl.datasets.upsert(id=key, datapoints=[point("d")], version_name="v4")

    named = hl.datasets.update_dataset_version(key, v2.version_id, name="two", description="c")
    assert (named.version_id, named.version_name, named.version_description) == (
        v2.version_id,
        "two",
        "c",
    )
    assert named.datapoints_count == 3
    unset = hl.datasets.update_dataset_version(key, v2.version_id, description=None)
    assert (unset.version_name, unset.version_description) == ("two", None), "null unsets"
    assert status_of(hl.datasets.update_dataset_version, key, v2.version_id, name="v1") == 409
    assert hl.datasets.get(key, version_id=v2.version_id).version_name == "two"

    # v3 builds on v2 (c came with it): deleting v2 leaves v3 whole.
    hl.datasets.delete_dataset_version(key, v2.version_id)
    assert versions_of(hl, key) == [("v1", ["a", "b"]), ("v3", ["b", "c"]), ("v4", ["d"])]
    assert status_of(hl.datasets.get, key, version_id=v2.version_id) == 404
    assert status_of(hl.datasets.delete_dataset_version, key, v2.version_id) == 404
    assert status_of(hl.datasets.update_dataset_version, key, v2.version_id, name="x") == 404

    # The newest: the Dataset reads at the newest left; the next version is made as ever.
    hl.datasets.delete_dataset_version(key, v4.version_id)
    assert hl.datasets.get(key).version_id == v3.version_id
    v5 = hl.datasets.upsert(
        id=key, datapoints=[point("e")], action="add", version_id=v3.version_id, version_name="v5"
    )
    assert versions_of(hl, key) == [("v1", ["a", "b"]), ("v3", ["b", "c"]), ("v5", ["b", "c", "e"])]

    other = tenant_factory()
    stranger = Humanloop(api_key=other.key, base_url=other.base_url + "/v5")
    assert status_of(stranger.datasets.delete_dataset_version, key, v1.version_id) == 404
    assert status_of(stranger.datasets.update_dataset_version, key, v1.version_id, name="x") == 404

    # With every version gone, the Dataset reads as its current Datapoints.
    for version in (v1, v3, v5):
        hl.datasets.delete_dataset_version(key, version.version_id)
    draft = hl.datasets.get(key)
    assert draft.version_id.endswith("_draft") and draft.datapoints_count == 3
    assert status_of(hl.datasets.delete_dataset_version, key, draft.version_id) == 404


def test_deleting_the_newest_version_keeps_the_changes_made_since(hl: Humanloop, tenant) -> None:  # type: ignore[no-untyped-def]
    v1 = hl.datasets.upsert(
        path=f"{uuid.uuid4().hex[:8]}/edited", datapoints=[point("a"), point("b")]
    )
    v2 = hl.datasets.upsert(id=v1.id, datapoints=[point("c")], action="add")
    [a] = [p.id for p in hl.datasets.list_datapoints(v1.id) if p.inputs["question"] == "a"]
    with tenant.client() as api:  # the Keywords AI dialect removes one since v2
        gone = {"filters": {"unique_id": {"operator": "in", "value": [a]}}}
        removed = api.request("DELETE", f"/api/datasets/{v1.id}/logs/delete/", json=gone)
        assert removed.status_code == 200, removed.text
        hl.datasets.delete_dataset_version(v1.id, v2.version_id)
        assert api.get(f"/api/datasets/{v1.id}/logs/list/").json()["count"] == 2, "as it is now"
    # The next version holds the Dataset as it is now: c (uncommitted again), not a.
    v3 = hl.datasets.upsert(id=v1.id, datapoints=[point("d")], action="add")
    assert versions_of(hl, v1.id) == [(None, ["a", "b"]), (None, ["b", "c", "d"])]
    assert v3.datapoints_count == 3


def test_a_version_in_use_is_not_deleted(hl: Humanloop) -> None:
    dataset = hl.datasets.upsert(path=f"{uuid.uuid4().hex[:8]}/used", datapoints=[point("a")])
    hl.datasets.set_deployment(dataset.id, "staging", version_id=dataset.version_id)
    with pytest.raises(ApiError) as deployed:
        hl.datasets.delete_dataset_version(dataset.id, dataset.version_id)
    assert deployed.value.status_code == 409 and "deployed" in str(deployed.value.body)
    hl.datasets.remove_deployment(dataset.id, "staging")

    prompt = hl.prompts.upsert(path=f"{uuid.uuid4().hex[:8]}/judged", model="gpt-4o")
    evaluation = hl.evaluations.create(file={"id": prompt.id}, evaluators=[])
    run = hl.evaluations.create_run(id=evaluation.id, dataset={"version_id": dataset.version_id})
    with pytest.raises(ApiError) as evaluated:
        hl.datasets.delete_dataset_version(dataset.id, dataset.version_id)
    assert evaluated.value.status_code == 409 and run.id in str(evaluated.value.body)
    hl.evaluations.remove_run(id=evaluation.id, run_id=run.id)
    hl.datasets.delete_dataset_version(dataset.id, dataset.version_id)
    assert hl.datasets.get(dataset.id).version_id.endswith("_draft")
