"""What plugs into llmtrail, listed in one place: the API surfaces the server mounts, and the
modules that subscribe to domain events or run kinds of jobs.

A new surface is a module with a `surface` (`llmtrail.api.surface.Surface`); a new
subscriber is a module that calls `events.subscribe` (or `jobs.register`) when imported.
Listing it here is what makes every process load it: the server mounts the surfaces, and
the writer process (where events are published) and every job worker import the handlers.
"""

from __future__ import annotations

from llmtrail.store.writer import Dispatch

SURFACES: tuple[str, ...] = (
    "llmtrail.api.keywords.router",
    "llmtrail.api.humanloop.router",
)
HANDLERS: tuple[str, ...] = ("llmtrail.core.events",)


def load_handlers() -> None:
    from llmtrail.core import events

    events.load(HANDLERS)


def writer_dispatch() -> Dispatch:
    """The writer process's event dispatcher, with every subscriber loaded."""
    from llmtrail.core import events

    load_handlers()
    return events.dispatch


WRITER_SETUP = f"{__name__}:writer_dispatch"
