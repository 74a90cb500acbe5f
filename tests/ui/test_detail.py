"""A log's page: the chat, the JSON, editing annotations in place (with their history),
human scores, and a viewer's read-only view."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests.conftest import Server
from tests.ui.conftest import Browserless, Org, browserless

CHAT = {
    "model": "gpt-4o",
    "prompt_messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in the picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "cat"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat <b>sleeping</b>"},
    ],
    "completion_message": {"role": "assistant", "content": "A sleeping cat."},
    "metadata": {"team": "search", "drop": 1},
    "customer_identifier": "acme",
}


def _made(api: httpx.Client) -> str:
    created = api.post("/api/request-logs/", json=CHAT)
    assert created.status_code == 201, created.text
    return created.json()["unique_id"]


def test_the_chat_shows_roles_images_and_tool_calls(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        uid = _made(api)
    page = signed_in.get(f"/logs/{uid}")
    assert page.status_code == 200
    text = page.text
    assert text.index('class="msg system"') < text.index('class="msg user"')
    assert '<img src="https://example.com/cat.png"' in text
    assert "→ lookup" in text and "{&#34;q&#34;: &#34;cat&#34;}" in text
    assert "a cat &lt;b&gt;sleeping&lt;/b&gt;" in text  # escaped, never markup
    assert 'class="msg assistant"' in text and "A sleeping cat." in text
    assert signed_in.get("/logs/no-such-log").status_code == 404


def test_annotations_are_edited_in_place_and_kept_in_history(
    server: Server, org: Org, signed_in: Browserless
) -> None:
    with org.api(server.base_url) as api:
        uid = _made(api)
        token = signed_in.token(f"/logs/{uid}")
        edited = signed_in.post(
            f"/logs/{uid}/annotations",
            data={
                "csrf_token": token,
                "note": "wrong tool",
                "custom_identifier": "ticket-7",
                "positive_feedback": "false",
                "metadata": '{"team": "ads", "new": true}',
            },
            headers={"HX-Request": "true"},
        )
        assert edited.status_code == 200, edited.text
        assert "<html" not in edited.text  # the panel alone, swapped in place
        assert "wrong tool" in edited.text and "<strong>note</strong>" in edited.text
        stored = api.get(f"/api/request-logs/{uid}/").json()
        assert (stored["note"], stored["custom_identifier"]) == ("wrong tool", "ticket-7")
        assert stored["positive_feedback"] is False
        assert stored["metadata"] == {"team": "ads", "new": True}  # `drop` removed
        history = api.get(f"/api/request-logs/{uid}/history/").json()["results"]
        assert {(r["field"], r["source"]) for r in history} == {
            ("note", "ui"),
            ("custom_identifier", "ui"),
            ("positive_feedback", "ui"),
            ("metadata", "ui"),
        }
    bad = signed_in.post(f"/logs/{uid}/annotations", data={"csrf_token": token, "metadata": "[1]"})
    assert bad.status_code == 400 and "metadata: must be a JSON object" in bad.text


def test_a_person_scores_a_log(server: Server, org: Org, signed_in: Browserless) -> None:
    with org.api(server.base_url) as api:
        uid = _made(api)
        made = api.post(
            "/api/evaluators/",
            json={"name": "Helpful", "type": "human", "score_value_type": "numerical"},
        )
        assert made.status_code == 201, made.text
        evaluator = made.json()["id"]
        form = signed_in.get(f"/logs/{uid}")
        assert 'id="human-score"' in form.text
        token = signed_in.token(f"/logs/{uid}")
        given = signed_in.post(
            f"/logs/{uid}/scores",
            data={"csrf_token": token, "evaluator_id": evaluator, "value": "4", "why": ""},
        )
        assert given.status_code == 303
        [score] = api.get(f"/api/request-logs/{uid}/").json()["scores"].values()
        assert score["numerical_value"] == 4
        again = signed_in.post(
            f"/logs/{uid}/scores",
            data={"csrf_token": token, "evaluator_id": evaluator, "value": "5"},
        )
        assert again.status_code == 409
    assert "Helpful" in signed_in.get(f"/logs/{uid}").text


def test_a_viewer_sees_no_edit_controls_and_cannot_post(
    server: Server, engine: Engine, org: Org
) -> None:
    with org.api(server.base_url) as api:
        uid = _made(api)
    with browserless(server.base_url) as viewer:
        viewer.sign_in(org.users(engine, "viewer"))
        page = viewer.get(f"/logs/{uid}")
        assert page.status_code == 200
        assert "<form" not in page.text.split("</header>")[1]
        token = viewer.token(f"/logs/{uid}")
        refused = viewer.post(f"/logs/{uid}/annotations", data={"csrf_token": token, "note": "x"})
        assert refused.status_code == 403 and "may read but not write" in refused.text
