"""A Tool's environment variables (`/v5/tools/{id}/environment-variables`): set, list and
delete them; stored sealed with the server's secret (`core.tool_secrets`)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends
from pydantic import BaseModel, Field

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.core import tool_secrets
from llmtrail.core.keys import Principal

PATH = "/tools/{id}/environment-variables"


class EnvironmentVariable(BaseModel):
    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: str = Field(max_length=65536)


def _answer(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in pairs]


@router.get(
    PATH,
    summary="A Tool's environment variables",
    description="Opened with the server's secret: 409 if they were sealed with another.",
    responses=doc(list[answer.FileEnvironmentVariableRequest], 404, 409),
)
def list_environment_variables(
    id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> list[dict[str, Any]]:
    secret = backend.signer.secret
    return _answer(tool_secrets.listed(backend.engine, who, secret, id))


@router.post(
    PATH,
    summary="Set environment variables of a Tool",
    description="Each is stored sealed (Fernet, under a key derived from the server's secret);"
    " a name already set gets the new value. Answers all of the Tool's.",
    responses=doc(list[answer.FileEnvironmentVariableRequest], 404, 409),
)
def add_environment_variables(
    id: str,
    body: list[EnvironmentVariable] = Body(..., max_length=1000),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> list[dict[str, Any]]:
    values = [(variable.name, variable.value) for variable in body]
    secret = backend.signer.secret
    return _answer(tool_secrets.put(backend.engine, who, secret, id, values))


@router.delete(
    PATH + "/{name}",
    summary="Delete an environment variable of a Tool",
    description="Answers those left.",
    responses=doc(list[answer.FileEnvironmentVariableRequest], 404, 409),
)
def delete_environment_variable(
    id: str, name: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> list[dict[str, Any]]:
    secret = backend.signer.secret
    return _answer(tool_secrets.remove(backend.engine, who, secret, id, name))
