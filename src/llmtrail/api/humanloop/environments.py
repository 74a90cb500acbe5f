"""Humanloop environments of a File or a Dataset: list them with the version deployed to
each, deploy a version to one, take it off. `environment=` on the get and log routes (and
the Dataset reads) reads them. One set of routes, made per File type and for Datasets, over
`core.environments`."""

# No `from __future__ import annotations`: the per-File-type routes below are made by a
# factory, and FastAPI must see their body models as real classes, not strings.

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Query, Response

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import dataset_responses
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.datasets import dataset_response
from llmtrail.api.humanloop.reading import file_responses
from llmtrail.api.humanloop.surface import FILES, doc, router
from llmtrail.api.humanloop.translate import environment_object
from llmtrail.core import datapoints, environments, files
from llmtrail.core.environments import Deployable
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal

# The answers of a File or Dataset at these versions of it, in order.
Render = Callable[[Backend, Principal, str, list[str]], list[dict[str, Any]]]


def _make_environment_routes(
    what: Deployable, name: str, model: Any, listed_model: Any, render: Render
) -> None:
    plural = f"{what.kind}s"

    def list_environments(
        id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
    ) -> list[dict[str, Any]]:
        deployed = environments.of(backend.engine, who, what, id)
        answers = render(backend, who, id, [v for _, v in deployed if v])
        at = iter(answers)
        return [{**environment_object(env), "file": next(at) if v else None} for env, v in deployed]

    def set_deployment(
        id: str,
        environment_id: str,
        version_id: str = Query(..., description="The version to deploy there."),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> dict[str, Any]:
        environments.deploy(backend.engine, who, what, id, environment_id, version_id)
        return render(backend, who, id, [version_id])[0]

    def remove_deployment(
        id: str,
        environment_id: str,
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> Response:
        environments.remove(backend.engine, who, what, id, environment_id)
        return Response(status_code=204)

    router.add_api_route(
        f"/{plural}/{{id}}/environments",
        list_environments,
        methods=["GET"],
        name=f"list_{what.kind}_environments",
        summary=f"The environments of a {name}, with the version deployed to each",
        responses=doc(list[listed_model], 404),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/environments/{{environment_id}}",
        set_deployment,
        methods=["POST"],
        name=f"set_{what.kind}_deployment",
        summary=f"Deploy a version of a {name} to an environment (by id or name)",
        description=f"It replaces the version deployed there; a {name} is used at the version"
        " deployed to the default environment (`production`) unless asked otherwise.",
        responses=doc(model, 404),
    )
    router.add_api_route(
        f"/{plural}/{{id}}/environments/{{environment_id}}",
        remove_deployment,
        methods=["DELETE"],
        name=f"remove_{what.kind}_deployment",
        status_code=204,
        summary=f"Take a {name}'s version off an environment",
        responses=doc(None, 404, status=204),
    )


def _files_at(backend: Backend, who: Principal, id: str, version_ids: list[str]) -> list[Any]:
    return file_responses(
        backend, who, [files.get(backend.engine, who, id, v) for v in version_ids]
    )


def _datasets_at(backend: Backend, who: Principal, id: str, version_ids: list[str]) -> list[Any]:
    return [dataset_response(datapoints.get(backend.engine, who, id, v)) for v in version_ids]


for _file_type in FileType:
    _make_environment_routes(
        files.DEPLOYABLE[_file_type],
        _file_type.value.title(),
        FILES[_file_type],
        answer.FileEnvironmentResponse,
        _files_at,
    )
_make_environment_routes(
    datapoints.DEPLOYABLE,
    "Dataset",
    dataset_responses.DatasetResponse,
    dataset_responses.DatasetEnvironmentResponse,
    _datasets_at,
)
