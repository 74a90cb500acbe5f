"""Humanloop Files: upsert, get, list, move and delete each File type, list them all,
retrieve one by path, and the monitoring Evaluators of a File."""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from collections.abc import Callable, Iterable
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
from llmtrail.core import automations, evaluators, file_edits, files
from llmtrail.core.files import FileRef, FileType
from llmtrail.core.keys import Principal
from llmtrail.core.queries import MAX_PAGE
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
        version_id: str | None = Query(None, description="This version."),
        environment: str | None = Query(None, description="The version deployed there."),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        version = files.get(backend.engine, who, id, version_id, file_type, environment)
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


class FileListing:
    """The query of a Files list: a page, a name filter and an order."""

    def __init__(
        self,
        page: int = Query(1, ge=1, le=MAX_PAGE, description="From 1; past the end, no records."),
        size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
        name: str | None = Query(None, description="A substring of their names, in any case."),
        sort_by: Literal["created_at", "updated_at", "name"] = "created_at",
        order: Literal["asc", "desc"] = "desc",
    ) -> None:
        self.page, self.size, self.name, self.sort_by, self.order = page, size, name, sort_by, order

    def answer(
        self,
        backend: Backend,
        who: Principal,
        types: Iterable[FileType],
        directory: str | None = None,
    ) -> dict[str, Any]:
        """The page of the Files of these types (under `directory`), at their newest."""
        total, versions = files.listed(
            backend.engine,
            who,
            types,
            self.page,
            self.size,
            name=self.name,
            sort_by=self.sort_by,
            descending=self.order == "desc",
            directory=directory,
        )
        records = file_responses(backend, who, versions)
        return {"records": records, "page": self.page, "size": self.size, "total": total}


LISTS = {
    FileType.PROMPT: answer.PaginatedDataPromptResponse,
    FileType.AGENT: answer.PaginatedDataAgentResponse,
    FileType.TOOL: answer.PaginatedDataToolResponse,
    FileType.FLOW: answer.PaginatedDataFlowResponse,
    FileType.EVALUATOR: answer.PaginatedDataEvaluatorResponse,
}


def _delete_file(engine: Engine, who: Principal, file_id: str, file_type: FileType) -> None:
    if file_type is FileType.EVALUATOR:  # the evaluator that runs it goes too
        evaluators.delete(engine, who, file_id)
    else:
        file_edits.delete(engine, who, file_id, file_type)


def _make_collection_routes(file_type: FileType) -> None:
    """List, delete and move the Files of a type."""
    name, plural = file_type.value.title(), f"{file_type.value}s"

    def list_files(
        listing: FileListing = Depends(),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        return listing.answer(backend, who, [file_type])

    def delete_file(
        id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
    ) -> Response:
        _delete_file(backend.engine, who, id, file_type)
        return Response(status_code=204)

    def move_file(
        id: str,
        body: schemas.FileMove,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        moved = file_edits.move(backend.engine, who, id, file_type, body.path, body.name)
        return file_response(backend, who, moved)

    router.add_api_route(
        f"/{plural}",
        list_files,
        methods=["GET"],
        name=f"list_{plural}",
        summary=f"List the {name}s",
        responses=doc(LISTS[file_type]),
    )
    router.add_api_route(
        f"/{plural}/{{id}}",
        delete_file,
        methods=["DELETE"],
        name=f"delete_{file_type.value}",
        status_code=204,
        summary=f"Delete a {name}",
        description=DELETED[file_type],
        responses=doc(None, 404, status=204),
    )
    router.add_api_route(
        f"/{plural}/{{id}}",
        move_file,
        methods=["PATCH"],
        name=f"move_{file_type.value}",
        summary=f"Move or rename a {name}",
        description="`path` moves it (its name is the path's last part); `name` alone renames"
        " it where it is.",
        responses=doc(FILES[file_type], 404, 409),
    )


DELETED = {
    **dict.fromkeys(
        (FileType.PROMPT, FileType.AGENT, FileType.TOOL, FileType.FLOW),
        "Its versions and monitoring go; its Logs stay.",
    ),
    FileType.EVALUATOR: "Its past judgments stay; the Files it monitored drop it.",
}
for _file_type in FileType:
    _make_collection_routes(_file_type)


@router.get(
    "/files",
    summary="List Files of every type",
    responses=doc(answer.PaginatedFiles),
)
def list_all_files(
    listing: FileListing = Depends(),
    type: list[FileType] | None = Query(None, description="Only these types."),
    path: str | None = Query(None, description="Only Files under this directory, any depth."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    return listing.answer(backend, who, type or list(FileType), directory=path)


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
        description="Each active Evaluator that runs by itself judges every new complete Log"
        " (of an Evaluator: each judgment logged; an Evaluator cannot monitor itself).",
        responses=doc(FILES[file_type], 404),
    )


for _file_type in FileType:
    _make_monitoring_route(_file_type)


@router.post(
    "/files/retrieve-by-path",
    summary="Get the File at a path",
    responses=doc(answer.FileResponse, 404),
)
@reads
def retrieve_by_path(
    body: schemas.PathBody,
    environment: str | None = Query(None, description="At the version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    found = files.by_path(backend.engine, who, body.path, environment)
    return file_response(backend, who, found)
