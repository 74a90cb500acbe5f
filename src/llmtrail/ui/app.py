"""The UI's pages and static files, mounted on the server's application."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

# The page modules, each with a `router`.
PAGES = (
    "llmtrail.ui.access",
    "llmtrail.ui.logs",
    "llmtrail.ui.detail",
    "llmtrail.ui.traces",
    "llmtrail.ui.dashboard",
    "llmtrail.ui.settings",
    "llmtrail.ui.evaluation",
    "llmtrail.ui.datasets",
)
STATIC = Path(__file__).with_name("static")


def mount(app: FastAPI) -> None:
    for module in PAGES:
        app.include_router(importlib.import_module(module).router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
