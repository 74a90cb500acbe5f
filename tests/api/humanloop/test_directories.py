"""Directories through the official SDK: made with their ancestors, holding the Files at
their paths, moved with everything under them, and deleted only when empty."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError

from tests.conftest import Tenant


@pytest.fixture
def hl(tenant: Tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def status_of(call, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as refused:
        call(*args, **kwargs)
    return refused.value.status_code


def test_a_directory_is_made_with_its_ancestors_and_holds_the_files_at_its_path(
    hl: Humanloop,
) -> None:
    root = uuid.uuid4().hex[:8]
    leaf = hl.directories.create(path=f"{root}/team/evals")
    assert (leaf.name, leaf.path, leaf.id[:4]) == ("evals", f"{root}/team/evals", "dir_")
    by_path = {d.path: d for d in hl.directories.list()}
    assert {f"{root}", f"{root}/team", f"{root}/team/evals"} <= set(by_path)
    team = by_path[f"{root}/team"]
    assert leaf.parent_id == team.id and team.parent_id == by_path[root].id
    assert by_path[root].parent_id is None

    sibling = hl.directories.create(name="other", parent_id=team.id)
    assert sibling.path == f"{root}/team/other"
    prompt = hl.prompts.upsert(path=f"{root}/team/greeter", model="gpt-4o", template="hi")
    hl.tools.upsert(path=f"{root}/team/evals/deeper", function={"name": "f"})
    assert prompt.directory_id == team.id
    assert hl.prompts.get(prompt.id).directory_id == team.id

    got = hl.directories.get(team.id)
    assert [d.name for d in got.subdirectories] == ["evals", "other"]
    assert [f.path for f in got.files] == [f"{root}/team/greeter"], "only what is right in it"
    assert got.files[0].type == "prompt"
    assert [p.path for p in got.parents] == [root]

    assert status_of(hl.directories.create, path=f"{root}/team") == 409
    assert status_of(hl.directories.create, path=f"{root}/team/greeter") == 409, "a File's"
    assert status_of(hl.directories.create, path="a//b") == 422
    assert status_of(hl.directories.get, "dir_nope") == 404


def test_moving_a_directory_moves_everything_under_it(hl: Humanloop) -> None:
    root = uuid.uuid4().hex[:8]
    src = hl.directories.create(path=f"{root}/src/inner")
    top = hl.directories.get(src.id).parents[-1]  # `{root}/src`
    prompt = hl.prompts.upsert(path=f"{root}/src/inner/p", model="gpt-4o", template="hi")
    hl.prompts.log(path=f"{root}/src/inner/p", prompt={"model": "gpt-4o"}, output="x")

    moved = hl.directories.update(top.id, path=f"{root}/dst")
    assert (moved.path, moved.name) == (f"{root}/dst", "dst")
    assert hl.directories.get(src.id).path == f"{root}/dst/inner"
    assert hl.prompts.get(prompt.id).path == f"{root}/dst/inner/p"
    # A log by the new path finds the moved File, not a new one at an old path.
    logged = hl.prompts.log(path=f"{root}/dst/inner/p", prompt={"model": "gpt-4o"}, output="y")
    assert logged.prompt_id == prompt.id

    renamed = hl.directories.update(src.id, name="renamed")
    assert renamed.path == f"{root}/dst/renamed"
    assert hl.prompts.get(prompt.id).path == f"{root}/dst/renamed/p"
    to_root = hl.directories.update(src.id, parent_id=None)
    assert (to_root.path, to_root.parent_id) == ("renamed", None)
    assert hl.prompts.get(prompt.id).path == "renamed/p"

    assert status_of(hl.directories.update, top.id, path=f"{root}/dst/x") == 422, "into itself"
    assert status_of(hl.directories.update, top.id, path="renamed") == 409, "taken"
    assert status_of(hl.directories.update, "dir_nope", name="n") == 404


def test_only_an_empty_directory_is_deleted(hl: Humanloop) -> None:
    root = uuid.uuid4().hex[:8]
    holder = hl.directories.create(path=f"{root}/holder")
    prompt = hl.prompts.upsert(path=f"{root}/holder/p", model="gpt-4o", template="hi")
    assert status_of(hl.directories.delete, holder.id) == 409
    parent = hl.directories.get(holder.id).parents[0]
    assert status_of(hl.directories.delete, parent.id) == 409, "a subdirectory is in it"

    hl.prompts.delete(prompt.id)
    hl.directories.delete(holder.id)
    hl.directories.delete(parent.id)
    assert status_of(hl.directories.get, holder.id) == 404
    assert root not in {d.path for d in hl.directories.list()}


def test_directories_are_the_organizations_own(hl: Humanloop, tenant_factory) -> None:  # type: ignore[no-untyped-def]
    mine = hl.directories.create(path=f"{uuid.uuid4().hex[:8]}/mine")
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    assert mine.id not in {d.id for d in other.directories.list()}
    assert status_of(other.directories.get, mine.id) == 404
    assert status_of(other.directories.update, mine.id, name="x") == 404
    assert status_of(other.directories.delete, mine.id) == 404
