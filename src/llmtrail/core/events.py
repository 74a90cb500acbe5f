"""Domain events, delivered inside the transaction that causes them.

A handler gets the open connection, so whatever it writes (say, an evaluation job) commits
or rolls back together with the change itself: an acknowledged change never loses its
follow-up work, and a refused one never leaves any behind.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class LogsCompleted:
    """Logs became complete: created complete (or with no status), or marked complete later.

    This is the moment monitoring evaluators run on a log.
    """

    org_id: int
    unique_ids: tuple[str, ...]


Handler = Callable[[Connection, LogsCompleted], None]
_handlers: list[Handler] = []

# Modules that subscribe their handlers when imported. Every process that commits changes
# (the server, its writer process) imports them, so an event is handled wherever it is
# published; a subscriber module goes here, not just into some import chain.
SUBSCRIBERS: tuple[str, ...] = ()


def load_subscribers() -> None:
    for module in SUBSCRIBERS:
        importlib.import_module(module)


def subscribe(handler: Handler) -> Callable[[], None]:
    """Call `handler` for every event from now on; returns a function that unsubscribes."""
    _handlers.append(handler)
    return lambda: _handlers.remove(handler)


def publish(conn: Connection, event: LogsCompleted) -> None:
    if event.unique_ids:
        for handler in list(_handlers):
            handler(conn, event)
