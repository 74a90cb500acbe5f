"""The Keywords AI surface (`/api/...`, `Authorization: Bearer KEY`): the request-log API
(contract §1), over the domain core.

Each route answers at `/api/request-logs/...` with and without the trailing slash, and
without the `/api` prefix too, because the `keywordsai` SDK strips it and sends no slash
(`api.paths` rewrites those forms to the documented one).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime
from typing import Any

from fastapi import Body, Depends, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from llmtrail.api import idempotency
from llmtrail.api.auth import SECURITY_SCHEMES, principal, reads
from llmtrail.api.backend import Backend, get_backend, masking
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.keywords.evaluation_shapes import log_scores
from llmtrail.api.keywords.responses import (
    BatchUpdateResult,
    BulkResult,
    CreatedLog,
    FieldErrors,
    History,
    ImmutableField,
    LogList,
    LogObject,
    Summary,
)
from llmtrail.api.keywords.schemas import BatchUpdate, BulkCreate, CreateLog, ListBody
from llmtrail.api.keywords.translate import created_object, log_object, to_log_data
from llmtrail.api.paths import KeywordsPathForms
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody
from llmtrail.api.surface import Surface
from llmtrail.core import annotations, lifecycle, queries, scores
from llmtrail.core.deletes import delete_logs
from llmtrail.core.filters import combine, parse_filters, parse_quick_filters
from llmtrail.core.idempotency import Claim, Receipt
from llmtrail.core.ids import iso, to_utc_naive
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal
from llmtrail.core.logs import ANNOTATION_FIELDS, EDITABLE_FIELDS
from llmtrail.errors import FieldError, Invalid, dotted
from llmtrail.store.predicates import Group

ERRORS = {400: FieldErrors, 401: Detail, 404: Detail, 409: Detail, 413: Detail, 503: Detail}
surface = Surface(
    "Keywords AI",
    errors=KeywordsErrors(),
    auth=principal,
    security=SECURITY_SCHEMES,
    middleware=[KeywordsPathForms],
    responses=failures(ERRORS, 401, 413),
    validation_status=400,
)
router = surface.router


def doc(model: object, *codes: int, status: int = 200) -> dict:
    """The `responses=` of a route of this surface."""
    return answers(status, model, ERRORS, *codes)


# Query keys with a meaning of their own; every other key is a quick filter (§5.2).
CONTROL_PARAMS = {
    "page",
    "after",
    "page_size",
    "sort_by",
    "start_time",
    "end_time",
    "is_test",
    "all_envs",
    "environment",
    "include_fields",
    "fetch_filters",
    "retrieval_mode",
}


CREATED = doc(CreatedLog, 400, 409, 503, status=201)


@surface.ingest("/api/request-logs/", status_code=201, summary="Create a log", responses=CREATED)
@surface.ingest(
    "/api/request-logs/create/",
    status_code=201,
    summary="Create a log (legacy path)",
    responses=CREATED,
)
async def create_log(
    body: CreateLog,
    request: Request,
    idempotency_key: str | None = idempotency.KEY,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    async def write(claim: Claim | None) -> Response:
        def receipt(rows: list[dict[str, Any]]) -> Receipt:
            return claim.receipt(201, created_object(rows[0]))  # type: ignore[union-attr]

        also = receipt if claim is not None else None
        policy = await masking(backend, who)
        [row] = await write_logs(backend.writer, who, [to_log_data(body)], also=also, policy=policy)
        return JSONBody(created_object(row), status_code=201)

    return await idempotency.idempotent(request, idempotency_key, who, backend, write)


@surface.ingest(
    "/api/request-logs/bulk/",
    status_code=201,
    summary="Create up to 500 logs",
    description="Rows are validated one by one; 400 (with the same body) when none is valid.",
    responses={**doc(BulkResult, 409, 503, status=201), 400: {"model": BulkResult | FieldErrors}},
)
async def bulk_create(
    body: BulkCreate,
    request: Request,
    idempotency_key: str | None = idempotency.KEY,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    valid, errors = [], []
    for index, raw in enumerate(body.logs):
        try:
            log = to_log_data(CreateLog.model_validate(raw))
            lifecycle.start(log)  # its rules now, so that one bad row refuses only itself
            valid.append(log)
        except ValidationError as exc:
            reasons = "; ".join(f"{dotted(tuple(e['loc']))}: {e['msg']}" for e in exc.errors())
            errors.append({"index": index, "error": reasons})
        except Invalid as exc:
            errors.append({"index": index, "error": exc.message})
    answer = {"success_count": len(valid), "error_count": len(errors), "errors": errors}
    if not valid:
        return JSONBody(answer, status_code=400)

    async def write(claim: Claim | None) -> Response:
        also = (lambda _: claim.receipt(201, answer)) if claim is not None else None
        policy = await masking(backend, who)
        await write_logs(backend.writer, who, valid, also=also, policy=policy)
        return JSONBody(answer, status_code=201)

    return await idempotency.idempotent(request, idempotency_key, who, backend, write)


def _with_scores(backend: Backend, who: Principal, rows: list[Any]) -> list[dict[str, Any]]:
    """Log objects with their scores, read for the whole page at once."""
    found = scores.scores_of(backend.engine, who, [_pk(row) for row in rows])
    return [log_object(row, log_scores(found.get(_pk(row), []))) for row in rows]


def _pk(row: Any) -> int:
    return row["id"] if isinstance(row, dict) else row.id


def when(params: Mapping[str, str], name: str) -> datetime | None:
    """A date-time URL parameter (`start_time`, `end_time`), in naive UTC."""
    value = params.get(name)
    if not value:
        return None
    try:
        return to_utc_naive(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise Invalid.at(name, f"'{value}' is not an ISO 8601 date-time") from None


def _int(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise Invalid.at(name, f"must be an integer, got '{value}'") from None


def list_filters(
    request: Request, body: ListBody | None, reserved: Set[str] = CONTROL_PARAMS
) -> Group:
    """The filters of a list request: the URL's quick filters (every key not `reserved`),
    the body's filters and the environment, all to hold. The export routes share them."""
    params = dict(request.query_params)
    groups = [parse_quick_filters(list(request.query_params.multi_items()), reserved)]
    if body is not None and body.filters:
        groups.append(parse_filters(body.filters))
    environment = _environment(params)
    if environment is not None:
        groups.append(parse_filters({"environment": {"operator": "", "value": [environment]}}))
    return combine(*groups)


def _query(request: Request, body: ListBody | None) -> queries.LogQuery:
    """The list/summary query from URL parameters, quick filters and the body's filters."""
    params = dict(request.query_params)
    return queries.LogQuery(
        filters=list_filters(request, body),
        start_time=when(params, "start_time"),
        end_time=when(params, "end_time"),
        page=_int(params, "page", 1),
        page_size=_int(params, "page_size", 100),
        sort_by=params.get("sort_by") or queries.DEFAULT_SORT,
        after=queries.Cursor.decode(params["after"]) if params.get("after") else None,
    )


def _environment(params: dict[str, str]) -> str | None:
    """`environment=prod|test`, or `is_test` (which wins over `all_envs`); default: all."""
    if params.get("environment"):
        if params["environment"] not in ("prod", "test"):
            raise Invalid.at("environment", "must be 'prod' or 'test'")
        return params["environment"]
    if "is_test" in params:
        return "test" if params["is_test"].lower() == "true" else "prod"
    return None


@router.post(
    "/api/request-logs/list/",
    summary="List logs (filters in the body)",
    responses=doc(LogList, 400),
)
@router.get(
    "/api/request-logs/list/", summary="List logs (filters in the URL)", responses=doc(LogList, 400)
)
@reads
def list_logs(
    request: Request,
    body: ListBody | None = Body(default=None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    query = _query(request, body)
    total, rows, cursor = queries.list_logs(backend.engine, who, query)
    more = query.page * query.page_size < total
    url = request.url.remove_query_params("after")
    # The next link also says where this page ended, so the next page need not count past it.
    after = {"after": cursor.encode()} if cursor is not None else {}
    return JSONBody(
        {
            "count": total,
            "next": str(url.include_query_params(page=query.page + 1, **after)) if more else None,
            "previous": str(url.include_query_params(page=query.page - 1))
            if query.page > 1
            else None,
            "results": _with_scores(backend, who, rows),
        }
    )


@router.post(
    "/api/request-logs/summary/",
    summary="Aggregates over the matching logs",
    responses=doc(Summary, 400),
)
@reads
def summary(
    request: Request,
    body: ListBody | None = Body(default=None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    totals = queries.summarize(backend.engine, who, _query(request, body))
    return {**totals, "scores": {}}


@router.patch(
    "/api/request-logs/batch-update/",
    summary="Update annotations of many logs",
    responses=doc(BatchUpdateResult, 400, 503),
)
async def batch_update(
    body: BatchUpdate,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    items, errors = [], []
    for index, raw in enumerate(body.logs):
        changes = dict(raw)
        unique_id = changes.pop("unique_id", None)
        if not isinstance(unique_id, str) or not unique_id:
            errors.append(FieldError(("logs", index, "unique_id"), "required, a non-empty string"))
        items.append(annotations.Annotation(str(unique_id), changes))
    if errors:
        raise Invalid(errors)
    policy = await masking(backend, who)
    rows = await annotations.annotate(
        backend.writer, who, items, "batch-update", ANNOTATION_FIELDS, policy
    )
    return JSONBody(
        {
            "message": f"{len(rows)} logs updated",
            "updated_count": len(rows),
            "logs": await run_in_threadpool(_with_scores, backend, who, rows),
        }
    )


@router.get("/api/request-logs/{unique_id}/", summary="Get one log", responses=doc(LogObject, 404))
def get_log(
    unique_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return JSONBody(
        _with_scores(backend, who, [queries.get_log(backend.engine, who, unique_id)])[0]
    )


@router.patch(
    "/api/request-logs/{unique_id}/",
    summary="Update one log's annotations",
    responses={**doc(LogObject, 404, 503), 400: {"model": ImmutableField | FieldErrors}},
)
async def patch_log(
    unique_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Any:
    await run_in_threadpool(queries.get_log, backend.engine, who, unique_id)  # 404 comes first
    immutable = [name for name in body if name not in EDITABLE_FIELDS]
    if immutable:  # the documented answer for a telemetry field (contract §1.6)
        return JSONBody(
            {
                "error": "Cannot update immutable field",
                "detail": f"The field '{immutable[0]}' cannot be modified",
            },
            status_code=400,
        )
    try:
        [row] = await annotations.annotate(
            backend.writer,
            who,
            [annotations.Annotation(unique_id, body)],
            "patch",
            policy=await masking(backend, who),
        )
    except Invalid as exc:  # locations come as logs[0].field; a single patch names the field
        raise Invalid([FieldError(e.loc[2:], e.msg, e.type) for e in exc.errors]) from None
    [answer] = await run_in_threadpool(_with_scores, backend, who, [row])
    return JSONBody(answer)


@router.delete(
    "/api/request-logs/{unique_id}/",
    status_code=204,
    summary="Delete one log",
    responses=doc(None, 404, 503, status=204),
)
async def delete_log(
    unique_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    await delete_logs(backend.writer, who, [unique_id])
    return Response(status_code=204)


@router.get(
    "/api/request-logs/{unique_id}/history/",
    summary="Every change to a log",
    responses=doc(History, 404),
)
def history(
    unique_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> dict[str, Any]:
    revisions = annotations.history(backend.engine, who, unique_id)
    return {
        "unique_id": unique_id,
        "count": len(revisions),
        "results": [
            {
                "id": r.id,
                "timestamp": iso(r.created_at),
                "api_key_id": r.api_key_id,
                "source": r.source,
                "field": r.field,
                "old_value": r.old_value,
                "new_value": r.new_value,
            }
            for r in revisions
        ],
    }
