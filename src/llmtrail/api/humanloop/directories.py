"""Humanloop Directories (`/v5/directories`): create, list, get, move or rename, delete
(`core.directories` keeps the rules)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Response
from pydantic import Field
from sqlalchemy import Row

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.reading import file_responses
from llmtrail.api.humanloop.schemas import _Open
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.core import directories
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal


class DirectoryBody(_Open):
    """Where: a whole `path`, or a `name` in the directory `parent_id` (null: the root)."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    parent_id: str | None = None
    path: str | None = Field(default=None, min_length=1, max_length=1024)

    def parent(self) -> object:
        return self.parent_id if "parent_id" in self.model_fields_set else directories.UNSET


def directory_object(row: Row) -> dict[str, Any]:
    """A DirectoryResponse."""
    return {
        "id": row.id,
        "parent_id": row.parent_id,
        "name": row.name,
        "description": row.description,
        "path": row.path,
        "readme": row.readme,
        "tags": [],
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


@router.get(
    "/directories",
    summary="List the Directories",
    description="All of them, by path.",
    responses=doc(list[answer.DirectoryResponse]),
)
def list_directories(
    who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> list[dict[str, Any]]:
    return [directory_object(row) for row in directories.listed(backend.engine, who)]


@router.post(
    "/directories",
    summary="Create a Directory",
    description="Its missing ancestors are created too. 409: a Directory or a File is there.",
    responses=doc(answer.DirectoryResponse, 404, 409),
)
def create_directory(
    body: DirectoryBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    row = directories.create(backend.engine, who, body.name, body.parent(), body.path)
    return directory_object(row)


@router.get(
    "/directories/{id}",
    summary="Get a Directory, with its contents and ancestors",
    responses=doc(answer.DirectoryWithParentsAndChildrenResponse, 404),
)
def get_directory(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> dict[str, Any]:
    listing = directories.get(backend.engine, who, id)
    return {
        **directory_object(listing.directory),
        "subdirectories": [directory_object(row) for row in listing.subdirectories],
        "files": file_responses(backend, who, listing.files),
        "parents": [directory_object(row) for row in listing.parents],
    }


@router.patch(
    "/directories/{id}",
    summary="Move or rename a Directory",
    description="Everything under it (Directories, Files, Datasets) moves with it. 409: its"
    " new path, or one under it, is taken.",
    responses=doc(answer.DirectoryResponse, 404, 409),
)
def update_directory(
    id: str,
    body: DirectoryBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    row = directories.update(backend.engine, who, id, body.name, body.parent(), body.path)
    return directory_object(row)


@router.delete(
    "/directories/{id}",
    status_code=204,
    summary="Delete an empty Directory",
    description="409 while any Directory, File or Dataset is under it.",
    responses=doc(None, 404, 409, status=204),
)
def delete_directory(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    directories.delete(backend.engine, who, id)
    return Response(status_code=204)
