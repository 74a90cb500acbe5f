"""`POST /v5/tools/call`: run a Tool's Python (`source_code`, its function named by the
kernel's `function.name`, called with the inputs as keyword arguments) in the sandbox code
evaluators run in (`worker.sandbox`), with the Tool's environment variables as its whole
environment, and log the run as a Tool Log: its output (JSON text unless a string), its
printed output as `stdout`, its error, its duration. What the code does wrong is the
run's result (200, with `error`), as it is for a code evaluator."""

# No `from __future__ import annotations`: FastAPI must see the body model as a class.

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, Query
from fastapi.concurrency import run_in_threadpool

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.humanloop import reading, schemas
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.logs import log_to_file, resolve_version
from llmtrail.api.humanloop.surface import doc, router
from llmtrail.api.routing import JSONBody
from llmtrail.core import tool_secrets
from llmtrail.core.files import FileType
from llmtrail.core.keys import Principal
from llmtrail.errors import Invalid


@router.post(
    "/tools/call",
    summary="Run a Tool's code and log the run",
    description="The Tool's `source_code` runs in the code sandbox (no network, no data,"
    " LLMTRAIL_CODE_TIMEOUT_SECONDS and LLMTRAIL_CODE_MEMORY_MB), its function"
    " `function.name` called with `inputs` as keyword arguments and the Tool's environment"
    " variables as its environment. The answer is the Tool Log; a run that fails has its"
    " `error`.",
    responses=doc(answer.ToolCallResponse, 404),
)
async def call_tool(
    body: schemas.ToolLogBody,
    version_id: str | None = Query(None, description="Run this version."),
    environment: str | None = Query(None, description="Run the version deployed there."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    version = await resolve_version(backend, who, FileType.TOOL, body, version_id, environment)
    kernel = version.kernel or {}
    source = kernel.get("source_code")
    if not isinstance(source, str) or not source.strip():
        raise Invalid.at(("tool", "source_code"), "the Tool has no `source_code` to run")
    name = (kernel.get("function") or {}).get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise Invalid.at(("tool", "function", "name"), "the Tool's function needs a Python name")
    secret = backend.signer.secret
    environ = dict(
        await run_in_threadpool(tool_secrets.listed, backend.engine, who, secret, version.file_id)
    )
    started = datetime.now(UTC)
    result = await run_in_threadpool(_run, backend, source, body.inputs or {}, name, environ)
    data = body.model_dump(exclude_unset=True)
    value = result.value
    data.update(
        output=value if isinstance(value, str) or value is None else json.dumps(value),
        error=result.error,
        stdout=result.output or None,
        provider_latency=result.seconds,
        start_time=data.get("start_time") or started,
        end_time=data.get("end_time") or datetime.now(UTC),
    )
    if result.error is None:
        data.pop("error", None)
    log = schemas.ToolLogBody.model_validate(data)
    row = await log_to_file(
        backend, who, FileType.TOOL, log, version_id, environment=environment, version=version
    )
    return JSONBody(await run_in_threadpool(reading.log_with_trace, backend, who, row["unique_id"]))


def _run(
    backend: Backend, source: str, inputs: dict[str, Any], entry: str, environ: dict[str, str]
) -> Any:
    from llmtrail.worker import sandbox  # a process per run: loaded where code is run

    settings = backend.settings
    return sandbox.run_code(
        source,
        inputs,
        timeout=settings.code_timeout_seconds,
        memory_mb=settings.code_memory_mb,
        hidden=[settings.data_dir],
        entry=entry,
        environ=environ,
    )
