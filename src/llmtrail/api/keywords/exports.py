"""Exports of the Keywords AI dialect, streamed as rows are read: `GET|POST
/api/request-logs/export/?format=jsonl|csv`, the logs the list would match (its filters, in
the URL or the body), and `GET /api/datasets/{dataset_id}/export/`, the logs a dataset holds.

A surface of its own, mounted before the request-log routes: `/api/request-logs/{unique_id}/`
would otherwise take `export` for a log's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Body, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from llmtrail.api.auth import SECURITY_SCHEMES, principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords.errors import KeywordsErrors
from llmtrail.api.keywords.responses import FieldErrors
from llmtrail.api.keywords.router import CONTROL_PARAMS, list_filters, when
from llmtrail.api.keywords.schemas import ListBody
from llmtrail.api.responses import MEANINGS, Detail
from llmtrail.api.surface import Surface
from llmtrail.core import exports
from llmtrail.core.keys import Principal

REF = "#/components/schemas/"
ERRORS = {400: FieldErrors, 401: Detail, 404: Detail, 413: Detail}


def json_failures(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of `codes`, JSON as on every route: given by reference, since a
    model here would be documented under the routes' own media type, JSON Lines."""
    return {
        code: {
            "description": MEANINGS[code],
            "content": {"application/json": {"schema": {"$ref": REF + ERRORS[code].__name__}}},
        }
        for code in codes
    }


surface = Surface(
    "Keywords AI: exports",
    errors=KeywordsErrors(),
    auth=principal,
    security=SECURITY_SCHEMES,
    responses=json_failures(401, 413),
    validation_status=400,
)
router = surface.router
FormatParam = Query(exports.Format.jsonl, description="`jsonl` (one JSON object a line) or `csv`.")


def streamed(model: type, what: str, *codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an export route: `model` a line (JSON Lines) or a row (CSV)."""
    ok = {
        "model": model,
        "description": f"{what}, streamed: one `{model.__name__}` a line (JSON Lines), or a CSV "
        "header row and a row each (JSON fields as JSON text, null as an empty field).",
        "content": {exports.MEDIA_TYPES[exports.Format.csv]: {"schema": {"type": "string"}}},
    }
    return {**json_failures(*codes), 200: ok}


class JsonLines(JSONResponse):
    """What the export routes are documented as (`response_class=`), never answered: FastAPI
    puts a route's model under its response class's media type, and as such only for a
    JSONResponse. The routes answer a StreamingResponse of their own (`download`)."""

    media_type = exports.MEDIA_TYPES[exports.Format.jsonl]


def download(chunks: Iterator[bytes], fmt: exports.Format, name: str) -> StreamingResponse:
    """The chunks as an attachment, sent as each is made."""
    return StreamingResponse(
        chunks,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )


DESCRIPTION = (
    "The logs the list would match (the same quick filters, body filters, environment and "
    "`start_time`/`end_time`), oldest first; without a time range, the whole history. Rows "
    "are sent as they are read, in constant memory; `llmtrail logs import` reads the JSON "
    "Lines back into any store."
)
LOGS = streamed(exports.ExportedLog, "The matching logs", 400)


@router.get(
    "/api/request-logs/export/",
    summary="Export logs (filters in the URL)",
    description=DESCRIPTION,
    response_class=JsonLines,
    responses=LOGS,
)
def export_logs(
    request: Request,
    format: exports.Format = FormatParam,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> StreamingResponse:
    return _logs(request, None, format, who, backend)


@router.post(
    "/api/request-logs/export/",
    summary="Export logs (filters in the body)",
    description=DESCRIPTION,
    response_class=JsonLines,
    responses=LOGS,
)
@reads
def export_logs_by_body(
    request: Request,
    body: ListBody | None = Body(default=None),
    format: exports.Format = FormatParam,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> StreamingResponse:
    return _logs(request, body, format, who, backend)


def _logs(
    request: Request,
    body: ListBody | None,
    fmt: exports.Format,
    who: Principal,
    backend: Backend,
) -> StreamingResponse:
    params = request.query_params
    selection = exports.LogSelection(
        filters=list_filters(request, body, CONTROL_PARAMS | {"format"}),
        start_time=when(params, "start_time"),
        end_time=when(params, "end_time"),
    )
    pages = exports.log_pages(backend.engine, who, selection)
    return download(exports.encode(pages, exports.LOGS, fmt), fmt, "logs")


@router.get(
    "/api/datasets/{dataset_id}/export/",
    summary="Export a dataset's logs",
    description="The logs the dataset holds now, in the order they were added, as the dataset "
    "holds them (copies taken when they were added). Rows are sent as they are read.",
    response_class=JsonLines,
    responses=streamed(exports.ExportedDatasetLog, "The dataset's logs", 400, 404),
)
def export_dataset(
    dataset_id: str,
    format: exports.Format = FormatParam,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> StreamingResponse:
    pages = exports.dataset_pages(backend.engine, who, dataset_id)
    return download(exports.encode(pages, exports.DATASET_LOGS, format), format, dataset_id)
