"""The SDK imports on its own: none of the server, nor what it only needs later (openai,
protobuf), so an application pays for the client alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys, time
began = time.perf_counter()
from llmtrail.sdk import AsyncClient, Client, trace, wrap_openai
took = time.perf_counter() - began
print(json.dumps({"seconds": took, "modules": sorted(sys.modules)}))
"""
NOT_LOADED = ("fastapi", "starlette", "sqlalchemy", "uvicorn", "alembic", "openai", "google")


@pytest.mark.integration
def test_the_sdk_imports_without_the_server_openai_or_protobuf() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(done.stdout)
    roots = {name.split(".")[0] for name in found["modules"]}
    assert roots.isdisjoint(NOT_LOADED), roots & set(NOT_LOADED)
    assert "opentelemetry" not in roots  # protobuf comes with the first export
    ours = {name for name in found["modules"] if name.startswith("llmtrail")}
    assert all(
        name in ("llmtrail", "llmtrail.sdk") or name.startswith("llmtrail.sdk.") for name in ours
    ), ours
    assert found["seconds"] < 2  # ~0.4 s on a quiet machine, httpx and pydantic included
