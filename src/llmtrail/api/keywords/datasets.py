"""The Keywords AI dataset routes (contract §3.3, seed 004), over `core.datasets`.

By API key or JWT, but reading one dataset log (`GET /api/datasets/{id}/logs/{log_id}/`),
which takes a JWT only, as seed 004 says. Filling a dataset from logs runs as a background
job (`core.dataset_jobs`); the dataset's `running_status` and `running_progress` show it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, Query, Request, Response
from pydantic import ValidationError

from llmtrail.api.auth import jwt_principal, principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.errors import from_pydantic
from llmtrail.api.keywords import dataset_responses as ds
from llmtrail.api.keywords.dataset_shapes import dataset_log_object, dataset_object
from llmtrail.api.keywords.errors import doc, resource_surface
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.keywords.router import when
from llmtrail.api.keywords.schemas import CreateLog
from llmtrail.api.keywords.translate import to_log_data
from llmtrail.api.routing import JSONBody
from llmtrail.core import datasets
from llmtrail.core.filters import parse_filters
from llmtrail.core.keys import Principal
from llmtrail.errors import FieldError, Invalid
from llmtrail.store.predicates import Group

surface = resource_surface("Keywords AI: datasets")
router = surface.router
DATASET = "/api/datasets/{dataset_id}/"
LOGS = f"{DATASET}logs/"
ONE_LOG = f"{LOGS}{{log_id}}/"


def _dataset(backend: Backend, row: Any) -> dict[str, Any]:
    return dataset_object(row, datasets.log_counts(backend.engine, [row])[row.id])


def _sampling(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if value is None:
        return 100.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise Invalid.at(name, "must be a number from 0 to 100 (percent)")
    return float(value)


def _window(body: dict[str, Any], filters_field: str, sampling_field: str) -> datasets.Window:
    """The logs a body asks for: `start_time` and `end_time` (required), filters, a share."""
    errors = [
        FieldError((name,), "This field is required.", "missing")
        for name in ("start_time", "end_time")
        if not body.get(name)
    ]
    if errors:
        raise Invalid(errors)
    times = {name: str(body[name]) for name in ("start_time", "end_time")}
    start, end = when(times, "start_time"), when(times, "end_time")
    assert start is not None and end is not None
    if start > end:
        raise Invalid.at("end_time", "must not be before start_time")
    filters = body.get(filters_field) or {}
    parse_filters(filters, (filters_field,))  # refused now, with its field named, not in the job
    return datasets.Window(start, end, filters, _sampling(body, sampling_field))


def _filters(body: dict[str, Any] | None) -> Group | None:
    raw = (body or {}).get("filters")
    if not raw:
        return None
    return parse_filters(datasets.dataset_filters(raw))


# --- datasets -----------------------------------------------------------------------------


@router.post(
    "/api/datasets/create/",
    status_code=201,
    summary="Create a dataset (the keywordsai SDK's path)",
    responses=doc(ds.Dataset, 400, status=201),
)
@router.post("/api/datasets/", status_code=201, responses=doc(ds.Dataset, 400, status=201))
def create_dataset(
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Empty (`is_empty`), a copy of the dataset `source_dataset_id`, or filled in the
    background from the logs of a time window that pass `initial_log_filters`, `sampling`
    percent of them."""
    given = datasets.described(body, creating=True)
    source = body.get("source_dataset_id")
    if source is not None and not (isinstance(source, str) and source):
        raise Invalid.at("source_dataset_id", "must be a dataset id")
    fill = None
    if not body.get("is_empty", False) and source is None:
        fill = _window(body, "initial_log_filters", "sampling")
    row = datasets.create(backend.engine, who, **given, fill=fill, source_id=source)
    return JSONBody(_dataset(backend, row), status_code=201)


@router.get("/api/datasets/list/", responses=doc(ds.DatasetList, 400))
def list_datasets(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    sort_by: str = Query("-created_at", description="created_at, updated_at or name; '-' first"),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = datasets.listed(backend.engine, who, page, page_size, sort_by)
    counts = datasets.log_counts(backend.engine, rows)
    return paged(request, total, page, page_size, [dataset_object(r, counts[r.id]) for r in rows])


@router.get(DATASET, responses=doc(ds.Dataset, 404))
def get_dataset(
    dataset_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return JSONBody(_dataset(backend, datasets.get(backend.engine, who, dataset_id)))


@router.patch(DATASET, responses=doc(ds.Dataset, 400, 404))
def update_dataset(
    dataset_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    changes = datasets.described(body, creating=False)
    return JSONBody(_dataset(backend, datasets.update(backend.engine, who, dataset_id, changes)))


@router.delete(DATASET, status_code=204, responses=doc(None, 404, status=204))
def delete_dataset(
    dataset_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    datasets.delete(backend.engine, who, dataset_id)
    return Response(status_code=204)


# --- dataset logs ---------------------------------------------------------------------------


@router.post(
    f"{LOGS}create/",
    summary="Add existing logs (the keywordsai SDK's path)",
    responses=doc(ds.Message, 400, 404),
)
@router.post(f"{LOGS}bulk/", responses=doc(ds.Message, 400, 404))
def add_logs(
    dataset_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, str]:
    """Copy the logs of a time window that pass `filters` (`sampling_percentage` percent of
    them) into the dataset, in the background; logs it holds already are not copied again."""
    window = _window(body, "filters", "sampling_percentage")
    datasets.add_logs(backend.engine, who, dataset_id, window)
    return {"message": "Logs are being added to dataset in the background"}


# What a dataset log's `metadata` may carry that is a column of the log.
LIFTED = ("model", "log_type", "custom_identifier", "customer_identifier")


def _log_data(body: dict[str, Any]) -> Any:
    """A dataset log's body as a log: `input` and `output` required; `metadata` may carry
    `model`, `log_type` and the identifiers, `metrics` the usage (top level works too)."""
    missing = [name for name in ("input", "output") if name not in body]
    if missing:
        raise Invalid([FieldError((n,), "This field is required.", "missing") for n in missing])
    for name in ("metadata", "metrics"):
        if not isinstance(body.get(name) or {}, dict):
            raise Invalid.at(name, "must be an object")
    metadata = dict(body.get("metadata") or {})
    lifted = {k: metadata.pop(k) for k in LIFTED if k in metadata}
    flat = {**lifted, **(body.get("metrics") or {}), **body, "metadata": metadata or None}
    flat.pop("metrics", None)
    flat.pop("target", None)
    try:
        return to_log_data(CreateLog.model_validate(flat))
    except ValidationError as exc:
        raise Invalid(from_pydantic(exc.errors())) from None


@router.post(LOGS, status_code=201, responses=doc(ds.CreatedDatasetLog, 400, 404, 409, status=201))
def create_log(
    dataset_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """A dataset log made from what is given (no log is copied)."""
    row = datasets.create_log(backend.engine, who, dataset_id, _log_data(body), body.get("target"))
    answer = {"message": "Log added to dataset", "log_data": dataset_log_object(row)}
    return JSONBody(answer, status_code=201)


def _list_logs(
    request: Request,
    backend: Backend,
    who: Principal,
    dataset_id: str,
    body: dict[str, Any] | None,
    page: int,
    page_size: int,
    sort_by: str,
) -> JSONBody:
    given = body or {}
    page, page_size = given.get("page", page), given.get("page_size", page_size)
    if not isinstance(page, int) or page < 1:
        raise Invalid.at("page", "must be an integer from 1")
    if not isinstance(page_size, int) or not 1 <= page_size <= 1000:
        raise Invalid.at("page_size", "must be an integer from 1 to 1000")
    total, rows = datasets.list_logs(
        backend.engine, who, dataset_id, _filters(body), page, page_size, sort_by
    )
    results = [dataset_log_object(r) for r in rows]
    return paged(request, total, page, page_size, results, filters_data={})


@router.get(
    LOGS,
    summary="List dataset logs (the keywordsai SDK's path)",
    responses=doc(ds.DatasetLogList, 400, 404),
)
@router.get(f"{LOGS}list/", responses=doc(ds.DatasetLogList, 400, 404))
def list_logs(
    request: Request,
    dataset_id: str,
    page: int = Page,
    page_size: int = PageSize,
    sort_by: str = Query("unique_id", description="unique_id, timestamp, added_at, cost, ..."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    return _list_logs(request, backend, who, dataset_id, None, page, page_size, sort_by)


@router.post(
    f"{LOGS}list/",
    summary="List dataset logs (filters in the body)",
    responses=doc(ds.DatasetLogList, 400, 404),
)
@reads
def filter_logs(
    request: Request,
    dataset_id: str,
    body: dict[str, Any] | None = Body(None),
    page: int = Page,
    page_size: int = PageSize,
    sort_by: str = Query("unique_id", description="unique_id, timestamp, added_at, cost, ..."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """`{filters, page, page_size}`; filters in the §5.1 form or the §5.4 one."""
    return _list_logs(request, backend, who, dataset_id, body, page, page_size, sort_by)


@router.delete(f"{LOGS}delete/", responses=doc(ds.Removed, 400, 404))
def remove_logs(
    dataset_id: str,
    body: dict[str, Any] | None = Body(None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    """`{filters}` or `{is_deleting_all_logs: true}`: those logs, or all, leave the dataset."""
    body = body or {}
    everything = body.get("is_deleting_all_logs") is True
    if not everything and not body.get("filters"):
        raise Invalid.at("filters", "give filters, or is_deleting_all_logs: true")
    filters = None if everything else _filters(body)
    removed = datasets.remove_logs(backend.engine, who, dataset_id, filters)
    return {
        "message": "Logs are being removed from dataset in the background",
        "removed_count": removed,
    }


@router.get(
    ONE_LOG,
    summary="Get single log (seed 004): a JWT, not an API key",
    responses=doc(ds.DatasetLog, 404),
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
def get_log(
    dataset_id: str,
    log_id: str,
    who: Principal = Depends(jwt_principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The complete log object, its full prompt and completion text included."""
    return JSONBody(dataset_log_object(datasets.get_log(backend.engine, who, dataset_id, log_id)))


def _changes(body: dict[str, Any], replace: bool) -> dict[str, Any]:
    """Columns a patch (merging `metadata` and `parameters`) or a replace sets. `messages`
    are the prompt messages; `expected_output` is the target."""
    names = {"messages": "prompt_messages", "expected_output": "target"}
    unknown = [k for k in body if names.get(k, k) not in (*datasets.EDITABLE_ALL, "parameters")]
    if unknown:
        raise Invalid.at(unknown[0], "cannot be set on a dataset log", "unknown_field")
    values: dict[str, Any] = {}
    for key, value in body.items():
        values[names.get(key, key)] = value
    for name in ("metadata", "parameters"):
        if values.get(name) is not None and not isinstance(values[name], dict):
            raise Invalid.at(name, "must be an object")
    if "prompt_messages" in values and not isinstance(values["prompt_messages"] or [], list):
        raise Invalid.at("messages", "must be a list of messages")
    if replace:
        return {name: values.get(name) for name in datasets.EDITABLE_ALL if name != "extra"} | {
            "extra": {"parameters": values.get("parameters") or {}}
        }
    return values


@router.patch(ONE_LOG, responses=doc(ds.DatasetLog, 400, 404))
def patch_log(
    dataset_id: str,
    log_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Change some fields; `metadata` and `parameters` are merged into what is there."""
    values = _changes(body, replace=False)
    current = datasets.get_log(backend.engine, who, dataset_id, log_id)
    if "metadata" in values:
        values["metadata"] = {**(current.metadata or {}), **(values["metadata"] or {})}
    if "parameters" in values:
        extra = dict(current.extra or {})
        extra["parameters"] = {**extra.get("parameters", {}), **(values.pop("parameters") or {})}
        values["extra"] = extra
    row = datasets.change_log(backend.engine, who, dataset_id, log_id, values)
    return JSONBody(dataset_log_object(row))


@router.put(ONE_LOG, responses=doc(ds.DatasetLog, 400, 404))
def replace_log(
    dataset_id: str,
    log_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Replace what the dataset log says: fields not given become empty."""
    values = _changes(body, replace=True)
    row = datasets.change_log(backend.engine, who, dataset_id, log_id, values)
    return JSONBody(dataset_log_object(row))


@router.delete(ONE_LOG, status_code=204, responses=doc(None, 404, status=204))
def delete_log(
    dataset_id: str,
    log_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    datasets.delete_log(backend.engine, who, dataset_id, log_id)
    return Response(status_code=204)
