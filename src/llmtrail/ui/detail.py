"""A log's page: its messages as a chat, input and output as JSON, telemetry, metadata,
scores; its annotations edited in place through the same core path as the API (the
writer, which keeps the history shown beside them), and human scores given."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from llmtrail.core import annotations, evaluators, queries, scores
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()
SOURCE = "ui"
MAX_EVALUATORS = 200


def _engine(request: Request) -> Engine:
    return session.backend(request).engine


def _read(request: Request, who: Principal, unique_id: str) -> dict[str, Any]:
    engine = _engine(request)
    row = queries.get_log(engine, who, unique_id)
    _, human = evaluators.EVALUATORS.page(engine, who, 1, MAX_EVALUATORS, kind="human")
    return {
        "log": row,
        "scores": scores.scores_of(engine, who, [row.id]).get(row.id, []),
        "history": annotations.history(engine, who, unique_id),
        "human": human,
        "messages": chat(row),
    }


def chat(row: Any) -> list[dict[str, Any]]:
    """The conversation: the prompt's messages, then the completion's, each with its parts
    (text and images by URL) and its tool calls."""
    said = [m for m in (row.prompt_messages or []) if isinstance(m, dict)]
    if isinstance(row.completion_message, dict):
        said.append(row.completion_message)
    return [
        {
            "role": str(m.get("role") or "message"),
            "name": m.get("name") or m.get("tool_call_id"),
            "parts": _parts(m.get("content")),
            "tool_calls": [_tool_call(c) for c in m.get("tool_calls") or [] if isinstance(c, dict)],
        }
        for m in said
    ]


def _parts(content: Any) -> list[tuple[str, str]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [("text", content)]
    if not isinstance(content, list):
        return [("json", orjson.dumps(content).decode())]
    parts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append(("text", str(part.get("text", ""))))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(("image", str(url)))
        else:
            parts.append(("json", orjson.dumps(part).decode()))
    return parts


def _tool_call(call: dict[str, Any]) -> dict[str, str]:
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    return {
        "id": str(call.get("id") or ""),
        "name": str(function.get("name") or call.get("name") or "tool"),
        "arguments": str(function.get("arguments") or call.get("arguments") or ""),
    }


@router.get("/logs/{unique_id}")
async def log_page(
    request: Request, unique_id: str, who: Principal = Depends(session.signed_in)
) -> Response:
    context = await run_in_threadpool(_read, request, who, unique_id)
    return render(request, "log.html", {"nav": "logs", **context})


def metadata_patch(before: dict[str, Any] | None, text: str) -> dict[str, Any]:
    """The metadata patch that turns `before` into the object typed in: changed keys set,
    removed ones set to None (the annotation's way to drop a key)."""
    try:
        after = orjson.loads(text or "{}")
    except orjson.JSONDecodeError as exc:
        raise Invalid.at("metadata", f"is not JSON: {exc}") from None
    if not isinstance(after, dict):
        raise Invalid.at("metadata", "must be a JSON object")
    before = before or {}
    patch: dict[str, Any] = {k: v for k, v in after.items() if before.get(k) != v}
    patch.update({k: None for k in before if k not in after})
    return patch


FEEDBACK = {"": None, "true": True, "false": False}


@router.post("/logs/{unique_id}/annotations")
async def annotate(
    request: Request,
    unique_id: str,
    note: str = Form(""),
    custom_identifier: str = Form(""),
    positive_feedback: str = Form(""),
    metadata: str = Form("{}"),
    who: Principal = Depends(session.member),
) -> Response:
    row = await run_in_threadpool(queries.get_log, _engine(request), who, unique_id)
    if positive_feedback not in FEEDBACK:
        raise Invalid.at("positive_feedback", "must be true, false or empty")
    changes: dict[str, Any] = {
        "note": note or None,
        "custom_identifier": custom_identifier or None,
        "positive_feedback": FEEDBACK[positive_feedback],
    }
    changes = {k: v for k, v in changes.items() if v != getattr(row, k)}
    patch = metadata_patch(row.metadata, metadata)
    if patch:
        changes["metadata"] = patch
    if changes:
        writer = session.backend(request).writer
        await annotations.annotate(
            writer, who, [annotations.Annotation(unique_id, changes)], SOURCE
        )
    return await _answer(request, who, unique_id, "partials/annotations.html")


async def _answer(request: Request, who: Principal, unique_id: str, partial: str) -> Response:
    """The changed panel for HTMX, the page again (Post/Redirect/Get) for a plain form."""
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/logs/{unique_id}", status_code=303)
    context = await run_in_threadpool(_read, request, who, unique_id)
    return render(request, partial, context)


@router.post("/logs/{unique_id}/scores")
async def give_score(
    request: Request,
    unique_id: str,
    evaluator_id: str = Form(...),
    value: str = Form(...),
    explanation: str = Form(""),
    who: Principal = Depends(session.member),
) -> Response:
    """A person's score of the log, for a human evaluator, checked against its type."""
    engine = _engine(request)
    evaluator = await run_in_threadpool(evaluators.EVALUATORS.get, engine, who, evaluator_id)
    column = scores.VALUE_COLUMNS.get(evaluator.value_type, "json_value")
    try:
        given: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        given = value  # plain text, or a choice's name
    body = {"evaluator_id": evaluator.id, column: given, "explanation": explanation or None}
    await run_in_threadpool(scores.create, engine, who, unique_id, body, SOURCE)
    return await _answer(request, who, unique_id, "partials/scores.html")
