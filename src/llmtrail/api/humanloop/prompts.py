"""What only Prompts do: fill their template with inputs (`populate`)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, Query

from llmtrail.api.auth import principal, reads
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.reading import file_response
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.core import files, templates
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal


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
