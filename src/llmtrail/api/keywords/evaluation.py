"""The Keywords AI evaluation surface: evaluators, scores, conditions, automations and the
jobs they cause (contract §2, §3.1, §3.2; seed 003), over the domain core.

Its errors are the contract's field-keyed bodies exactly (`{"evaluator_ids": ["..."]}`),
without the request-log routes' readable `detail`. Automations and conditions are also
served at `/api/automations/` and `/api/conditions/` (`api.paths` rewrites those).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Body, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from llmtrail.api.auth import SECURITY_SCHEMES, principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords import evaluation_shapes as shape
from llmtrail.api.keywords import responses as kw
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.core import automations, conditions, evaluators, jobs, scores
from llmtrail.core.keys import Principal
from llmtrail.core.queries import MAX_PAGE
from llmtrail.core.scoring import EvalInputs, Transient
from llmtrail.errors import Conflict, Invalid, Unavailable

ERRORS = {
    **dict.fromkeys((401, 404, 409, 413, 503), Detail),
    **dict.fromkeys((400, 422), kw.BareFieldErrors),
}
surface = Surface(
    "Keywords AI: evaluation",
    errors=KeywordsErrors(detail=False),
    auth=principal,
    security=SECURITY_SCHEMES,
    responses=failures(ERRORS, 401, 413),
    validation_status=400,
)
router = surface.router
Page = Query(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
PageSize = Query(20, ge=1, le=1000, description="Items per page.")


def doc(
    model: object, *codes: int, status: int = 200, errors: Mapping[int, Any] | None = None
) -> dict:
    """`responses=`: the success `model`, and the errors of `codes` (`errors`: those whose
    body is not the surface's usual one for its status)."""
    return answers(status, model, {**ERRORS, **(errors or {})}, *codes)


def paged(
    request: Request, total: int, page: int, page_size: int, results: list[Any], **extra: Any
) -> JSONBody:
    """DRF's page: `{count, next, previous, results}`, the links keeping the query."""
    url = request.url
    more = page * page_size < total
    return JSONBody(
        {
            "count": total,
            "next": str(url.include_query_params(page=page + 1)) if more else None,
            "previous": str(url.include_query_params(page=page - 1)) if page > 1 else None,
            "results": results,
            **extra,
        }
    )


# --- evaluators ---------------------------------------------------------------------------


def _definition_changes(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in evaluators.DEFINITION_FIELDS if k in body}


@router.post("/api/evaluators/", status_code=201, responses=doc(kw.Evaluator, 400, 409, status=201))
def create_evaluator(
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    missing = [n for n in ("name", "type", "score_value_type") if not body.get(n)]
    if missing:
        raise Invalid.at(missing[0], "This field is required.", "missing")
    given = evaluators.named(body)
    row = evaluators.create(
        backend.engine,
        who,
        name=given["name"],
        kind=str(body["type"]),
        value_type=str(body["score_value_type"]),
        definition=_definition_changes(body),
        slug=given.get("evaluator_slug"),
        description=given.get("description", ""),
    )
    return JSONBody(shape.evaluator_object(row), status_code=201)


@router.get("/api/evaluators/", responses=doc(kw.EvaluatorList, 400))
def list_evaluators(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    search: str | None = None,
    type: str | None = None,
    score_value_type: str | None = None,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = evaluators.EVALUATORS.page(
        backend.engine, who, page, page_size, search=search, kind=type, value_type=score_value_type
    )
    return paged(request, total, page, page_size, [shape.evaluator_object(r) for r in rows])


@router.get("/api/evaluators/{evaluator_id}/", responses=doc(kw.Evaluator, 404))
def get_evaluator(
    evaluator_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return JSONBody(
        shape.evaluator_object(evaluators.EVALUATORS.get(backend.engine, who, evaluator_id))
    )


@router.patch("/api/evaluators/{evaluator_id}/", responses=doc(kw.Evaluator, 400, 404, 409))
def update_evaluator(
    evaluator_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    row = evaluators.update(backend.engine, who, evaluator_id, body)
    return JSONBody(shape.evaluator_object(row))


@router.delete(
    "/api/evaluators/{evaluator_id}/", status_code=204, responses=doc(None, 404, status=204)
)
def delete_evaluator(
    evaluator_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    evaluators.delete(backend.engine, who, evaluator_id)
    return Response(status_code=204)


@router.post("/api/evaluators/{evaluator_id}/run/", responses=doc(kw.RunResult, 400, 404, 503))
async def run_evaluator(
    evaluator_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Run the evaluator on the given inputs now; the score is answered, not stored."""
    from llmtrail.worker.evaluate import run_definition  # the runners, only when one runs

    row = await run_in_threadpool(evaluators.EVALUATORS.get, backend.engine, who, evaluator_id)
    given = body.get("inputs")
    if not isinstance(given, dict):
        raise Invalid.at("inputs", "must be an object: {input, output, metadata, metrics, ...}")
    inputs = EvalInputs(
        input=given.get("input", given.get("llm_input")),
        output=given.get("output", given.get("llm_output")),
        metadata=given.get("metadata") or {},
        ideal_output=given.get("ideal_output"),
        metrics=given.get("metrics") or {},
    )
    try:
        outcome = await run_in_threadpool(run_definition, evaluators.definition_of(row), inputs)
    except Transient as exc:
        raise Unavailable(str(exc), exc.retry_after) from None
    return JSONBody(shape.run_object(row, outcome))


# --- scores -------------------------------------------------------------------------------


def _score_routes(prefix: str, in_log: bool) -> None:
    """The score routes under `prefix`: of one log (`/api/logs/{log_id}/scores/`), or of any
    log of the organization (`/api/scores/`, where a create names its `log_id`)."""

    def log_key(request: Request, body: dict[str, Any] | None = None) -> str | None:
        if in_log:
            return request.path_params["log_id"]
        if body is not None:
            key = body.get("log_id")
            if not isinstance(key, str) or not key:
                raise Invalid.at("log_id", "This field is required.", "missing")
            return key
        return None

    def create(
        request: Request,
        body: dict[str, Any] = Body(...),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> JSONBody:
        try:
            row = scores.create(backend.engine, who, log_key(request, body), body)  # type: ignore[arg-type]
        except Conflict as exc:  # the contract's body for it (§3.2)
            return JSONBody({"error": exc.message}, status_code=409)
        return JSONBody(shape.score_object(row), status_code=201)

    def listed(
        request: Request,
        page: int = Page,
        page_size: int = PageSize,
        evaluator_id: str | None = None,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> JSONBody:
        total, rows = scores.listed(
            backend.engine,
            who,
            page,
            page_size,
            log_key=log_key(request),
            evaluator_key=evaluator_id,
        )
        return paged(request, total, page, page_size, [shape.score_object(r) for r in rows])

    def get(
        request: Request,
        score_id: str,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> JSONBody:
        return JSONBody(
            shape.score_object(scores.get(backend.engine, who, score_id, log_key(request)))
        )

    def patch(
        request: Request,
        score_id: str,
        body: dict[str, Any] = Body(...),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> JSONBody:
        row = scores.update(backend.engine, who, score_id, body, log_key(request))
        return JSONBody(shape.score_object(row))

    def delete(
        request: Request,
        score_id: str,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        scores.delete(backend.engine, who, score_id, log_key(request))
        return Response(status_code=204)

    where = "a log's" if in_log else "any log's"
    one = f"{prefix}{{score_id}}/"
    name = "log_scores" if in_log else "scores"
    no_log = (404,) if in_log else ()  # the log of the path: only there can it be missing
    for path, endpoint, method, status, model, codes, summary in (
        (prefix, create, "POST", 201, kw.Score, (400, 404, 409), f"Score {where} log"),
        (prefix, listed, "GET", 200, kw.ScoreList, (400, *no_log), f"List {where} scores"),
        (one, get, "GET", 200, kw.Score, (404,), "Get a score"),
        (one, patch, "PATCH", 200, kw.Score, (400, 404), "Correct a score"),
        (one, delete, "DELETE", 204, None, (404,), "Delete a score"),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            status_code=status,
            name=f"{method.lower()}_{name}_{endpoint.__name__}",
            summary=summary,
            responses=doc(model, *codes, status=status, errors={409: kw.ScoreConflict}),
            dependencies=[Depends(_of_log)] if in_log else None,
        )


def _of_log(log_id: str = Path(description="The scored log's `unique_id`.")) -> None:
    """Declares the `{log_id}` of a log's score routes (read by their `log_key`)."""


_score_routes("/api/logs/{log_id}/scores/", in_log=True)
_score_routes("/api/scores/", in_log=False)


# --- conditions ---------------------------------------------------------------------------


@router.post(
    "/automation/conditions/", status_code=201, responses=doc(kw.Condition, 400, 422, status=201)
)
def create_condition(
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    return JSONBody(
        shape.condition_object(conditions.create(backend.engine, who, body)), status_code=201
    )


@router.get("/automation/conditions/", responses=doc(kw.ConditionList, 400))
def list_conditions(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    search: str | None = None,
    condition_type: str | None = None,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = conditions.CONDITIONS.page(
        backend.engine, who, page, page_size, search=search, condition_type=condition_type
    )
    results = [shape.condition_object(r) for r in rows]
    return paged(request, total, page, page_size, results, filters_data={})


@router.get("/automation/conditions/{condition_id}/", responses=doc(kw.Condition, 404))
def get_condition(
    condition_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return JSONBody(
        shape.condition_object(conditions.CONDITIONS.get(backend.engine, who, condition_id))
    )


@router.patch("/automation/conditions/{condition_id}/", responses=doc(kw.Condition, 400, 404, 422))
def update_condition(
    condition_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    row = conditions.update(backend.engine, who, condition_id, body)
    return JSONBody(shape.condition_object(row))


@router.delete(
    "/automation/conditions/{condition_id}/",
    status_code=204,
    responses=doc(None, 404, 409, status=204),
)
def delete_condition(
    condition_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    conditions.delete(backend.engine, who, condition_id)
    return Response(status_code=204)


# --- automations --------------------------------------------------------------------------


def _automations(backend: Backend, who: Principal, rows: list[Any]) -> list[dict[str, Any]]:
    named, used = automations.details(backend.engine, who, rows)
    return [shape.automation_object(row, named, used) for row in rows]


@router.post(
    "/automation/automations/",
    status_code=201,
    responses=doc(kw.Automation, 400, 404, status=201, errors={404: kw.BareFieldErrors}),
)
def create_automation(
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    row = automations.create(backend.engine, who, body)
    return JSONBody(_automations(backend, who, [row])[0], status_code=201)


@router.get("/automation/automations/", responses=doc(kw.AutomationList, 400))
def list_automations(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = automations.listed(backend.engine, who, page, page_size)
    return paged(request, total, page, page_size, _automations(backend, who, rows))


@router.get("/automation/automations/{automation_id}/", responses=doc(kw.Automation, 404))
def get_automation(
    automation_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    row = automations.AUTOMATIONS.get(backend.engine, who, automation_id)
    return JSONBody(_automations(backend, who, [row])[0])


@router.patch(
    "/automation/automations/{automation_id}/",
    summary="Update Automation (seed 003)",
    responses=doc(kw.Automation, 400, 404, errors={404: kw.AutomationNotFound}),
)
def update_automation(
    automation_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    row = automations.update(backend.engine, who, automation_id, body)
    return JSONBody(_automations(backend, who, [row])[0])


@router.delete(
    "/automation/automations/{automation_id}/",
    status_code=204,
    responses=doc(None, 404, status=204),
)
def delete_automation(
    automation_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    automations.delete(backend.engine, who, automation_id)
    return Response(status_code=204)


# --- jobs ---------------------------------------------------------------------------------


@router.get("/api/jobs/summary/", responses=doc(kw.JobsSummary))
def jobs_overview(
    who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    """Jobs by state, overall and per automation (or other origin)."""
    return JSONBody(jobs.summary(backend.engine, who))


@router.get("/api/jobs/", responses=doc(kw.JobList, 400))
def list_jobs(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    state: str | None = Query(None, description="pending, running, done, dead or cancelled"),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    if state is not None and state not in jobs.STATES:
        raise Invalid.at("state", f"must be one of {', '.join(jobs.STATES)}")
    total, rows = jobs.listed(backend.engine, who, page, page_size, state=state)
    return paged(request, total, page, page_size, [shape.job_object(r) for r in rows])
