"""Dataset pages: a dataset made from the logs page's current filter, the list, a dataset's
logs, one of them, and its export as JSON Lines.

The filter travels as the logs page's URL query; it is kept in the dataset in the body form
(`filters.quick_specs`) the API's `initial_log_filters` take, and the logs are copied in the
background by the datasets' own job. The pages live under `/data`: `/datasets` is a
Keywords AI path form (`api.paths`)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi import Depends, Form, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from llmtrail.core import dataset_evals, datasets, evaluators
from llmtrail.core.filters import quick_specs
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid
from llmtrail.ui import logs, session
from llmtrail.ui.detail import chat
from llmtrail.ui.routing import pages
from llmtrail.ui.templates import render

router = pages()
PAGE = 50
EXPORT_PAGE = 500
EXPORTED = ("unique_id", "model", "input", "output", "prompt_messages", "completion_message")


def _engine(request: Request) -> Engine:
    return session.backend(request).engine


@router.get("/data")
async def datasets_page(request: Request, who: Principal = Depends(session.signed_in)) -> Response:
    engine = _engine(request)
    _, rows = await run_in_threadpool(datasets.listed, engine, who, 1, 100)
    counts = await run_in_threadpool(datasets.log_counts, engine, rows)
    return render(request, "datasets.html", {"nav": "datasets", "rows": rows, "counts": counts})


@router.get("/data/new")
async def new_dataset_page(request: Request, who: Principal = Depends(session.member)) -> Response:
    """The form, with the logs page's filter (this URL's query) it will be filled from."""
    params = request.query_params
    query = logs.log_query(params)  # refused here, naming the field, when it does not parse
    context = {
        "nav": "datasets",
        "query": str(params),
        "filters": logs.filter_params(params),
        "window": query.window(),
    }
    return render(request, "dataset_new.html", context)


def _sampling(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise Invalid.at("sampling", "must be a number from 0 to 100 (percent)")
    return value


@router.post("/data")
async def create_dataset(
    request: Request,
    name: str = Form(...),
    description: str = Form(""),
    query: str = Form(""),
    sampling: str = Form("100"),
    who: Principal = Depends(session.member),
) -> Response:
    params = QueryParams(query)
    start, end = logs.log_query(params).window()
    filters = quick_specs(logs.filter_params(params), logs.CONTROL)
    fill = datasets.Window(start, end, filters, _sampling(sampling))
    given = datasets.described({"name": name, "description": description}, creating=True)
    row = await run_in_threadpool(datasets.create, _engine(request), who, **given, fill=fill)
    return RedirectResponse(f"/data/{row.id}", status_code=303)


@router.get("/data/{dataset_id}")
async def dataset_page(
    request: Request, dataset_id: str, page: int = 1, who: Principal = Depends(session.signed_in)
) -> Response:
    engine = _engine(request)
    row = await run_in_threadpool(datasets.get, engine, who, dataset_id)
    page = max(page, 1)
    total, rows = await run_in_threadpool(
        datasets.list_logs, engine, who, dataset_id, None, page, PAGE
    )
    _, runs = await run_in_threadpool(dataset_evals.listed, engine, who, dataset_id, 1, 20)
    _, choices = await run_in_threadpool(evaluators.EVALUATORS.page, engine, who, 1, 100)
    context = {
        "nav": "datasets",
        "dataset": row,
        "runs": runs,
        "evaluators": choices,
        "total": total,
        "rows": rows,
        "page": page,
        "more": page * PAGE < total,
    }
    return render(request, "dataset.html", context)


@router.post("/data/{dataset_id}/runs")
async def start_run(
    request: Request,
    dataset_id: str,
    evaluator_ids: list[str] = Form([]),
    who: Principal = Depends(session.member),
) -> Response:
    """An evaluation run over the dataset's logs, judged in the background."""
    run = await run_in_threadpool(
        dataset_evals.create, _engine(request), who, dataset_id, evaluator_ids
    )
    return RedirectResponse(f"/data/{dataset_id}/runs/{run['id']}", status_code=303)


@router.get("/data/{dataset_id}/runs/{run_id}")
async def run_page(
    request: Request, dataset_id: str, run_id: str, who: Principal = Depends(session.signed_in)
) -> Response:
    engine = _engine(request)
    dataset = await run_in_threadpool(datasets.get, engine, who, dataset_id)
    found = await run_in_threadpool(dataset_evals.report, engine, who, dataset_id, run_id)
    context = {"nav": "datasets", "dataset": dataset, "run": found}
    return render(request, "dataset_run.html", context)


@router.get("/data/{dataset_id}/logs/{unique_id}")
async def dataset_log_page(
    request: Request, dataset_id: str, unique_id: str, who: Principal = Depends(session.signed_in)
) -> Response:
    engine = _engine(request)
    dataset = await run_in_threadpool(datasets.get, engine, who, dataset_id)
    row = await run_in_threadpool(datasets.get_log, engine, who, dataset_id, unique_id)
    context = {"nav": "datasets", "dataset": dataset, "log": row, "messages": chat(row)}
    return render(request, "dataset_log.html", context)


@router.get("/data/{dataset_id}/export")
async def export(
    request: Request, dataset_id: str, who: Principal = Depends(session.signed_in)
) -> Response:
    """The dataset's logs as JSON Lines, read a page at a time while it is sent."""
    engine = _engine(request)
    row = await run_in_threadpool(datasets.get, engine, who, dataset_id)

    def lines() -> Iterator[bytes]:
        page = 1
        while True:
            _, rows = datasets.list_logs(engine, who, dataset_id, None, page, EXPORT_PAGE)
            for log in rows:
                item = {name: getattr(log, name, None) for name in EXPORTED}
                yield orjson.dumps({**item, "target": log.target}, default=iso) + b"\n"
            if len(rows) < EXPORT_PAGE:
                return
            page += 1

    filename = f"{row.name}.jsonl".replace('"', "")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)
