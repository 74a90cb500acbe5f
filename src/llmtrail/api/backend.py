"""What every route needs from the process: the engine, the group writer, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from llmtrail.config import Settings
from llmtrail.core.keys import KeyCache
from llmtrail.store.writer import GroupCommitWriter


@dataclass(frozen=True)
class Backend:
    settings: Settings
    engine: Engine
    writer: GroupCommitWriter
    keys: KeyCache


def get_backend(request: Request) -> Backend:
    return request.app.state.backend
