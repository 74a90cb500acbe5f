"""Keywords AI prompts through the official `keywordsai==1.0.4` SDK's `PromptAPI`, over the
Humanloop Prompt Files: one prompt, seen by both dialects (the same id, the same versions),
drafts edited until committed, deployed or logged, and the refusals that say why."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from humanloop import Humanloop
from keywordsai.prompts.api import PromptAPI
from keywordsai_sdk.keywordsai_types.prompt_types import Prompt, PromptVersion

from tests.conftest import Tenant

MESSAGES = [
    {"role": "system", "content": "You answer as {{persona}}."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture
def prompts(tenant: Tenant) -> PromptAPI:
    return PromptAPI(api_key=tenant.key, base_url=tenant.base_url)


@pytest.fixture
def hl(tenant: Tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def refused(call: Any, *args: Any) -> httpx.Response:
    """The answer to an SDK call that fails (the SDK raises httpx's error)."""
    with pytest.raises(httpx.HTTPStatusError) as error:
        call(*args)
    return error.value.response


def test_sdk_prompt_lifecycle_seen_by_humanloop(
    tenant: Tenant, prompts: PromptAPI, hl: Humanloop
) -> None:
    made = prompts.create()
    assert isinstance(made, Prompt) and made.id.startswith("pr_")
    assert (made.name, made.prompt_id, made.full_prompt_id) == ("Untitled", made.id, made.id)
    draft = made.current_version
    assert draft is not None and (draft.version, draft.readonly, draft.messages) == (1, False, [])
    assert made.live_version is None and made.commit_count == 0
    name = f"support-{uuid.uuid4().hex[:6]}"
    renamed = prompts.update(made.id, Prompt(name=name, description="Answers customers"))
    assert (renamed.name, renamed.description, renamed.prompt_slug) == (
        name,
        "Answers customers",
        name,
    )

    version = PromptVersion(
        messages=MESSAGES,
        model="gpt-4o",
        temperature=0.2,
        max_tokens=256,
        variables={"persona": "a pirate"},
    )
    second = prompts.create_version(made.id, version)
    assert (second.version, second.readonly, second.model, second.temperature) == (
        2,
        False,
        "gpt-4o",
        0.2,
    )
    assert [m.content for m in second.messages] == [m["content"] for m in MESSAGES]
    assert second.variables == {"persona": "a pirate"} and second.prompt == made.id

    edited = prompts.update_version(made.id, 2, {"temperature": 0.5, "description": "warmer"})
    assert (edited.id, edited.temperature, edited.description) == (second.id, 0.5, "warmer")
    assert edited.max_tokens == 256, "settings left out stay as they were"
    assert prompts.get_version(made.id, 2).temperature == 0.5
    listed = prompts.list_versions(made.id)
    assert [v.version for v in listed.results] == [2, 1] and listed.count == 2

    # Deploying needs a committed version; committing freezes the settings, not the description.
    nothing = refused(prompts.deploy, made.id)
    assert nothing.status_code == 400 and "no committed version" in nothing.json()["deploy"][0]
    assert prompts.update_version(made.id, 2, {"readonly": True}).readonly is True
    frozen = refused(prompts.update_version, made.id, 2, {"temperature": 0.9})
    assert frozen.status_code == 400 and "read-only" in frozen.json()["version"][0]
    assert prompts.update_version(made.id, 2, {"description": "final"}).description == "final"
    again = refused(prompts.update_version, made.id, 2, {"readonly": False})
    assert again.status_code == 400 and "readonly" in again.json()

    live = prompts.deploy(made.id)
    assert live.live_version is not None and live.live_version.version == 2
    assert live.commit_count == 1 and live.current_version.version == 2
    page = prompts.list(page=1, page_size=10)
    assert [p.id for p in page.results] == [made.id] and page.count == 1

    # The same File in the Humanloop dialect: its default (deployed) version is version 2.
    file = hl.prompts.get(made.id)
    assert (file.name, file.version_id, file.model, file.temperature) == (
        name,
        second.id,
        "gpt-4o",
        0.5,
    )
    assert file.template == MESSAGES
    assert [e.name for e in file.environments] == ["production"]
    assert [v.version_id for v in hl.prompts.list_versions(made.id).records] == [
        second.id,
        draft.id,
    ]
    assert hl.prompts.get(made.id, version_id=second.id).version_description == "final"

    # The SDK's delete passes `json=` to httpx's delete(), which takes none: sent as meant.
    with tenant.client() as api:
        assert api.delete(f"/api/prompts/{made.id}").status_code == 204
        assert api.get(f"/api/prompts/{made.id}/").status_code == 404
    assert refused(prompts.get, made.id).json() == {"detail": "Prompt not found"}


def test_humanloop_prompt_seen_by_keywords(prompts: PromptAPI, hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/triage"
    first = hl.prompts.upsert(path=path, model="gpt-4o-mini", template=MESSAGES, temperature=0.3)
    found = prompts.get(first.id)
    assert (found.name, found.prompt_slug, found.commit_count) == ("triage", path, 1)
    one = found.current_version
    assert (one.id, one.version, one.readonly, one.model) == (
        first.version_id,
        1,
        True,
        "gpt-4o-mini",
    )
    assert one.max_tokens == 4096, "a setting the kernel leaves out shows the SDK's default"
    assert refused(prompts.update_version, first.id, 1, {"temperature": 1.0}).status_code == 400

    # A Keywords AI draft is a version of the File; a Humanloop upsert of its kernel commits it.
    draft = prompts.create_version(
        first.id, {"messages": MESSAGES, "model": "gpt-4o", "temperature": 0.1}
    )
    assert (draft.version, draft.readonly) == (2, False)
    assert [v.version_id for v in hl.prompts.list_versions(first.id).records] == [
        draft.id,
        first.version_id,
    ]
    hl_kernel = hl.prompts.get(first.id, version_id=draft.id)
    kernel = {k: getattr(hl_kernel, k) for k in ("model", "temperature", "max_tokens", "top_p")}
    same = hl.prompts.upsert(
        path=path, template=MESSAGES, **kernel, frequency_penalty=0.0, presence_penalty=0.0
    )
    assert same.version_id == draft.id
    assert prompts.get_version(first.id, 2).readonly is True

    # A log makes a draft read-only; a Humanloop deployment shows as the live version.
    third = prompts.create_version(
        first.id, {"messages": MESSAGES, "model": "gpt-4o", "temperature": 0.9}
    )
    hl.prompts.log(id=first.id, version_id=third.id, output="ok")
    assert prompts.get_version(first.id, 3).readonly is True
    hl.prompts.set_deployment(first.id, "production", version_id=first.version_id)
    assert prompts.get(first.id).live_version.id == first.version_id

    # Deploying a version by its PATCH commits and deploys it; Humanloop then uses it.
    fourth = prompts.create_version(first.id, {"messages": MESSAGES[1:], "model": "gpt-4o"})
    deployed = prompts.update_version(first.id, fourth.version, {"deploy": True})
    assert deployed.readonly is True
    assert hl.prompts.get(first.id).version_id == fourth.id
    assert hl.prompts.get(first.id).template == MESSAGES[1:]


def test_bad_input_is_refused_naming_the_field(tenant: Tenant, prompts: PromptAPI) -> None:
    made = prompts.create()
    other = prompts.create()
    assert other.name.startswith("Untitled ") and other.prompt_slug == other.name, "names repeat"
    with tenant.client() as api:
        versions = f"/api/prompts/{made.id}/versions/"

        def bad(method: str, url: str, body: Any) -> dict[str, Any]:
            answer = api.request(method, url, json=body)
            assert answer.status_code == 400, answer.text
            return answer.json()

        assert "temperature" in bad("POST", versions, {"temperature": 5})
        assert (
            "role"
            in bad("POST", versions, {"messages": [{"role": "robot", "content": "x"}]})["messages"][
                "0"
            ]
        )
        assert "tools" in bad("POST", versions, {"tools": [{"type": "retrieval"}]})
        assert "response_format" in bad("POST", versions, {"response_format": "json"})
        assert "integer" in bad("GET", f"{versions}abc/", None)["path"]["version"][0]
        assert "1" in bad("GET", f"{versions}0/", None)["path"]["version"][0]
        assert "name" in bad("PATCH", f"/api/prompts/{made.id}/", {"name": "a/b"})
        assert api.get(f"{versions}99/").json() == {"detail": "Version 99 of this prompt not found"}
        assert api.get("/api/prompts/pr_nope/versions/").status_code == 404

        # A draft edited to another version's settings, a name another File has: 409.
        v2 = api.post(versions, json={"model": "gpt-4o"}).json()
        assert v2["version"] == 2
        clash = api.patch(f"{versions}2/", json={"model": "gpt-3.5-turbo", "messages": []})
        assert clash.status_code == 409 and clash.json() == {
            "detail": "version 1 of this prompt has these settings"
        }
        taken = api.patch(f"/api/prompts/{made.id}/", json={"name": other.name})
        assert taken.status_code == 409
        # A refused change changes nothing: the draft is as it was.
        assert api.get(f"{versions}2/").json() == v2
        same = api.post(versions, json={"model": "gpt-4o"})
        assert same.status_code == 201 and same.json()["id"] == v2["id"], (
            "a version is its settings"
        )


def test_another_organization_sees_none_of_it(tenant_factory, prompts: PromptAPI) -> None:
    made = prompts.create()
    prompts.create_version(made.id, {"model": "gpt-4o"})
    stranger = tenant_factory()
    theirs = PromptAPI(api_key=stranger.key, base_url=stranger.base_url)
    assert theirs.list().count == 0
    for call, args in (
        (theirs.get, (made.id,)),
        (theirs.update, (made.id, {"name": "mine"})),
        (theirs.list_versions, (made.id,)),
        (theirs.get_version, (made.id, 1)),
        (theirs.update_version, (made.id, 2, {"temperature": 0.1})),
        (theirs.create_version, (made.id, {"model": "m"})),
    ):
        assert refused(call, *args).status_code == 404
    with stranger.client() as api:
        assert api.delete(f"/api/prompts/{made.id}/").status_code == 404
    kept = prompts.get(made.id)
    assert kept.name == "Untitled" and [v.version for v in kept.prompt_versions] == [2, 1]
    assert kept.prompt_versions[0].temperature == 0.7


def test_version_numbers_are_never_reused(prompts: PromptAPI, hl: Humanloop) -> None:
    made = prompts.create()
    for temperature in (0.1, 0.2):
        prompts.create_version(made.id, {"model": "gpt-4o", "temperature": temperature})
    third = prompts.get_version(made.id, 3)
    hl.prompts.delete_prompt_version(made.id, third.id)
    assert refused(prompts.get_version, made.id, 3).status_code == 404
    fourth = prompts.create_version(made.id, {"model": "gpt-4o", "temperature": 0.3})
    assert fourth.version == 4
    assert [v.version for v in prompts.list_versions(made.id).results] == [4, 2, 1]
