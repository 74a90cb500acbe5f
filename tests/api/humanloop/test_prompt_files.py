"""`.prompt` text through the official SDK: `serialize` writes a version, `deserialize`
reads it back to the same kernel, and a `.prompt` text is a kernel wherever one is sent."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError

from llmtrail.core.prompt_files import dump, parse
from tests.conftest import Tenant

KERNEL = {
    "model": "gpt-4o",
    "temperature": 0.7,
    "max_tokens": 200,
    "stop": ["\n\n"],
    "tools": [{"name": "lookup", "description": "Look up.", "parameters": {"type": "object"}}],
    "template": [
        {"role": "system", "content": "You answer as {{persona}}.\nBriefly."},
        {"role": "user", "content": "{{question}}"},
    ],
}


@pytest.fixture
def hl(tenant: Tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def test_serialize_writes_front_matter_and_tagged_messages(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/serialized"
    first = hl.prompts.upsert(path=path, **KERNEL)
    text = hl.prompts.serialize(first.id)
    assert text.startswith("---\nmodel: gpt-4o\nmax_tokens: 200\ntemperature: 0.7\n")
    assert (
        "<system>\nYou answer as {{persona}}.\nBriefly.\n</system>\n<user>\n{{question}}\n</user>"
        in text
    )
    assert hl.prompts.deserialize(prompt=text).dict(exclude_unset=True) == KERNEL

    newer = hl.prompts.upsert(path=path, **{**KERNEL, "temperature": 0.1})
    assert "temperature: 0.1" in hl.prompts.serialize(newer.id)
    older = hl.prompts.serialize(first.id, version_id=first.version_id)
    assert "temperature: 0.7" in older
    hl.prompts.set_deployment(first.id, "staging", version_id=first.version_id)
    assert hl.prompts.serialize(first.id, environment="staging") == older
    with pytest.raises(ApiError) as missing:
        hl.prompts.serialize("pr_nope")
    assert missing.value.status_code == 404


def test_a_prompt_text_is_a_kernel_when_logging_and_calling(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/from-text"
    logged = hl.prompts.log(path=path, prompt=dump(KERNEL), output="x")
    prompt = hl.prompts.get(logged.prompt_id)
    assert (prompt.model, prompt.temperature) == ("gpt-4o", 0.7)
    assert prompt.template == KERNEL["template"]


def test_agents_round_trip_too(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/agent"
    agent = hl.agents.upsert(path=path, model="gpt-4o", template="Plan: {{goal}}")
    text = hl.agents.serialize(agent.id)
    assert hl.agents.deserialize(agent=text).template == "Plan: {{goal}}"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("model: gpt-4o\n<user>hi</user>", "starts with a `---` front matter"),
        ("---\nmodel: [unclosed\n---\n", "not YAML"),
        ("---\n- a list\n---\n", "not a mapping"),
        ("---\ntemperature: 1\n---\n<user>\nhi\n</user>\n", "no `model`"),
        ("---\nmodel: m\n---\nstray <user>\nhi\n</user>\n", "text outside a message tag"),
    ],
)
def test_what_is_not_a_prompt_text_is_refused_saying_why(
    hl: Humanloop, text: str, says: str
) -> None:
    with pytest.raises(ApiError) as refused:
        hl.prompts.deserialize(prompt=text)
    assert refused.value.status_code == 422
    [error] = refused.value.body.detail
    assert error.loc == ["body", "prompt"] and says in error.msg


@pytest.mark.parametrize(
    "kernel",
    [
        KERNEL,
        {"model": "m", "template": "Say {{x}}.\n"},
        {"model": "m", "template": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]},
        {"model": "m", "template": [{"role": "user", "content": "quotes </user> itself"}]},
        {"model": "m", "template": [{"role": "assistant", "content": None, "tool_calls": []}]},
        {"model": "m"},
    ],
)
def test_every_kernel_survives_the_round_trip(kernel: dict) -> None:
    assert parse(dump(kernel)) == kernel
