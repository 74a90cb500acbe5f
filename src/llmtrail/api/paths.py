"""The other path forms of the Keywords AI routes, rewritten to the documented one.

Keywords AI answers `/api/request-logs/...` with and without the trailing slash, and the
`keywordsai` SDK strips `/api` and sends no slash. Automations and conditions live at
`/automation/...` (Keywords AI) and at `/api/automations/...` (its successor's docs).
Rewriting those forms before routing keeps one route (and one OpenAPI entry) per endpoint:
FastAPI tries routes one by one, so three extra variants of every Keywords AI route cost
each request some 50 µs of matching.
"""

from __future__ import annotations

from typing import Any

# Keywords AI resources the SDK addresses without `/api`.
KEYWORDS_RESOURCES = ("/request-logs", "/evaluators", "/datasets")
# Paths under `/api` of another surface: OTLP exporters post there, as they are.
OTHER_SURFACES = ("/api/v1/traces",)
# Other spellings of a resource's prefix -> the documented one.
ALIASES = {
    "/api/automations": "/automation/automations",
    "/api/conditions": "/automation/conditions",
}


def documented_form(path: str) -> str:
    """`/request-logs/x` and `/api/request-logs/x` become `/api/request-logs/x/`;
    `/api/automations/x` becomes `/automation/automations/x/`; `/auth/jwt/create` gets its
    slash too."""
    if path.startswith(KEYWORDS_RESOURCES):
        path = "/api" + path
    for alias, documented in ALIASES.items():
        if path == alias or path.startswith(alias + "/"):
            path = documented + path[len(alias) :]
    if not path.startswith(("/api/", "/automation/", "/auth/")) or path.startswith(OTHER_SURFACES):
        return path
    return path if path.endswith("/") else path + "/"


class KeywordsPathForms:
    """Pure ASGI: rewrites the path of an HTTP request before the router sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            documented = documented_form(path)
            if documented != path:
                scope = {**scope, "path": documented, "raw_path": documented.encode()}
        await self.app(scope, receive, send)
