"""Humanloop environments of a File: list them with the version deployed to each, deploy a
version to one, take it off. `environment=` on the get and log routes reads them."""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from typing import Any

from fastapi import Depends, Query, Response

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.reading import file_response, files_of
from llmtrail.api.humanloop.surface import FILES, doc, router
from llmtrail.api.humanloop.translate import environment_object
from llmtrail.core import environments, files
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal


def _make_environment_routes(file_type: FileType) -> None:
    name, plural = file_type.value.title(), f"{file_type.value}s"

    def list_environments(
        id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
    ) -> list[dict[str, Any]]:
        deployed = environments.of_file(backend.engine, who, id, file_type)
        versions = [files.get(backend.engine, who, id, v) for _, v in deployed if v]
        objects = files_of(backend, who, versions)
        return [{**environment_object(env), "file": objects.of(v)} for env, v in deployed]

    def set_deployment(
        id: str,
        environment_id: str,
        version_id: str = Query(..., description="The version to deploy there."),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        engine = backend.engine
        version = environments.deploy(engine, who, id, file_type, environment_id, version_id)
        return file_response(backend, who, version)

    def remove_deployment(
        id: str,
        environment_id: str,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        environments.remove(backend.engine, who, id, file_type, environment_id)
        return Response(status_code=204)

    router.add_api_route(
        f"/{plural}/{{id}}/environments",
        list_environments,
        methods=["GET"],
        name=f"list_{file_type.value}_environments",
        summary=f"The environments of a {name}, with the version deployed to each",
        responses=doc(list[answer.FileEnvironmentResponse], 404),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/environments/{{environment_id}}",
        set_deployment,
        methods=["POST"],
        name=f"set_{file_type.value}_deployment",
        summary=f"Deploy a version of a {name} to an environment (by id or name)",
        description="It replaces the version deployed there; a File is used at the version"
        " deployed to the default environment (`production`) unless asked otherwise.",
        responses=doc(FILES[file_type], 404),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/environments/{{environment_id}}",
        remove_deployment,
        methods=["DELETE"],
        name=f"remove_{file_type.value}_deployment",
        status_code=204,
        summary=f"Take a {name}'s version off an environment",
        responses=doc(None, 404, status=204),
    )


for _file_type in FileType:
    _make_environment_routes(_file_type)
