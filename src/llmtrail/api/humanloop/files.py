"""Humanloop Files: upsert, get and list each File type, retrieve one by path, and the
monitoring Evaluators of a File."""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from collections.abc import Callable
from typing import Any, Literal

from fastapi import Depends, Query, Response
from sqlalchemy import Engine

from llmtrail.api.auth import principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop import schemas
from llmtrail.api.humanloop.reading import file_response, file_responses
from llmtrail.api.humanloop.surface import FILES, MAX_PAGE_SIZE, doc, router
from llmtrail.api.humanloop.translate import monitor_refs
from llmtrail.core import automations, evaluators, files
from llmtrail.core.files import FileRef, FileType
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid

Upsert = Callable[[Engine, Principal, FileRef], Any]


def _upsert(
    backend: Backend,
    who: Principal,
    file_type: FileType,
    body: schemas.FileUpsert,
    kernel: dict,
    upsert: Upsert,
) -> dict[str, Any]:
    if not body.path and not body.id:
        raise Invalid.at("path", "a File `path` or `id` is required", "missing")
    ref = FileRef(
        file_type,
        path=body.path,
        id=body.id,
        kernel=kernel,
        version_name=body.version_name,
        version_description=body.version_description,
    )
    return file_response(backend, who, upsert(backend.engine, who, ref))


def _make_file_routes(
    file_type: FileType,
    body_model: type[schemas.FileUpsert],
    kernel: Callable,
    upsert_file: Upsert = files.upsert,
) -> None:
    def upsert(
        body: body_model,  # type: ignore[valid-type]
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        return _upsert(backend, who, file_type, body, kernel(body), upsert_file)

    def get(
        id: str,
        version_id: str | None = None,
        environment: str | None = None,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        version = files.get(backend.engine, who, id, version_id, file_type)
        return file_response(backend, who, version)

    name = file_type.value.title()
    router.add_api_route(
        f"/{file_type.value}s",
        upsert,
        methods=["POST"],
        summary=f"Upsert a {name}",
        responses=doc(FILES[file_type], 404, 409),
    )
    router.add_api_route(
        f"/{file_type.value}s/{{id}}",
        get,
        methods=["GET"],
        summary=f"Get a {name}",
        responses=doc(FILES[file_type], 404),
    )


def _top_level_kernel(body: schemas.FileUpsert) -> dict[str, Any]:
    """Prompts, tools and agents send their kernel's fields at the top of the body."""
    return dict(body.model_extra or {})


def _model_required(body: schemas.FileUpsert) -> dict[str, Any]:
    kernel = _top_level_kernel(body)
    if not isinstance(kernel.get("model"), str) or not kernel["model"]:
        raise Invalid.at("model", "a model name is required", "missing")
    return kernel


_make_file_routes(FileType.PROMPT, schemas.FileUpsert, _model_required)
_make_file_routes(FileType.AGENT, schemas.FileUpsert, _model_required)
_make_file_routes(FileType.TOOL, schemas.FileUpsert, _top_level_kernel)
_make_file_routes(FileType.FLOW, schemas.FlowUpsert, lambda body: {"attributes": body.attributes})
# An evaluator's upsert also makes (or brings up to the spec) the evaluator that runs it.
_make_file_routes(
    FileType.EVALUATOR, schemas.EvaluatorUpsert, lambda body: body.spec, evaluators.upsert_spec
)


@router.get(
    "/evaluators",
    summary="List the Evaluators",
    responses=doc(answer.PaginatedDataEvaluatorResponse),
)
def list_evaluators(
    page: int = Query(1, ge=1),
    size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
    name: str | None = Query(None, description="A substring of their names, in any case."),
    sort_by: Literal["created_at", "updated_at", "name"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    total, versions = files.listed(
        backend.engine,
        who,
        FileType.EVALUATOR,
        page,
        size,
        name=name,
        sort_by=sort_by,
        descending=order == "desc",
    )
    records = file_responses(backend, who, versions)
    return {"records": records, "page": page, "size": size, "total": total}


@router.delete(
    "/evaluators/{id}",
    status_code=204,
    summary="Delete an Evaluator",
    description="Its past judgments stay; the Files it monitored drop it.",
    responses=doc(None, 404, status=204),
)
def delete_evaluator(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    evaluators.delete(backend.engine, who, id)
    return Response(status_code=204)


def _make_monitoring_route(file_type: FileType) -> None:
    def update_monitoring(
        id: str,
        body: schemas.MonitoringChange,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        version = files.get(backend.engine, who, id, None, file_type)
        activate, deactivate = monitor_refs(body)
        automations.monitor(backend.engine, who, id, activate, deactivate)
        return file_response(backend, who, version)

    router.add_api_route(
        f"/{file_type.value}s/{{id}}/evaluators",
        update_monitoring,
        methods=["POST"],
        name=f"update_{file_type.value}_monitoring",
        summary=f"Activate and deactivate the monitoring Evaluators of a {file_type.value.title()}",
        description="Each active Evaluator that runs by itself judges every new complete Log.",
        responses=doc(FILES[file_type], 404),
    )


for _file_type in (FileType.PROMPT, FileType.TOOL, FileType.FLOW, FileType.AGENT):
    _make_monitoring_route(_file_type)


@router.post(
    "/files/retrieve-by-path",
    summary="Get the File at a path",
    responses=doc(answer.FileResponse, 404),
)
@reads
def retrieve_by_path(
    body: schemas.PathBody,
    environment: str | None = None,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    return file_response(backend, who, files.by_path(backend.engine, who, body.path))
