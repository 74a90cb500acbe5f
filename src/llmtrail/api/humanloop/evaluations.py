"""Humanloop Evaluations (`/v5/evaluations`), as the `humanloop` 0.8.38 SDK's `evaluations`
client and `evals.run` call them: Evaluations of a File with their Evaluators, their Runs
over Dataset versions, the Logs of the Runs and per-Run, per-Evaluator stats
(`core.hl_evaluations` holds the rules)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row
from starlette.concurrency import run_in_threadpool

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import evaluation_responses as answer
from llmtrail.api.humanloop import reading
from llmtrail.api.humanloop.datasets import datapoint_response, dataset_response
from llmtrail.api.humanloop.surface import MAX_PAGE_SIZE, doc, router
from llmtrail.core import datapoints
from llmtrail.core import hl_evaluations as core
from llmtrail.core.hl_evaluations import EvaluatorStats, Ref, RunState
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal
from llmtrail.core.queries import MAX_PAGE
from llmtrail.errors import NotFound

# --- request bodies ------------------------------------------------------------------------


class FileSpec(BaseModel):
    """A File or a version of one: `version_id`, or the File by `id` or `path` (at the
    version deployed to `environment`, else its current one)."""

    model_config = ConfigDict(extra="ignore")

    version_id: str | None = None
    id: str | None = None
    path: str | None = None
    environment: str | None = None


class EvaluatorSpec(FileSpec):
    orchestrated: bool | None = Field(
        default=None,
        description="Whether the server runs it; default: it does for llm, code and rule "
        "Evaluators, the others' judgments are logged (`evaluators.log`).",
    )


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    evaluators: list[EvaluatorSpec]
    file: FileSpec | None = None
    name: str | None = Field(default=None, max_length=255)


class EvaluatorsAdd(BaseModel):
    model_config = ConfigDict(extra="ignore")

    evaluators: list[EvaluatorSpec]


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dataset: FileSpec | None = None
    version: FileSpec | None = None
    orchestrated: bool | None = Field(
        default=None, description="Only false: the caller logs to the Run (`run_id`)."
    )
    use_existing_logs: bool | None = None


class RunUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    control: bool | None = None
    status: answer.EvaluationStatus | None = Field(
        default=None, description="`completed` or `cancelled`, of a pending or running Run."
    )


class LogIds(BaseModel):
    log_ids: list[str]


def _ref(spec: FileSpec, loc: tuple[str | int, ...]) -> Ref:
    return Ref(
        loc,
        version_id=spec.version_id,
        file_id=spec.id,
        path=spec.path,
        environment=spec.environment,
        orchestrated=getattr(spec, "orchestrated", None),
    )


def _evaluator_refs(specs: list[EvaluatorSpec]) -> list[Ref]:
    return [_ref(spec, ("evaluators", i)) for i, spec in enumerate(specs)]


# --- answers -------------------------------------------------------------------------------


def _versions(backend: Backend, who: Principal, pairs: list[tuple[str, str | None]]):
    """The File responses of these (File id, version id) pairs, read at once."""
    rows = [SimpleNamespace(file_id=f, version_id=v) for f, v in pairs if v]
    return reading.files_of(backend, who, rows)


def _evaluations(backend: Backend, who: Principal, rows: list[Row]) -> list[dict[str, Any]]:
    described = core.describe(backend.engine, rows)
    chosen = [e for found in described.evaluators.values() for e in found]
    found = _versions(backend, who, [(e.evaluator_id, e.version_id) for e in chosen])
    out = []
    for row in rows:
        evaluators = []
        for e in described.evaluators.get(row.id, []):
            version = found.of(e.version_id)
            if version is not None:  # an Evaluator deleted since is left out
                evaluators.append(
                    {
                        "version": version,
                        "orchestrated": described.orchestrated(e),
                        "added_at": iso(e.added_at),
                    }
                )
        out.append(
            {
                "id": row.id,
                "runs_count": described.runs.get(row.id, 0),
                "evaluators": evaluators,
                "name": row.name,
                "file_id": row.file_id,
                "created_at": iso(row.created_at),
                "created_by": None,
                "updated_at": iso(row.updated_at),
                "url": None,
            }
        )
    return out


def _evaluation(backend: Backend, who: Principal, row: Row) -> dict[str, Any]:
    return _evaluations(backend, who, [row])[0]


def _runs(
    backend: Backend, who: Principal, evaluation_id: str, rows: list[Row]
) -> list[dict[str, Any]]:
    states = core.run_states(backend.engine, who, evaluation_id, rows)
    found = _versions(backend, who, [(r.file_id, r.version_id) for r in rows])
    out = []
    for row in rows:
        dataset = None
        if row.dataset_id is not None:
            try:
                version = datapoints.get(
                    backend.engine, who, row.dataset_id, row.dataset_version_id
                )
                dataset = dataset_response(version)
            except NotFound:  # deleted since
                pass
        out.append(
            {
                "id": row.id,
                "dataset": dataset,
                "version": found.of(row.version_id),
                "orchestrated": bool(row.orchestrated),
                "added_at": iso(row.added_at),
                "created_at": iso(row.created_at),
                "created_by": None,
                "status": states[row.id].status,
                "control": bool(row.control),
            }
        )
    return out


def _run(backend: Backend, who: Principal, evaluation_id: str, row: Row) -> dict[str, Any]:
    return _runs(backend, who, evaluation_id, [row])[0]


def _evaluator_stats(stats: EvaluatorStats) -> dict[str, Any]:
    out: dict[str, Any] = {
        "evaluator_version_id": stats.version_id,
        "total_logs": stats.total,
        "num_judgments": stats.judgments,
        "num_nulls": stats.nulls,
        "num_errors": stats.errors,
    }
    kind = core.kind_of(stats.value_type)
    if kind == "numeric":
        out |= {
            "mean": stats.mean,
            "sum": stats.sum,
            "std": stats.std,
            "percentiles": stats.percentiles,
        }
    elif kind == "boolean":
        out |= {"num_true": stats.trues, "num_false": stats.falses}
    elif kind == "select":
        out["num_judgments_per_option"] = stats.options
    return out


def _score(stats: EvaluatorStats) -> str:
    """One Evaluator's result on a Run, as the report prints it."""
    kind = core.kind_of(stats.value_type)
    if kind == "numeric" and stats.mean is not None:
        return f"mean {stats.mean:.2f}"
    if kind == "boolean" and stats.judgments:
        return f"{stats.trues / stats.judgments:.0%} true ({stats.trues}/{stats.judgments})"
    if kind == "select" and stats.options:
        return ", ".join(f"{k}: {n}" for k, n in stats.options.items())
    return f"{stats.judgments} judgments"


def _report(evaluation: Row, names: dict[str, str], found: list[RunState]) -> tuple[str, str]:
    """(progress, report) of an Evaluation, to print: per Run newest first, its status and
    what each Evaluator gave."""
    progress, report = [], [f"Evaluation {evaluation.id} ({evaluation.name or 'unnamed'})\n"]
    for state in found:
        run = state.run
        judged = sum(s.total for s in state.evaluators)
        wanted = state.expected * len(state.evaluators)
        progress.append(
            f"Run {run.id}: {state.status}, {state.logs}/{run.datapoint_count} Logs,"
            f" {judged}/{wanted} judgments\n"
        )
        report.append(
            f"\nRun {run.id} ({state.status}), version {run.version_id}, {state.logs} Logs\n"
        )
        for stats in state.evaluators:
            name = names.get(stats.evaluator_id, stats.evaluator_id)
            errors = f", {stats.errors} errors" if stats.errors else ""
            report.append(f"  {name}: {_score(stats)}{errors}\n")
    return "".join(progress), "".join(report)


# --- routes --------------------------------------------------------------------------------


@router.get(
    "/evaluations",
    summary="List the Evaluations of a File",
    responses=doc(answer.PaginatedEvaluationResponse),
)
def list_evaluations(
    file_id: str = Query(..., description="The File whose Evaluations to list."),
    page: int = Query(1, ge=1, le=MAX_PAGE, description="From 1; past the end, no records."),
    size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    total, rows = core.listed(backend.engine, who, file_id, page, size)
    records = _evaluations(backend, who, rows)
    return {"records": records, "page": page, "size": size, "total": total}


@router.post(
    "/evaluations",
    summary="Create an Evaluation of a File",
    description="A `name` another Evaluation of the File has is 409.",
    responses=doc(answer.EvaluationResponse, 409),
)
def create_evaluation(
    body: EvaluationCreate,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    file = _ref(body.file, ("file",)) if body.file is not None else None
    row = core.create(backend.engine, who, file, body.name, _evaluator_refs(body.evaluators))
    return _evaluation(backend, who, row)


@router.post(
    "/evaluations/{id}/evaluators",
    summary="Add Evaluators to an Evaluation",
    description="Server-run ones also judge the Logs its Runs hold already.",
    responses=doc(answer.EvaluationResponse, 404),
)
def add_evaluators(
    id: str,
    body: EvaluatorsAdd,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    row = core.add_evaluators(backend.engine, who, id, _evaluator_refs(body.evaluators))
    return _evaluation(backend, who, row)


@router.delete(
    "/evaluations/{id}/evaluators/{evaluator_version_id}",
    summary="Remove an Evaluator from an Evaluation",
    description="Its judgments stay on the Logs.",
    responses=doc(answer.EvaluationResponse, 404),
)
def remove_evaluator(
    id: str,
    evaluator_version_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    row = core.remove_evaluator(backend.engine, who, id, evaluator_version_id)
    return _evaluation(backend, who, row)


@router.get(
    "/evaluations/{id}",
    summary="Get an Evaluation",
    responses=doc(answer.EvaluationResponse, 404),
)
def get_evaluation(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> dict[str, Any]:
    return _evaluation(backend, who, core.get(backend.engine, who, id))


@router.delete(
    "/evaluations/{id}",
    status_code=204,
    summary="Delete an Evaluation",
    description="The Runs no other Evaluation shows go with it; their Logs stay.",
    responses=doc(None, 404, status=204),
)
def delete_evaluation(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    core.delete(backend.engine, who, id)
    return Response(status_code=204)


@router.get(
    "/evaluations/{id}/runs",
    summary="List the Runs of an Evaluation",
    responses=doc(answer.EvaluationRunsResponse, 404),
)
def list_runs(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> dict[str, Any]:
    return {"runs": _runs(backend, who, id, core.runs(backend.engine, who, id))}


@router.post(
    "/evaluations/{id}/runs",
    summary="Create a Run over a Dataset version",
    description="Log to it with `run_id` (and `source_datapoint_id`); `use_existing_logs` "
    "attaches the version's Logs made from the Dataset's Datapoints.",
    responses=doc(answer.EvaluationRunResponse, 404),
)
def create_run(
    id: str,
    body: RunCreate | None = None,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    body = body or RunCreate()
    row = core.create_run(
        backend.engine,
        who,
        id,
        _ref(body.dataset, ("dataset",)) if body.dataset is not None else None,
        _ref(body.version, ("version",)) if body.version is not None else None,
        body.orchestrated,
        body.use_existing_logs,
    )
    return _run(backend, who, id, row)


@router.post(
    "/evaluations/{id}/runs/{run_id}",
    summary="Show an existing Run in this Evaluation too",
    responses=doc(answer.EvaluationRunResponse, 404),
)
def add_existing_run(
    id: str,
    run_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    return _run(backend, who, id, core.add_existing_run(backend.engine, who, id, run_id))


@router.delete(
    "/evaluations/{id}/runs/{run_id}",
    status_code=204,
    summary="Remove a Run from an Evaluation",
    description="A Run no Evaluation shows any more is deleted; its Logs stay.",
    responses=doc(None, 404, status=204),
)
def remove_run(
    id: str,
    run_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    core.remove_run(backend.engine, who, id, run_id)
    return Response(status_code=204)


@router.patch(
    "/evaluations/{id}/runs/{run_id}",
    summary="Make a Run the control, cancel it or mark it completed",
    responses=doc(answer.EvaluationRunResponse, 404),
)
def update_run(
    id: str,
    run_id: str,
    body: RunUpdate,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    row = core.update_run(backend.engine, who, id, run_id, body.control, body.status)
    return _run(backend, who, id, row)


@router.post(
    "/evaluations/{id}/runs/{run_id}/logs",
    summary="Attach stored Logs to a Run",
    responses=doc(answer.EvaluationRunResponse, 404),
)
def add_logs_to_run(
    id: str,
    run_id: str,
    body: LogIds,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    return _run(backend, who, id, core.add_logs(backend.engine, who, id, run_id, body.log_ids))


@router.get(
    "/evaluations/{id}/stats",
    summary="Per Run and Evaluator, what the judgments add up to",
    description="`evals.run` polls it until its Run is `completed`.",
    responses=doc(answer.EvaluationStats, 404),
)
def get_stats(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> dict[str, Any]:
    evaluation = core.get(backend.engine, who, id)
    chosen, found = core.stats(backend.engine, who, id)
    paths = _versions(backend, who, [(e.evaluator_id, e.version_id) for e in chosen])
    names = {
        e.evaluator_id: (paths.of(e.version_id) or {}).get("path", e.evaluator_id) for e in chosen
    }
    progress, report = _report(evaluation, names, found)
    return {
        "run_stats": [
            {
                "run_id": state.run.id,
                "version_id": state.run.version_id,
                "batch_id": None,
                "num_logs": state.logs,
                "evaluator_stats": [_evaluator_stats(s) for s in state.evaluators],
                "status": state.status,
            }
            for state in found
        ],
        "progress": progress,
        "report": report,
        "status": core.overall(found),
    }


@router.get(
    "/evaluations/{id}/logs",
    summary="The Logs of an Evaluation's Runs, with their Datapoints and judgments",
    responses=doc(answer.PaginatedDataEvaluationLogResponse, 404),
)
async def get_logs(
    id: str,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    size: int = Query(10, ge=0, le=MAX_PAGE_SIZE),
    run_id: list[str] | None = Query(None, description="Only these Runs' Logs."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    total, found = await run_in_threadpool(
        core.logs_page, backend.engine, who, id, run_id, page, size
    )
    records = []
    for item in found:
        log = await run_in_threadpool(reading.log_with_trace, backend, who, item.log_unique_id)
        records.append(
            {
                "run_id": item.run_id,
                "datapoint": datapoint_response(item.datapoint) if item.datapoint else None,
                "log": log,
                "evaluator_logs": log["evaluator_logs"],
            }
        )
    return {"records": records, "page": page, "size": size, "total": total}
