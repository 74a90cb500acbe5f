"""Humanloop Logs: `*.log` of each File type, their updates, and get, list and delete.

Log creation runs as a `DirectRoute` (the hot path); answers nest their Files and judgments
(`reading`).
"""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Row

from llmtrail.api import idempotency
from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend, masking
from llmtrail.api.bounds import SearchText
from llmtrail.api.humanloop import reading, schemas
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.surface import MAX_PAGE_SIZE, doc, router, surface
from llmtrail.api.humanloop.translate import (
    FIELDS,
    LOG_COLUMNS,
    created,
    evaluator_parent_id,
    log_response,
    split_fields,
    to_log_data,
)
from llmtrail.api.routing import JSONBody, collection_paused
from llmtrail.bounds import MAX_FILTER_VALUES
from llmtrail.core import files, hl_evaluations, judgments, lifecycle, prompt_files, queries, traces
from llmtrail.core.deletes import delete_logs
from llmtrail.core.files import LOG_TYPES, FileRef, FileType
from llmtrail.core.idempotency import Claim, Receipt
from llmtrail.core.ids import to_utc_naive
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal
from llmtrail.core.logs import NEEDS_IO
from llmtrail.errors import Invalid
from llmtrail.store.writer import After, Work

# What each File type's `*.log` answers.
CREATED = {
    FileType.PROMPT: answer.CreatePromptLogResponse,
    FileType.AGENT: answer.CreateAgentLogResponse,
    FileType.FLOW: answer.CreateFlowLogResponse,
    FileType.TOOL: answer.CreateToolLogResponse,
    FileType.EVALUATOR: answer.CreateEvaluatorLogResponse,
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


def _kernel(file_type: FileType, body: BaseModel) -> dict[str, Any] | None:
    """The kernel a `*.log` body carries; `.prompt`/`.agent` text is read (`prompt_files`),
    and kept as text if it does not read as a kernel."""
    value = getattr(body, KERNEL_FIELDS[file_type], None)
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    if isinstance(value, str):  # `.prompt` / `.agent` text: its kernel, if it reads as one
        try:
            return prompt_files.parse(value, (KERNEL_FIELDS[file_type],))
        except Invalid:
            return {"raw_file_content": value}
    return value


async def resolve_version(
    backend: Backend,
    who: Principal,
    file_type: FileType,
    body: schemas.LogBody,
    version_id: str | None = None,
    environment: str | None = None,
) -> Row:
    """The File version a `*.log` (or a call) body names: by path or id, its kernel (a new
    version if new), `version_id`, or the version deployed to `environment`."""
    ref = FileRef(
        file_type,
        path=body.path,
        id=body.id,
        kernel=_kernel(file_type, body),
        version_id=version_id,
        environment=environment,
    )
    return files.cached_for_log(who, ref) or await run_in_threadpool(
        files.resolve_for_log, backend.engine, who, ref
    )


async def log_to_file(
    backend: Backend,
    who: Principal,
    file_type: FileType,
    body: schemas.LogBody,
    version_id: str | None = None,
    *,
    environment: str | None = None,
    spans: bool = False,
    also: Callable[[list[dict[str, Any]]], Work] | None = None,
    version: Row | None = None,
) -> dict[str, Any]:
    """A `*.log` request: the File (or its new version) resolved, the log stored under its
    parent, an evaluator log also scoring the log it judges; returns the stored row. `spans`:
    the log is an exported span's (the SDK's decorators), see `ingest.write_logs` (and
    `also`). `version`: the one `resolve_version` found already (a Prompt call's)."""
    if version is None:
        version = await resolve_version(backend, who, file_type, body, version_id, environment)
    log = to_log_data(file_type, body, version)
    parent_id = evaluator_parent_id(body)
    parent = None
    if parent_id:
        loc = "parent_id" if file_type is FileType.EVALUATOR else "trace_parent_id"
        parent = traces.ParentLink.under(who.org_id, parent_id, log.log_type, loc)
    then: After | None = None
    if isinstance(body, schemas.EvaluatorLogBody):  # a judgment: also the judged log's score
        then = judgments.Judge(who, body.parent_id, body.judgment)
    run_id = getattr(body, "run_id", None)
    if run_id:  # a Log of an Evaluation Run: it joins the Run
        await run_in_threadpool(hl_evaluations.check_run, backend.engine, who, run_id)
        then = hl_evaluations.RunLogs(who.org_id, run_id, body.source_datapoint_id, then)
    policy = await masking(backend, who)
    [row] = await write_logs(
        backend.writer, who, [log], parent, FIELDS, then, spans=spans, also=also, policy=policy
    )
    return row


def _make_log_route(file_type: FileType) -> None:
    body_model = LOG_BODIES[file_type]

    async def create_log(
        body: body_model,  # type: ignore[valid-type]
        request: Request,
        version_id: str | None = Query(None, description="Log against this File version."),
        environment: str | None = Query(
            None, description="Log against the version deployed there (without a kernel)."
        ),
        idempotency_key: str | None = idempotency.KEY,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        async def write(claim: Claim | None) -> Response:
            def receipt(rows: list[dict[str, Any]]) -> Receipt:
                return claim.receipt(200, created(file_type, rows[0]))  # type: ignore[union-attr]

            also = receipt if claim is not None else None
            row = await log_to_file(
                backend, who, file_type, body, version_id, environment=environment, also=also
            )
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
        policy=await masking(backend, who),
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
    return JSONBody(await run_in_threadpool(reading.log_with_trace, backend, who, log_id))


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
        return JSONBody(reading.log_with_trace(backend, who, id))


@router.get(
    "/logs", summary="List the Logs of a File", responses=doc(answer.PaginatedDataLogResponse)
)
def list_logs(
    file_id: str = Query(..., description="The File whose Logs to list."),
    page: int = Query(1, ge=1, le=queries.MAX_PAGE),
    size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
    version_id: str | None = None,
    id: list[SearchText] | None = Query(
        None, max_length=MAX_FILTER_VALUES, description="Substrings of Log ids, any of them."
    ),
    search: SearchText | None = Query(
        None, description="A substring of the inputs, output or messages, in any case."
    ),
    metadata_search: SearchText | None = Query(None, description="A substring of the metadata."),
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
    context = reading.context(backend, who, rows + reading.rows_of(subtrees))
    records = []
    for row in rows:
        node = trees.node(row.unique_id) if row.unique_id in nested else None
        if node is not None:
            records.append(reading.nested(node, trees.root_of(node), *context))
            continue
        judged_node = trees.node(judged[row.unique_id]) if row.unique_id in judged else None
        parent = None
        if judged_node is not None:
            parent = reading.nested(judged_node, trees.root_of(judged_node), *context)
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
