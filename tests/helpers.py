"""Helpers of in-process tests that write through the domain core."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Engine

from llmtrail.core import events
from llmtrail.store.writer import GroupCommitWriter

T = TypeVar("T")


def in_writer(engine: Engine, work: Callable[[GroupCommitWriter], Awaitable[T]]) -> T:
    """Run `work(writer)` against a group writer of this process, with the domain's event
    dispatcher, as the writer process runs it."""
    writer = GroupCommitWriter(engine, events.dispatch)
    try:
        return asyncio.run(work(writer))
    finally:
        writer.close()
