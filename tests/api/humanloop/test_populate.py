"""`prompts.populate`: a Prompt's template filled with inputs, through the official SDK."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def test_populate_fills_chat_and_text_templates(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/populated"
    chat = [
        {"role": "system", "content": "You answer as {{persona}}."},
        {"role": "user", "content": [{"type": "text", "text": "{{ question }} {{unknown}}"}]},
    ]
    first = hl.prompts.upsert(path=path, model="gpt-4o", template=chat)
    inputs = {"persona": "a pirate", "question": {"q": "why?"}}
    filled = hl.prompts.populate(first.id, request=inputs)
    assert filled.id == first.id and filled.version_id == first.version_id
    system, user = filled.populated_template  # the SDK leaves them as dicts
    assert system["content"] == "You answer as a pirate."
    assert user["content"][0]["text"] == '{"q":"why?"} {{unknown}}'

    text = hl.prompts.upsert(path=path, model="gpt-4o", template="Hello {{name}}, {{name}}!")
    assert hl.prompts.populate(first.id, request={"name": "{{persona}}"}).populated_template == (
        "Hello {{persona}}, {{persona}}!"
    ), "one pass: a value is never read as a template"
    older = hl.prompts.populate(first.id, request={"persona": "p"}, version_id=first.version_id)
    assert older.populated_template[0]["content"] == "You answer as p."
    hl.prompts.set_deployment(first.id, "staging", version_id=first.version_id)
    staged = hl.prompts.populate(first.id, request={}, environment="staging")
    assert staged.version_id == first.version_id != text.version_id
    with pytest.raises(ApiError) as missing:
        hl.prompts.populate("pr_nope", request={})
    assert missing.value.status_code == 404
