"""Evaluation pages: evaluators, conditions and automations listed, created and edited
(an automation's sampling rate, evaluator list, enabled or not), the job queue with its
failures, and how scores are distributed. Every change goes through the same core
functions as the API, with its rules and its audit rows."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from llmtrail.core import automations, conditions, evaluators, jobs
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.store import dashboard
from llmtrail.ui import session
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()
LISTED = 100
FAILURES = 20


def _engine(request: Request) -> Engine:
    return session.backend(request).engine


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text or "{}")
    except orjson.JSONDecodeError as exc:
        raise Invalid.at(field, f"is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Invalid.at(field, "must be a JSON object")
    return value


def _rate(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise Invalid.at(
            ("configuration", "sampling_rate"), f"must be a number, got '{text}'"
        ) from None


def _overview(engine: Engine, who: Principal) -> dict[str, Any]:
    _, evaluator_rows = evaluators.EVALUATORS.page(engine, who, 1, LISTED)
    _, condition_rows = conditions.CONDITIONS.page(engine, who, 1, LISTED)
    _, automation_rows = automations.listed(engine, who, 1, LISTED)
    named, used = automations.details(engine, who, automation_rows)
    _, dead = jobs.listed(engine, who, 1, FAILURES, state="dead")
    with engine.connect() as conn:
        counted = dashboard.score_counts(conn, who.org_id)
    distribution: dict[str, list[tuple[str, int]]] = {}
    for row in counted:
        distribution.setdefault(row.evaluator_name, []).append((row.value or "other", row.n))
    return {
        "nav": "evaluation",
        "evaluators": evaluator_rows,
        "conditions": condition_rows,
        "automations": automation_rows,
        "condition_names": {k: v.name for k, v in named.items()},
        "evaluator_names": {k: v.name for k, v in used.items()},
        "jobs": jobs.summary(engine, who),
        "dead": dead,
        "distribution": distribution,
        "kinds": evaluators.KINDS,
    }


@router.get("/evaluation")
async def evaluation_page(
    request: Request, who: Principal = Depends(session.signed_in)
) -> Response:
    context = await run_in_threadpool(_overview, _engine(request), who)
    return render(request, "evaluation.html", context)


def _back() -> Response:
    return RedirectResponse("/evaluation", status_code=303)


@router.post("/evaluation/evaluators")
async def create_evaluator(
    request: Request,
    name: str = Form(...),
    kind: str = Form("human"),
    value_type: str = Form("numerical"),
    definition: str = Form("{}"),
    who: Principal = Depends(session.member),
) -> Response:
    given = _json_object(definition, "definition")
    fields = {k: given[k] for k in evaluators.DEFINITION_FIELDS if k in given}
    await run_in_threadpool(
        evaluators.create,
        _engine(request),
        who,
        name=name,
        kind=kind,
        value_type=value_type,
        definition=fields,
    )
    return _back()


@router.post("/evaluation/conditions")
async def create_condition(
    request: Request,
    name: str = Form(...),
    slug: str = Form(...),
    policy: str = Form(...),
    who: Principal = Depends(session.member),
) -> Response:
    body = {
        "name": name,
        "condition_slug": slug,
        "condition_type": conditions.SINGLE_LOG,
        "condition_policy": _json_object(policy, "condition_policy"),
    }
    await run_in_threadpool(conditions.create, _engine(request), who, body)
    return _back()


@router.post("/evaluation/automations")
async def create_automation(
    request: Request,
    name: str = Form(...),
    slug: str = Form(...),
    condition: str = Form(...),
    evaluator_ids: list[str] = Form([]),
    sampling_rate: str = Form("1"),
    enabled: str = Form(""),
    who: Principal = Depends(session.member),
) -> Response:
    body = {
        "name": name,
        "automation_slug": slug,
        "automation_type": automations.ONLINE_EVAL,
        "condition": condition,
        "evaluator_ids": evaluator_ids,
        "configuration": {"sampling_rate": _rate(sampling_rate)},
        "is_enabled": enabled == "on",
    }
    await run_in_threadpool(automations.create, _engine(request), who, body)
    return _back()


@router.get("/evaluation/automations/{key}")
async def automation_page(
    request: Request, key: str, who: Principal = Depends(session.signed_in)
) -> Response:
    engine = _engine(request)
    row = await run_in_threadpool(automations.AUTOMATIONS.get, engine, who, key)
    _, all_evaluators = await run_in_threadpool(evaluators.EVALUATORS.page, engine, who, 1, LISTED)
    context = {"nav": "evaluation", "automation": row, "evaluators": all_evaluators}
    return render(request, "automation.html", context)


@router.post("/evaluation/automations/{key}")
async def update_automation(
    request: Request,
    key: str,
    name: str = Form(...),
    evaluator_ids: list[str] = Form([]),
    sampling_rate: str = Form(...),
    enabled: str = Form(""),
    who: Principal = Depends(session.member),
) -> Response:
    body = {
        "name": name,
        "evaluator_ids": evaluator_ids,
        "configuration": {"sampling_rate": _rate(sampling_rate)},
        "is_enabled": enabled == "on",
    }
    row = await run_in_threadpool(automations.update, _engine(request), who, key, body)
    return RedirectResponse(f"/evaluation/automations/{row.id}", status_code=303)


@router.get("/evaluation/evaluators/{key}")
async def evaluator_page(
    request: Request, key: str, who: Principal = Depends(session.signed_in)
) -> Response:
    row = await run_in_threadpool(evaluators.EVALUATORS.get, _engine(request), who, key)
    definition = {k: v for k, v in row.definition.items() if k in evaluators.DEFINITION_FIELDS}
    context = {"nav": "evaluation", "evaluator": row, "definition": definition}
    return render(request, "evaluator.html", context)


@router.post("/evaluation/evaluators/{key}")
async def update_evaluator(
    request: Request,
    key: str,
    name: str = Form(...),
    description: str = Form(""),
    definition: str = Form("{}"),
    who: Principal = Depends(session.member),
) -> Response:
    """Name, description and definition (its objects merge, as the API's PATCH does)."""
    given = _json_object(definition, "definition")
    changes = {
        "name": name,
        "description": description,
        **{k: given[k] for k in evaluators.DEFINITION_FIELDS if k in given},
    }
    row = await run_in_threadpool(evaluators.update, _engine(request), who, key, changes)
    return RedirectResponse(f"/evaluation/evaluators/{row.id}", status_code=303)


@router.get("/evaluation/conditions/{key}")
async def condition_page(
    request: Request, key: str, who: Principal = Depends(session.signed_in)
) -> Response:
    row = await run_in_threadpool(conditions.CONDITIONS.get, _engine(request), who, key)
    return render(request, "condition.html", {"nav": "evaluation", "condition": row})


@router.post("/evaluation/conditions/{key}")
async def update_condition(
    request: Request,
    key: str,
    name: str = Form(...),
    policy: str = Form(...),
    who: Principal = Depends(session.member),
) -> Response:
    body = {"name": name, "condition_policy": _json_object(policy, "condition_policy")}
    row = await run_in_threadpool(conditions.update, _engine(request), who, key, body)
    return RedirectResponse(f"/evaluation/conditions/{row.id}", status_code=303)
