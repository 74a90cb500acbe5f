"""The Keywords AI prompt routes (`keywordsai` 1.0.4's `PromptAPI`), over Humanloop Prompt
Files (`core.prompt_versions` holds the rules: drafts, read-only versions, deploying).

A prompt is a Prompt File and answers with the File's id; its versions are the File's,
addressed by their number. A version's settings are its kernel, in Humanloop's names:
`messages` is the template, `tools` the functions of OpenAI's tools, `tool_choice` goes
under `other` (sent to the provider), and the Keywords AI settings Humanloop has no field
for (`stream`, `variables`, `fallback_models`, `load_balance_models`,
`is_enforcing_response_format`) under `attributes`, when they are not at their defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords import prompt_responses as answer
from llmtrail.api.keywords.errors import doc, resource_surface
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.routing import JSONBody
from llmtrail.core import prompt_versions
from llmtrail.core.ids import iso
from llmtrail.core.keys import Principal
from llmtrail.core.prompt_versions import Prompt

surface = resource_surface("Keywords AI: prompts")
router = surface.router
ONE = "/api/prompts/{prompt_id}/"
VERSIONS = f"{ONE}versions/"
ONE_VERSION = f"{VERSIONS}{{version}}/"
Number = Path(..., ge=1, description="The version's number in the prompt, from 1.")

# The SDK's defaults: what a version shows for a setting its kernel leaves out.
DEFAULTS: dict[str, Any] = {
    "model": "gpt-3.5-turbo",
    "temperature": 0.7,
    "max_tokens": 4096,
    "top_p": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
}
# Kernel fields of the same name.
SAME = (*DEFAULTS, "reasoning_effort", "response_format")
# Keywords AI settings kept under the kernel's `attributes`, and their defaults (not kept).
ATTRIBUTES: dict[str, Any] = {
    "stream": False,
    "variables": {},
    "fallback_models": None,
    "load_balance_models": None,
    "is_enforcing_response_format": False,
}
# A new prompt's version 1: an empty draft.
EMPTY = {**DEFAULTS, "template": []}


class _Body(BaseModel):
    # The read-only fields the SDK sends back (ids, timestamps, counts) are ignored.
    model_config = ConfigDict(extra="ignore")


class NewPrompt(_Body):
    """`POST /api/prompts/` (optional: the SDK sends no body)."""

    name: str | None = Field(
        default=None, min_length=1, max_length=255, description="Also its Humanloop name."
    )
    description: str | None = None


class PromptChange(NewPrompt):
    """`PATCH /api/prompts/{id}/`."""

    deploy: bool | None = Field(
        default=None, description="Deploy its newest read-only version to `production`."
    )


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "none"]
    content: str | list[Any] | None = None


class PromptTool(BaseModel):
    """An OpenAI tool: Humanloop keeps its function."""

    type: Literal["function"] = "function"
    function: dict[str, Any]


class VersionFields(_Body):
    """`POST /api/prompts/{id}/versions/` and `PATCH .../versions/{version}/`: the settings
    sent are set (on a draft), the others kept (or the defaults, for a new version)."""

    description: str | None = None
    messages: list[PromptMessage] | None = None
    model: str | None = Field(default=None, min_length=1)
    stream: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    reasoning_effort: str | None = None
    variables: dict[str, Any] | None = None
    fallback_models: list[str] | None = None
    load_balance_models: list[dict[str, Any]] | None = None
    tools: list[PromptTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = Field(
        default=None, description='An object, e.g. `{"type": "json_object"}`.'
    )
    is_enforcing_response_format: bool | None = None
    readonly: bool | None = Field(default=None, description="true commits a draft, for good.")
    deploy: bool | None = Field(default=None, description="Deploy it to `production`.")


def to_kernel(fields: VersionFields, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with the settings `fields` sets, in the kernel's names (the rest as it was)."""
    kernel = dict(base)
    sent = fields.model_dump(exclude_unset=True)

    def put(name: str, value: Any) -> None:
        if value is None or value == {}:
            kernel.pop(name, None)
        else:
            kernel[name] = value

    for name in SAME:
        if name in sent:
            put(name, sent[name])
    if "messages" in sent:
        put("template", [m.model_dump(exclude_none=True) for m in fields.messages or ()])
    if "tools" in sent:
        put("tools", [t.function for t in fields.tools or ()] or None)
    if "tool_choice" in sent:
        other = {**(kernel.get("other") or {}), "tool_choice": sent["tool_choice"]}
        put("other", {k: v for k, v in other.items() if v is not None})
    settings = {k: v for k, v in sent.items() if k in ATTRIBUTES}
    if settings:
        merged = {**(kernel.get("attributes") or {}), **settings}
        put("attributes", {k: v for k, v in merged.items() if ATTRIBUTES.get(k, ...) != v})
    return kernel


def _number(value: Any, default: float) -> float:
    """A kernel's number as the SDK's field takes it (a Humanloop kernel is not checked)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return type(default)(value if ok else default)


def version_object(row: Row) -> dict[str, Any]:
    """A PromptVersion."""
    kernel = row.kernel or {}
    template = kernel.get("template")
    attributes, other = kernel.get("attributes") or {}, kernel.get("other") or {}
    if isinstance(template, str):  # a completion Prompt's text
        template = [{"role": "user", "content": template}]
    effort = kernel.get("reasoning_effort")
    tools = kernel.get("tools")
    format = kernel.get("response_format")
    return {
        "id": row.version_id,
        "prompt_version_id": row.version_id,
        "description": row.version_description or "",
        "created_at": iso(row.version_created_at),
        "updated_at": iso(row.version_updated_at or row.version_created_at),
        "version": row.number,
        "messages": template if isinstance(template, list) else [],
        "model": kernel.get("model") or DEFAULTS["model"],
        **{name: _number(kernel.get(name), d) for name, d in DEFAULTS.items() if name != "model"},
        "reasoning_effort": effort if isinstance(effort, str) else None,
        **{name: attributes.get(name, default) for name, default in ATTRIBUTES.items()},
        "readonly": prompt_versions.readonly(row),
        "tools": [{"type": "function", "function": f} for f in tools] if tools else None,
        "tool_choice": other.get("tool_choice"),
        "response_format": format if isinstance(format, dict) else None,
        "prompt": row.file_id,
        "parent_prompt": row.file_id,
    }


def prompt_object(prompt: Prompt) -> dict[str, Any]:
    """A Prompt, with all its versions."""
    current = prompt.current
    versions = [version_object(v) for v in prompt.versions]
    live = next(
        (
            v
            for v, row in zip(versions, prompt.versions, strict=True)
            if row.version_id == prompt.live
        ),
        None,
    )
    return {
        "id": current.file_id,
        "name": current.name,
        "description": current.description or "",
        "prompt_id": current.file_id,
        "prompt_slug": current.path,
        "full_prompt_id": current.file_id,
        "current_version": versions[0],
        "live_version": live,
        "prompt_versions": versions,
        "commit_count": sum(map(prompt_versions.readonly, prompt.versions)),
        "starred": False,
        "tags": [],
        "created_at": iso(current.created_at),
        "updated_at": iso(current.updated_at),
    }


def _prompt(backend: Backend, who: Principal, prompt_id: str) -> JSONBody:
    return JSONBody(prompt_object(prompt_versions.get(backend.engine, who, prompt_id)))


@router.post(
    "/api/prompts/",
    status_code=201,
    summary="Create a prompt (a Humanloop Prompt File), with an empty draft as version 1",
    description="The SDK sends no body: the prompt is `Untitled`. It is filed at its name, or"
    " at `name id` when another File is there.",
    responses=doc(answer.Prompt, 400, status=201),
)
def create_prompt(
    body: NewPrompt | None = Body(None),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    body = body or NewPrompt()
    name, description = body.name or "Untitled", body.description or ""
    made = prompt_versions.create(backend.engine, who, name, description, EMPTY)
    response = _prompt(backend, who, made)
    response.status_code = 201
    return response


@router.get(
    "/api/prompts/list/",
    summary="List prompts (every Humanloop Prompt File), newest first",
    responses=doc(answer.PromptList, 400),
)
def list_prompts(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    name: str | None = Query(None, description="A substring of their names, in any case."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    total, found = prompt_versions.listed(backend.engine, who, page, page_size, name)
    return paged(request, total, page, page_size, [prompt_object(p) for p in found])


@router.get(ONE, summary="A prompt, with its versions", responses=doc(answer.Prompt, 404))
def get_prompt(
    prompt_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> JSONBody:
    return _prompt(backend, who, prompt_id)


@router.patch(
    ONE,
    summary="Rename or describe a prompt; `deploy: true` deploys its newest read-only version",
    description="A new name renames the Humanloop File in its directory (409 when another"
    " File is there). Deploying puts the version in `production`, Humanloop's default"
    " environment; 400 when no version is read-only.",
    responses=doc(answer.Prompt, 400, 404, 409),
)
def change_prompt(
    prompt_id: str,
    body: PromptChange,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    engine = backend.engine
    prompt_versions.change(engine, who, prompt_id, body.name, body.description, bool(body.deploy))
    return _prompt(backend, who, prompt_id)


@router.delete(
    ONE,
    status_code=204,
    summary="Delete a prompt and its versions (its logs stay)",
    responses=doc(None, 404, status=204),
)
def delete_prompt(
    prompt_id: str, who: Principal = Depends(principal), backend: Backend = Depends(get_backend)
) -> Response:
    prompt_versions.delete(backend.engine, who, prompt_id)
    return Response(status_code=204)


@router.post(
    VERSIONS,
    status_code=201,
    summary="Add a version: a draft, unless `readonly` or `deploy`",
    description="Settings left out take the SDK's defaults. A version is its settings: with"
    " those of a version the prompt has, the answer is that version.",
    responses=doc(answer.PromptVersion, 400, 404, status=201),
)
def create_version(
    prompt_id: str,
    body: VersionFields,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    row = prompt_versions.add(
        backend.engine,
        who,
        prompt_id,
        to_kernel(body, EMPTY),
        body.description,
        commit=bool(body.readonly),
        deploy=bool(body.deploy),
    )
    return JSONBody(version_object(row), status_code=201)


@router.get(
    VERSIONS,
    summary="A prompt's versions, newest first",
    responses=doc(answer.PromptVersionList, 400, 404),
)
def list_versions(
    request: Request,
    prompt_id: str,
    page: int = Page,
    page_size: int = PageSize,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    versions = prompt_versions.get(backend.engine, who, prompt_id).versions
    shown = versions[(page - 1) * page_size : page * page_size]
    return paged(request, len(versions), page, page_size, [version_object(v) for v in shown])


@router.get(
    ONE_VERSION, summary="A version, by its number", responses=doc(answer.PromptVersion, 400, 404)
)
def get_version(
    prompt_id: str,
    version: int = Number,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    return JSONBody(
        version_object(prompt_versions.version(backend.engine, who, prompt_id, version))
    )


@router.patch(
    ONE_VERSION,
    summary="Edit a draft's settings, describe a version, commit or deploy it",
    description="A read-only version (committed, deployed or logged) keeps its settings: 400"
    " when a change would alter them; its description may change. `readonly: true` commits a"
    " draft, `deploy: true` deploys the version to `production` (and commits it). 409 when"
    " another version of the prompt has the new settings.",
    responses=doc(answer.PromptVersion, 400, 404, 409),
)
def change_version(
    prompt_id: str,
    body: VersionFields,
    version: int = Number,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    sent = body.model_fields_set
    row = prompt_versions.edit(
        backend.engine,
        who,
        prompt_id,
        version,
        lambda kernel: to_kernel(body, kernel),
        body.description if "description" in sent else prompt_versions.UNSET,
        body.readonly,
        bool(body.deploy),
    )
    return JSONBody(version_object(row))
