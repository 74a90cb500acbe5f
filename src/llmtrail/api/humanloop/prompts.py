"""What only Prompts (and Agents, whose kernels are Prompts' with tools) do: fill their
template with inputs (`populate`), and be written as `.prompt` text and read back
(`serialize`, `deserialize`: `core.prompt_files`)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, Query, Response
from fastapi.responses import PlainTextResponse

from llmtrail.api.auth import principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.reading import file_response
from llmtrail.api.humanloop.schemas import _Open
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.core import files, prompt_files, templates
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid


@router.post(
    "/prompts/{id}/populate",
    summary="A Prompt with its template filled with inputs",
    description="The body is the inputs: `{name: value}`, each filling `{{name}}` (the SDK"
    " sends no body for none).",
    responses=doc(answer.PopulateTemplateResponse, 404),
)
@reads
def populate(
    id: str,
    inputs: dict[str, Any] | None = Body(None, description="The value of each `{{variable}}`."),
    version_id: str | None = Query(None, description="This version."),
    environment: str | None = Query(None, description="The version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> dict[str, Any]:
    version = files.get(backend.engine, who, id, version_id, FileType.PROMPT, environment)
    template = (version.kernel or {}).get("template")
    filled = templates.fill(template, inputs or {}) if template is not None else None
    return {**file_response(backend, who, version), "populated_template": filled}


class SerializedBody(_Open):
    """`POST /v5/{prompts|agents}/deserialize`: the text, in the field of its File type."""

    prompt: str | None = None
    agent: str | None = None


def _make_serial_routes(file_type: FileType, kernel_model: type, suffix: str) -> None:
    plural = f"{file_type.value}s"
    name = file_type.value

    def serialize(
        id: str,
        version_id: str | None = Query(None, description="This version."),
        environment: str | None = Query(None, description="The version deployed there."),
        who: Principal = Depends(principal),
        backend: Backend = Depends(get_backend),
    ) -> PlainTextResponse:
        version = files.get(backend.engine, who, id, version_id, file_type, environment)
        return PlainTextResponse(prompt_files.dump(version.kernel or {}))

    def deserialize(body: SerializedBody) -> dict[str, Any]:
        text = getattr(body, name)
        if text is None:
            raise Invalid.at(name, f"the `{suffix}` text is required", "missing")
        return prompt_files.parse(text, (name,))

    reads(deserialize)  # it only reads its body
    router.add_api_route(
        f"/{plural}/{{id}}/serialize",
        serialize,
        methods=["GET"],
        name=f"serialize_{name}",
        summary=f"A {name.title()} version as `{suffix}` text",
        description="YAML front matter with the kernel's fields, then the template's messages"
        " in tags of their roles (`<system>`, `<user>`, ...). The newest version unless"
        " `version_id` or `environment` names another.",
        # No media type of the route's own: the errors are JSON, the 200 is text alone.
        response_class=Response,
        responses={
            **doc(None, 404),
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        },
    )
    router.add_api_route(
        f"/{plural}/deserialize",
        deserialize,
        methods=["POST"],
        name=f"deserialize_{name}",
        summary=f"The kernel of `{suffix}` text",
        description="What `serialize` writes, read back: `deserialize(serialize(v))` is the"
        " kernel of `v`. 422 names what is wrong with the text.",
        responses=doc(kernel_model),
    )


_make_serial_routes(FileType.PROMPT, answer.PromptKernelRequest, ".prompt")
_make_serial_routes(FileType.AGENT, answer.AgentKernelRequest, ".agent")
