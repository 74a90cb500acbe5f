"""Evaluation runs over a Keywords AI dataset (contract §3.3 "run eval", KS eval reports),
over `core.dataset_evals`: create, list, read with aggregates, and compare two runs."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, Query, Request

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords import dataset_responses as ds
from llmtrail.api.keywords.datasets import DATASET
from llmtrail.api.keywords.errors import doc, resource_surface
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.routing import JSONBody
from llmtrail.core import dataset_evals
from llmtrail.core.keys import Principal

surface = resource_surface("Keywords AI: dataset evaluations")
router = surface.router
REPORTS = f"{DATASET}eval-reports/"


@router.post(
    f"{REPORTS}create/", status_code=201, responses=doc(ds.EvalReportSummary, 400, 404, status=201)
)
def create_report(
    dataset_id: str,
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Run evaluators (`evaluator_slugs`: slugs or ids) over every log the dataset holds now,
    in the background."""
    found = dataset_evals.create(backend.engine, who, dataset_id, body.get("evaluator_slugs"))
    return JSONBody(found, status_code=201)


@router.get(f"{REPORTS}list/", responses=doc(ds.EvalReportList, 400, 404))
def list_reports(
    request: Request,
    dataset_id: str,
    page: int = Page,
    page_size: int = PageSize,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, rows = dataset_evals.listed(backend.engine, who, dataset_id, page, page_size)
    return paged(request, total, page, page_size, rows)


@router.get(f"{REPORTS}compare/", responses=doc(ds.EvalComparison, 400, 404))
def compare_reports(
    dataset_id: str,
    a: str = Query(..., description="The first run's id."),
    b: str = Query(..., description="The second run's id."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    return JSONBody(dataset_evals.compare(backend.engine, who, dataset_id, a, b))


@router.get(f"{REPORTS}{{report_id}}/", responses=doc(ds.EvalReport, 404))
def get_report(
    dataset_id: str,
    report_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The run's state and, per evaluator, its mean, pass rate and distribution."""
    return JSONBody(dataset_evals.report(backend.engine, who, dataset_id, report_id))
