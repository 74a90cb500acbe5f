"""The Humanloop v5 surface, as `plugins.SURFACES` names it: its routes, one module per
concern, all declared on `surface.router` (`humanloop.surface`)."""

from __future__ import annotations

from llmtrail.api.humanloop import (  # noqa: F401  (they declare the routes)
    calls,
    datasets,
    directories,
    environments,
    evaluations,
    files,
    logs,
    prompts,
    tool_calls,
    tool_secrets,
    versions,
)
from llmtrail.api.humanloop.surface import surface

__all__ = ["surface"]
