"""What plugs into llmtrail, listed in one place: the API surfaces the server mounts, the
modules that subscribe to domain events, and those that define kinds of jobs.

A new surface is a module with a `surface` (`llmtrail.api.surface.Surface`); a subscriber
is a module that calls `events.subscribe` when imported, a job kind one that calls
`jobs.register`. Listing it here is what makes the right processes load it: the server
mounts the surfaces, the writer process (where events are published) imports the
subscribers, and job workers import both (they redeliver events a handler could not take).
"""

from __future__ import annotations

from llmtrail.store.writer import Dispatch

SURFACES: tuple[str, ...] = (
    "llmtrail.api.keywords.exports",  # before the request-log routes: `export` is no log id
    "llmtrail.api.keywords.router",
    "llmtrail.api.keywords.evaluation",
    "llmtrail.api.keywords.datasets",
    "llmtrail.api.keywords.dataset_evals",
    "llmtrail.api.keywords.prompts",
    "llmtrail.api.keywords.experiments",
    "llmtrail.api.humanloop.router",
    "llmtrail.api.otlp.router",
    "llmtrail.api.keywords.sessions",
    "llmtrail.api.keywords.people",
)
# Modules with a `mount(app)` that serve pages (the web UI) rather than an API.
PAGES: tuple[str, ...] = ("llmtrail.ui.app",)
SUBSCRIBERS: tuple[str, ...] = ("llmtrail.core.monitoring", "llmtrail.core.hl_evaluations")
JOB_KINDS: tuple[str, ...] = (
    "llmtrail.core.events",
    "llmtrail.worker.evaluate",
    "llmtrail.core.dataset_jobs",
    "llmtrail.worker.dataset_evaluate",
    "llmtrail.core.retention",
    "llmtrail.core.experiments",
)


def load_subscribers() -> None:
    from llmtrail.core import events

    events.load(SUBSCRIBERS)


def load_workers() -> None:
    """What a job worker runs: every job kind, and the subscribers it may redeliver to."""
    from llmtrail.core import events

    events.load((*SUBSCRIBERS, *JOB_KINDS))


def writer_dispatch() -> Dispatch:
    """The writer process's event dispatcher, with every subscriber loaded."""
    from llmtrail.core import events

    load_subscribers()
    return events.dispatch


WRITER_SETUP = f"{__name__}:writer_dispatch"
