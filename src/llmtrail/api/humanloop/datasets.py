"""Humanloop Datasets (contract §6) over the datasets both dialects share (`core.datapoints`):
upsert with Datapoints and `action` set/add/remove, get, list, move, list Datapoints, list
versions, name and delete a version, delete, and a CSV upload, as the `humanloop` 0.8.38 SDK
calls them. `environment` reads the version deployed there (`humanloop.environments` has
the deployment routes, shared with Files)."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from fastapi import Body, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row
from starlette.concurrency import run_in_threadpool

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import dataset_responses as answer
from llmtrail.api.humanloop.files import FileListing
from llmtrail.api.humanloop.schemas import FileMove, Message, VersionChange
from llmtrail.api.humanloop.surface import MAX_PAGE_SIZE, doc, router
from llmtrail.api.humanloop.translate import environment_object, version_changes
from llmtrail.core import datapoints, datasets
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid

VersionParam = Query(
    None,
    description="A version of the Dataset; default: the one deployed to `environment`, else "
    "to the default environment, else its newest.",
)
EnvironmentParam = Query(None, description="Read the version deployed there (404: none is).")
IncludeParam = Query(False, description="Answer the version's Datapoints too.")


class DatapointIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, str] | None = None
    messages: list[Message] | None = None
    target: dict[str, Any] | None = None


class DatasetUpsert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    datapoints: list[DatapointIn]
    path: str | None = None
    id: str | None = None
    action: Literal["set", "add", "remove"] = "set"
    attributes: dict[str, Any] | None = Field(default=None, description="Accepted, not kept.")
    version_name: str | None = None
    version_description: str | None = None


def datapoint_response(row: Row) -> dict[str, Any]:
    point = datapoints.datapoint(row)
    return {
        "id": row.unique_id,
        "inputs": point.inputs,
        "messages": point.messages,
        "target": point.target,
    }


def dataset_response(version: datapoints.Version, rows: list[Row] | None = None) -> dict[str, Any]:
    dataset, committed = version.dataset, version.version
    answered = {
        "id": dataset.id,
        "path": dataset.path,
        "name": dataset.name,
        "description": dataset.description or None,
        "directory_id": None,
        "type": "dataset",
        "version_id": version.id,
        "version_name": committed.version_name if committed is not None else None,
        "version_description": committed.version_description if committed is not None else None,
        "created_at": iso(dataset.created_at),
        "updated_at": iso(dataset.updated_at),
        "last_used_at": iso(dataset.updated_at),
        "datapoints_count": version.count,
        "environments": [environment_object(env) for env in version.environments],
        "tags": [],
    }
    if rows is not None:
        answered["datapoints"] = [datapoint_response(row) for row in rows]
    return answered


def _answer(backend: Backend, version: datapoints.Version, include: bool) -> dict[str, Any]:
    rows = datapoints.rows(backend.engine, version) if include else None
    return dataset_response(version, rows)


@router.post(
    "/datasets",
    summary="Upsert a Dataset: a new version of its Datapoints",
    description="Identical Datapoints are one (add `_dedupe_id` to `inputs` for a duplicate); "
    "a `version_name` already used in the Dataset is 409.",
    responses=doc(answer.DatasetResponse, 404, 409),
)
def upsert_dataset(
    body: DatasetUpsert,
    version_id: str | None = Query(None, description="The version add and remove start from."),
    environment: str | None = Query(None, description="Or the version deployed there."),
    include_datapoints: bool = IncludeParam,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    request = datapoints.Upsert(
        datapoints=[datapoints.Datapoint(p.inputs, p.messages, p.target) for p in body.datapoints],
        id=body.id,
        path=body.path,
        action=body.action,
        version_id=version_id,
        environment=environment,
        version_name=body.version_name,
        version_description=body.version_description,
    )
    return _answer(backend, datapoints.upsert(backend.engine, who, request), include_datapoints)


@router.get(
    "/datasets",
    summary="List Datasets",
    responses=doc(answer.PaginatedDatasetResponse),
)
def list_datasets(
    listing: FileListing = Depends(),
    user_filter: str | None = Query(None, description="Accepted; Datasets have no authors."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    total, versions = datapoints.listed(
        backend.engine,
        who,
        page=listing.page,
        size=listing.size,
        name=listing.name,
        sort_by=listing.sort_by,
        descending=listing.order == "desc",
    )
    records = [dataset_response(version) for version in versions]
    return {"records": records, "page": listing.page, "size": listing.size, "total": total}


@router.get("/datasets/{id}", summary="Get a Dataset", responses=doc(answer.DatasetResponse, 404))
def get_dataset(
    id: str,
    version_id: str | None = VersionParam,
    environment: str | None = EnvironmentParam,
    include_datapoints: bool = IncludeParam,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    version = datapoints.get(backend.engine, who, id, version_id, environment)
    return _answer(backend, version, include_datapoints)


@router.delete(
    "/datasets/{id}",
    status_code=204,
    summary="Delete a Dataset, its versions and Datapoints",
    responses=doc(None, 404, status=204),
)
def delete_dataset(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    datasets.delete(backend.engine, who, id)
    return Response(status_code=204)


@router.patch(
    "/datasets/{id}",
    summary="Move or rename a Dataset",
    responses=doc(answer.DatasetResponse, 404, 409),
)
def move_dataset(
    id: str,
    body: FileMove,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    return dataset_response(datapoints.move(backend.engine, who, id, body.path, body.name))


@router.get(
    "/datasets/{id}/datapoints",
    summary="List a version's Datapoints",
    responses=doc(answer.PaginatedDatapointResponse, 404),
)
def list_datapoints(
    id: str,
    version_id: str | None = VersionParam,
    environment: str | None = EnvironmentParam,
    page: int = Query(1, ge=1, description="From 1; past the end, no records."),
    size: int = Query(50, ge=0, le=MAX_PAGE_SIZE),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    version = datapoints.get(backend.engine, who, id, version_id, environment)
    rows = datapoints.rows(backend.engine, version, (page - 1) * size, size)
    records = [datapoint_response(row) for row in rows]
    return {"records": records, "page": page, "size": size, "total": version.count}


@router.get(
    "/datasets/{id}/versions",
    summary="List a Dataset's versions",
    responses=doc(answer.ListDatasets, 404),
)
def list_versions(
    id: str,
    include_datapoints: Literal["latest_saved", "latest_committed"] | None = Query(
        None, description="Answer the Datapoints of the newest version too."
    ),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    versions = datapoints.versions(backend.engine, who, id)
    records = [dataset_response(version) for version in versions]
    if include_datapoints is not None:
        rows = datapoints.rows(backend.engine, versions[-1])
        records[-1] = dataset_response(versions[-1], rows)
    return {"records": records}


@router.patch(
    "/datasets/{id}/versions/{version_id}",
    summary="Name or describe a version of a Dataset",
    description="`name` is unique among the Dataset's versions; null unsets either field.",
    responses=doc(answer.DatasetResponse, 404, 409),
)
def describe_version(
    id: str,
    version_id: str,
    body: VersionChange | None = Body(None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    changes = version_changes(body)
    return dataset_response(
        datapoints.describe_version(backend.engine, who, id, version_id, changes)
    )


@router.delete(
    "/datasets/{id}/versions/{version_id}",
    status_code=204,
    summary="Delete a version of a Dataset",
    description="The other versions keep their Datapoints; a Dataset left with no version "
    "reads as its current Datapoints. 409 while the version is deployed, or while an "
    "Evaluation Run is over it (the answer names the Run: delete it first).",
    responses=doc(None, 404, 409, status=204),
)
def delete_version(
    id: str,
    version_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> Response:
    datapoints.delete_version(backend.engine, who, id, version_id)
    return Response(status_code=204)


@router.post(
    "/datasets/{id}/datapoints/csv",
    summary="Add the Datapoints of a CSV file, as a new version",
    description="A header row, then a Datapoint a row: each column is an input but "
    "`messages` (a JSON list) and `target` (a JSON object); an empty cell is no input. "
    "Added to the version `version_id` names, else to the Dataset as it is now.",
    responses=doc(answer.DatasetResponse, 404, 409),
)
async def upload_csv(
    id: str,
    file: UploadFile = File(..., description="UTF-8 CSV with a header row."),
    version_name: str | None = Form(None),
    version_description: str | None = Form(None),
    version_id: str | None = Query(None, description="The version the rows are added to."),
    environment: str | None = Query(None, description="Or the version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    try:
        text = (await file.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.at("file", "must be UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise Invalid.at("file", "must start with a header row naming the columns")
    request = datapoints.Upsert(
        datapoints=datapoints.parse_csv_rows(reader),
        id=id,
        action="add",
        version_id=version_id,
        environment=environment,
        version_name=version_name,
        version_description=version_description,
    )
    version = await run_in_threadpool(datapoints.upsert, backend.engine, who, request)
    return dataset_response(version)
