"""`logs.list(search=...)` finds a substring of a log's inputs, output and message contents,
in any case, through the search index the write path keeps (`store.search`)."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def found(hl: Humanloop, file_id: str, text: str) -> set[str]:
    return {log.id for log in hl.logs.list(file_id=file_id, search=text, size=50)}


def test_search_reads_inputs_output_and_messages(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/searched"
    prompt = {"model": "gpt-4o"}

    def log(**fields):  # type: ignore[no-untyped-def]
        return hl.prompts.log(path=path, prompt=prompt, **fields).id

    in_inputs = log(inputs={"question": "Where is my Parcel?"}, output="on its way")
    in_output = log(inputs={"q": "x"}, output="Your refund was approved")
    only_message = log(output_message={"role": "assistant", "content": "Une réponse Détaillée"})
    in_messages = log(messages=[{"role": "user", "content": "tell me about zebras"}])
    parts = [{"type": "text", "text": "a quokka smiles"}]
    in_parts = log(messages=[{"role": "user", "content": parts}])
    file_id = hl.logs.get(in_inputs)["prompt"]["id"]

    assert found(hl, file_id, "parcel") == {in_inputs}, "any case"
    assert found(hl, file_id, "REFUND was") == {in_output}
    assert found(hl, file_id, "réponse détaillée") == {only_message}, "only in output_message"
    assert found(hl, file_id, "zebra") == {in_messages}
    assert found(hl, file_id, "quokka") == {in_parts}
    assert found(hl, file_id, "assistant") == set(), "roles are not searched"
    assert found(hl, file_id, "Yo") == {in_output}, "shorter than a trigram"
    assert found(hl, file_id, "50%_") == set()
    assert found(hl, file_id, 'say "hi"') == set()

    # The index follows an update and a delete.
    hl.prompts.update_log(file_id, in_output, output="Your exchange was approved")
    assert found(hl, file_id, "refund") == set()
    assert found(hl, file_id, "exchange") == {in_output}
    hl.logs.delete(id=in_messages)
    assert found(hl, file_id, "zebra") == set()


def test_search_stays_in_its_file_and_organization(hl: Humanloop, tenant_factory) -> None:
    word = uuid.uuid4().hex[:10]
    mine = hl.prompts.log(path=f"{word}/a", prompt={"model": "m"}, output=f"about {word}")
    other_file = hl.prompts.log(path=f"{word}/b", prompt={"model": "m"}, output=f"also {word}")
    stranger = tenant_factory()
    theirs = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    theirs.prompts.log(path=f"{word}/a", prompt={"model": "m"}, output=f"their {word}")
    assert found(hl, mine.prompt_id, word) == {mine.id}
    assert found(hl, other_file.prompt_id, word) == {other_file.id}
