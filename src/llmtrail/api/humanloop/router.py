"""The Humanloop v5 surface (`/v5/...`, `X-API-KEY`), over the domain core.

Paths, bodies and answers follow what the `humanloop` 0.8.38 SDK sends and parses; rule
violations are 422 in FastAPI's shape, which the SDK raises as UnprocessableEntityError.
"""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from fastapi import Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine

from llmtrail.api import idempotency
from llmtrail.api.auth import SECURITY_SCHEMES, principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop import schemas
from llmtrail.api.humanloop.errors import HumanloopErrors
from llmtrail.api.humanloop.translate import (
    FIELDS,
    LOG_COLUMNS,
    Files,
    created,
    evaluator_parent_id,
    log_response,
    monitor_refs,
    split_fields,
    to_log_data,
    version_ids,
)
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.routing import JSONBody, collection_paused
from llmtrail.api.surface import Surface
from llmtrail.core import automations, evaluators, files, judgments, lifecycle, queries, traces
from llmtrail.core.deletes import delete_logs
from llmtrail.core.files import LOG_TYPES, FileRef, FileType
from llmtrail.core.idempotency import Claim, Receipt
from llmtrail.core.ids import to_utc_naive
from llmtrail.core.ingest import write_logs
from llmtrail.core.judgments import Judgments
from llmtrail.core.keys import Principal
from llmtrail.core.logs import NEEDS_IO
from llmtrail.errors import Invalid
from llmtrail.store.writer import Work

ERRORS = {
    401: Detail,
    404: Detail,
    409: Detail,
    413: Detail,
    422: answer.HTTPValidationError,
    503: Detail,
}
surface = Surface(
    "Humanloop",
    errors=HumanloopErrors(),
    auth=principal,
    security=SECURITY_SCHEMES,
    prefix="/v5",
    responses=failures(ERRORS, 401, 413, 422),
)
router = surface.router


def doc(model: object, *codes: int, status: int = 200) -> dict:
    """The `responses=` of a route of this surface."""
    return answers(status, model, ERRORS, *codes)


# What each File type's routes answer.
CREATED = {
    FileType.PROMPT: answer.CreatePromptLogResponse,
    FileType.AGENT: answer.CreateAgentLogResponse,
    FileType.FLOW: answer.CreateFlowLogResponse,
    FileType.TOOL: answer.CreateToolLogResponse,
    FileType.EVALUATOR: answer.CreateEvaluatorLogResponse,
}
FILES = {
    FileType.PROMPT: answer.PromptResponse,
    FileType.AGENT: answer.AgentResponse,
    FileType.FLOW: answer.FlowResponse,
    FileType.TOOL: answer.ToolResponse,
    FileType.EVALUATOR: answer.EvaluatorResponse,
}

LOG_BODIES: dict[FileType, type[schemas.LogBody]] = {
    FileType.PROMPT: schemas.PromptLogBody,
    FileType.AGENT: schemas.AgentLogBody,
    FileType.FLOW: schemas.FlowLogBody,
    FileType.TOOL: schemas.ToolLogBody,
    FileType.EVALUATOR: schemas.EvaluatorLogBody,
}
KERNEL_FIELDS = {
    FileType.PROMPT: "prompt",
    FileType.AGENT: "agent",
    FileType.FLOW: "flow",
    FileType.TOOL: "tool",
    FileType.EVALUATOR: "spec",
}
MAX_PAGE_SIZE = 1000


def _kernel(file_type: FileType, body: BaseModel) -> dict[str, Any] | None:
    """The kernel a `*.log` body carries; a raw `.prompt`/`.agent` file is kept as text."""
    value = getattr(body, KERNEL_FIELDS[file_type], None)
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    if isinstance(value, str):
        return {"raw_file_content": value}
    return value


async def log_to_file(
    backend: Backend,
    who: Principal,
    file_type: FileType,
    body: schemas.LogBody,
    version_id: str | None = None,
    *,
    spans: bool = False,
    also: Callable[[list[dict[str, Any]]], Work] | None = None,
) -> dict[str, Any]:
    """A `*.log` request: the File (or its new version) resolved, the log stored under its
    parent, an evaluator log also scoring the log it judges; returns the stored row. `spans`:
    the log is an exported span's (the SDK's decorators), see `ingest.write_logs` (and
    `also`)."""
    ref = FileRef(
        file_type,
        path=body.path,
        id=body.id,
        kernel=_kernel(file_type, body),
        version_id=version_id,
    )
    version = files.cached_for_log(who, ref) or await run_in_threadpool(
        files.resolve_for_log, backend.engine, who, ref
    )
    log = to_log_data(file_type, body, version)
    parent_id = evaluator_parent_id(body)
    parent = None
    if parent_id:
        loc = "parent_id" if file_type is FileType.EVALUATOR else "trace_parent_id"
        parent = traces.ParentLink.under(who.org_id, parent_id, log.log_type, loc)
    judge = None
    if isinstance(body, schemas.EvaluatorLogBody):  # a judgment: also the judged log's score
        judge = judgments.Judge(who, body.parent_id, body.judgment)
    [row] = await write_logs(
        backend.writer, who, [log], parent, FIELDS, judge, spans=spans, also=also
    )
    return row


def _make_log_route(file_type: FileType) -> None:
    body_model = LOG_BODIES[file_type]

    async def create_log(
        body: body_model,  # type: ignore[valid-type]
        request: Request,
        version_id: str | None = Query(None, description="Log against this File version."),
        environment: str | None = Query(None, description="Accepted; there are no deployments."),
        idempotency_key: str | None = idempotency.KEY,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        async def write(claim: Claim | None) -> Response:
            def receipt(rows: list[dict[str, Any]]) -> Receipt:
                return claim.receipt(200, created(file_type, rows[0]))  # type: ignore[union-attr]

            also = receipt if claim is not None else None
            row = await log_to_file(backend, who, file_type, body, version_id, also=also)
            return JSONBody(created(file_type, row))

        return await idempotency.idempotent(request, idempotency_key, who, backend, write)

    surface.ingest(
        f"/{file_type.value}s/log",
        summary=f"Log to a {file_type.value.title()}",
        description="Creates the File (or a new version) when `path` and a kernel are new.",
        responses=doc(CREATED[file_type], 404, 409, 503),
    )(create_log)


for _file_type in FileType:
    _make_log_route(_file_type)


async def update_file_log(
    backend: Backend,
    who: Principal,
    log_id: str,
    body: BaseModel | None,
    file_type: FileType,
    file_id: str | None = None,
    source: str | None = None,
) -> None:
    """An `update_log` request: its fields, by the lifecycle's rules, all or nothing."""
    columns, extra = split_fields(body) if body is not None else ({}, {})
    if extra:
        columns["extra"] = extra
    await lifecycle.update_log(
        backend.writer,
        who,
        log_id,
        columns,
        names=FIELDS,
        log_type=LOG_TYPES[file_type],
        file_id=file_id,
        source=source or f"humanloop:{file_type.value}s.update_log",
    )


async def _update(
    backend: Backend,
    who: Principal,
    log_id: str,
    body: BaseModel | None,
    file_type: FileType,
    file_id: str | None,
) -> JSONBody:
    await update_file_log(backend, who, log_id, body, file_type, file_id)
    return JSONBody(await run_in_threadpool(_log_with_trace, backend, who, log_id))


@router.patch(
    "/flows/logs/{log_id}",
    summary="Update a Flow Log (seed 002)",
    responses=doc(answer.FlowLogResponse, 404, 503),
)
async def update_flow_log(
    log_id: str,
    body: schemas.FlowLogUpdate | None = Body(None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    return await _update(backend, who, log_id, body, FileType.FLOW, None)


# `PATCH /{agents|prompts|tools}/{id}/log/{log_id}`: the File's id, then the log's.
UPDATES: dict[FileType, tuple[type[BaseModel], str, Any]] = {
    FileType.AGENT: (
        schemas.FlowLogUpdate,
        "Update an Agent Log (seed 001)",
        answer.AgentLogResponse,
    ),
    FileType.PROMPT: (schemas.PromptLogUpdate, "Update a Prompt Log", answer.PromptLogResponse),
    FileType.TOOL: (schemas.ToolLogUpdate, "Update a Tool Log", answer.ToolLogResponse),
}


def _make_update_route(file_type: FileType) -> None:
    body_model, summary, response = UPDATES[file_type]

    async def update_log(
        id: str,
        log_id: str,
        body: body_model | None = Body(None),  # type: ignore[valid-type]
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> JSONBody:
        return await _update(backend, who, log_id, body, file_type, id)

    router.add_api_route(
        f"/{file_type.value}s/{{id}}/log/{{log_id}}",
        update_log,
        methods=["PATCH"],
        name=f"update_{file_type.value}_log",
        summary=summary,
        responses=doc(response, 404, 503),
    )


for _file_type in UPDATES:
    _make_update_route(_file_type)


def _files_of(
    backend: Backend, who: Principal, rows: list[Any], evaluator_ids: Iterable[str] = ()
) -> Files:
    """The File objects of an answer, read once for it: the versions of its rows (logs or
    File versions), their Files' monitoring evaluators, and these and `evaluator_ids` at
    their newest versions."""
    engine = backend.engine
    monitors = automations.monitors(engine, who, {r.file_id for r in rows if r.file_id})
    named = {*evaluator_ids, *(e for m in monitors.values() for e in m.evaluator_ids)}
    found = files.describe(engine, who, version_ids(rows), newest_of=named)
    return Files(found.versions, found.usage, found.newest, monitors)


def _context(backend: Backend, who: Principal, rows: list[Any]) -> tuple[Files, Judgments]:
    """What the logs of an answer nest, read once for all of them: their judgments, and the
    Files of the logs, of the evaluator logs that judged them and of their evaluators."""
    judged = judgments.of(backend.engine, who, rows)
    sources = list(judged.sources.values())
    return _files_of(backend, who, rows + sources, judged.evaluator_ids()), judged


def _rows_of(nodes: list[traces.Node]) -> list[Any]:
    """Every log in these subtrees, evaluations included."""
    return [r for node in nodes for n in node.walk() for r in (n.row, *n.evaluations)]


def _nested(node: traces.Node, root: Any, files_: Files, judged: Judgments) -> dict[str, Any]:
    """A log with its evaluations and its trace children, nested all the way down."""
    flow = traces.flow_of(root)
    return log_response(node.row, files_, judged, node, trace_flow_id=flow, children=True)


def _log_with_trace(backend: Backend, who: Principal, log_id: str) -> dict[str, Any]:
    node, root = traces.subtree(backend.engine, who, log_id, LOG_COLUMNS)
    return _nested(node, root, *_context(backend, who, _rows_of([node])))


@router.get(
    "/logs/{id}",
    summary="Get a Log, with its trace children",
    responses=doc(answer.LogResponse, 404),
)
def get_log(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    # Straight to orjson: a 20,000-span trace is tens of megabytes of nested dicts.
    with collection_paused():
        return JSONBody(_log_with_trace(backend, who, id))


@router.get(
    "/logs", summary="List the Logs of a File", responses=doc(answer.PaginatedDataLogResponse)
)
def list_logs(
    file_id: str = Query(..., description="The File whose Logs to list."),
    page: int = Query(1, ge=1, le=queries.MAX_PAGE),
    size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
    version_id: str | None = None,
    id: list[str] | None = Query(None, description="Substrings of Log ids, any of them."),
    search: str | None = Query(None, description="A substring of the inputs or output."),
    metadata_search: str | None = Query(None, description="A substring of the metadata."),
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    include_parent: bool = False,
    in_trace_filter: list[bool] | None = Query(None),
    include_trace_children: bool = False,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    in_trace = in_trace_filter[0] if in_trace_filter and len(set(in_trace_filter)) == 1 else None
    query = queries.FileLogQuery(
        file_id=file_id,
        page=page,
        size=size,
        version_id=version_id,
        ids=tuple(id or ()),
        search=search,
        metadata_search=metadata_search,
        start_date=to_utc_naive(start_date),
        end_date=to_utc_naive(end_date),
        in_trace=in_trace,
    )
    total, rows = queries.file_logs(backend.engine, who, query)
    records = _records(backend, who, rows, include_trace_children, include_parent)
    return JSONBody({"records": records, "page": page, "size": size, "total": total})


def _records(
    backend: Backend, who: Principal, rows: list[Any], with_children: bool, with_parent: bool
) -> list[dict[str, Any]]:
    """A page of logs as records, the traces it nests read together: a Flow or Agent log
    with its children, an evaluator log with the log it judges."""
    nested = {r.unique_id for r in rows if with_children and r.log_type in NEEDS_IO}
    judged = {
        r.unique_id: r.span_parent_id
        for r in rows
        if with_parent and r.log_type == LOG_TYPES[FileType.EVALUATOR] and r.span_parent_id
    }
    trees = traces.forest(backend.engine, who, nested | set(judged.values()), LOG_COLUMNS)
    subtrees = [n for uid in (*nested, *judged.values()) if (n := trees.node(uid))]
    flows = traces.root_files(
        backend.engine, who, {r.trace_unique_id for r in rows if r.trace_unique_id}
    )
    context = _context(backend, who, rows + _rows_of(subtrees))
    records = []
    for row in rows:
        node = trees.node(row.unique_id) if row.unique_id in nested else None
        if node is not None:
            records.append(_nested(node, trees.root_of(node), *context))
            continue
        judged_node = trees.node(judged[row.unique_id]) if row.unique_id in judged else None
        parent = _nested(judged_node, trees.root_of(judged_node), *context) if judged_node else None
        flow = flows.get(row.trace_unique_id)
        records.append(log_response(row, *context, trace_flow_id=flow, parent=parent))
    return records


@router.delete(
    "/logs",
    status_code=204,
    summary="Delete Logs by id",
    responses=doc(None, 404, 503, status=204),
)
async def delete_logs_by_id(
    id: list[str] = Query(..., description="Ids of the Logs to delete."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    await delete_logs(backend.writer, who, id)
    return Response(status_code=204)


def _file_responses(backend: Backend, who: Principal, versions: list[Any]) -> list[Any]:
    """File responses, with their monitoring evaluators, read once for all of them."""
    files_ = _files_of(backend, who, versions)
    return [files_.of(version.version_id) for version in versions]


def _file_response(backend: Backend, who: Principal, version: Any) -> dict[str, Any]:
    return _file_responses(backend, who, [version])[0]


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
    return _file_response(backend, who, upsert(backend.engine, who, ref))


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
        return _file_response(backend, who, version)

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
    page: int = Query(1, ge=1, le=queries.MAX_PAGE),
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
    records = _file_responses(backend, who, versions)
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
        return _file_response(backend, who, version)

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
    return _file_response(backend, who, files.by_path(backend.engine, who, body.path))
