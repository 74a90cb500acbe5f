"""Humanloop File versions: list them, name and describe one, delete one.

A version is made by an upsert or a log with a new kernel (`core.files`); getting one is
`GET /{type}s/{id}?version_id=` (`humanloop.files`).
"""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from typing import Any

from fastapi import Body, Depends, Response

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop import schemas
from llmtrail.api.humanloop.reading import file_response, file_responses
from llmtrail.api.humanloop.surface import FILES, doc, router
from llmtrail.api.humanloop.translate import version_changes
from llmtrail.core import file_edits
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal

LISTS = {
    FileType.PROMPT: answer.ListPrompts,
    FileType.AGENT: answer.ListAgents,
    FileType.TOOL: answer.ListTools,
    FileType.FLOW: answer.ListFlows,
    FileType.EVALUATOR: answer.ListEvaluators,
}


def _make_version_routes(file_type: FileType) -> None:
    name, plural = file_type.value.title(), f"{file_type.value}s"

    def list_versions(
        id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
    ) -> dict[str, Any]:
        versions = file_edits.versions(backend.engine, who, id, file_type)
        return {"records": file_responses(backend, who, versions)}

    def describe_version(
        id: str,
        version_id: str,
        body: schemas.VersionChange | None = Body(None),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        changes = version_changes(body)
        row = file_edits.describe_version(backend.engine, who, id, version_id, file_type, changes)
        return file_response(backend, who, row)

    def delete_version(
        id: str,
        version_id: str,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        file_edits.delete_version(backend.engine, who, id, version_id, file_type)
        return Response(status_code=204)

    router.add_api_route(
        f"/{plural}/{{id}}/versions",
        list_versions,
        methods=["GET"],
        name=f"list_{file_type.value}_versions",
        summary=f"List the versions of a {name}, newest first",
        responses=doc(LISTS[file_type], 404),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/versions/{{version_id}}",
        describe_version,
        methods=["PATCH"],
        name=f"patch_{file_type.value}_version",
        summary=f"Name or describe a version of a {name}",
        description="`name` is unique among the File's versions; null unsets either field.",
        responses=doc(FILES[file_type], 404, 409),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/versions/{{version_id}}",
        delete_version,
        methods=["DELETE"],
        name=f"delete_{file_type.value}_version",
        status_code=204,
        summary=f"Delete a version of a {name}",
        description="Its Logs stay; a File's only version cannot go (409): delete the File.",
        responses=doc(None, 404, 409, status=204),
    )


for _file_type in FileType:
    _make_version_routes(_file_type)
