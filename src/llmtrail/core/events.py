"""Domain events, delivered inside the transaction that causes them.

Every change to logs commits in the writer (`store.writer`), and the work that makes it
publishes what happened: logs created, annotated, completed, deleted. Before the commit the
writer hands the batch's events to `dispatch`, which calls each subscribed handler once per
event type and organization. A handler reads what it needs and queues jobs
(`HandlerTx`), so the follow-up work commits with the change or not at all: an acknowledged
change never loses it, a refused one never leaves any behind.

A handler shares the transaction of a whole group commit, so it is bounded: it runs in a
savepoint under a time budget (checked on each of its calls, and by the database on each of
its queries). One that fails or overruns is rolled back to its savepoint and its event is
queued as a job instead (kind `event`), delivered to it again later by a worker; for a
while after that its events go straight to that queue, so a slow handler costs the writer
one budget, not one per commit. Nothing is lost and nobody else waits.

A handler may have a gate: a query that finds, for an organization, whether the handler can
have anything to do (an enabled automation, an open Run). Most organizations have nothing
for most handlers, and a savepoint, a time budget and a query each, per commit, were a
third of a one-log commit's cost; so `dispatch` asks every gate of a commit's organization
in one statement first, and a handler whose gate finds nothing is not called.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Self

from sqlalchemy import ColumnElement, Connection, Integer, Row, Select, bindparam, exists, select

from llmtrail.core import jobs
from llmtrail.core.ids import utcnow
from llmtrail.store import interrupts
from llmtrail.store.driver import fetch
from llmtrail.store.writer import WriteTx

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 0.05  # seconds a handler may take inside a group commit
COOLDOWN = 10.0  # seconds a handler that overran has its events queued instead
REDELIVERY_BUDGET = 30.0  # seconds a handler may take on a redelivery, outside any commit
EVENT_JOB = "event"


@dataclass(frozen=True)
class LogEvent:
    """Something happened to some of an organization's logs (by primary key and unique id)."""

    org_id: int
    log_ids: tuple[int, ...]
    unique_ids: tuple[str, ...]

    types: ClassVar[dict[str, type[LogEvent]]] = {}

    def __init_subclass__(cls) -> None:
        LogEvent.types[cls.__name__] = cls

    def group(self) -> tuple[Any, ...]:
        """Events of one group are delivered together, as one."""
        return type(self), self.org_id

    def merged(self, other: Self) -> Self:
        pairs = dict(zip(self.log_ids, self.unique_ids, strict=True))
        pairs.update(zip(other.log_ids, other.unique_ids, strict=True))
        return dataclasses.replace(self, log_ids=tuple(pairs), unique_ids=tuple(pairs.values()))


@dataclass(frozen=True)
class LogsCreated(LogEvent):
    """New logs were stored, whatever their status."""


@dataclass(frozen=True)
class LogsCompleted(LogEvent):
    """Logs became complete: stored complete (or with no status), or marked complete later.

    This is the moment monitoring evaluators run on a log.
    """


@dataclass(frozen=True)
class LogsAnnotated(LogEvent):
    """Logs changed after they were stored: these fields (as the history names them)."""

    fields: tuple[str, ...] = ()

    def group(self) -> tuple[Any, ...]:
        return type(self), self.org_id, self.fields


@dataclass(frozen=True)
class LogsDeleted(LogEvent):
    """Logs were deleted."""


class HandlerTx:
    """What a handler may do in the transaction it shares: read, and queue jobs. Each call
    first checks the handler's deadline, and the database stops a query that runs past it."""

    def __init__(self, conn: Connection, deadline: float) -> None:
        self._conn = conn
        self._deadline = deadline
        self.now = utcnow()

    def _in_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise OverBudget("the handler ran out of its time budget")

    def read(self, query: Select) -> list[Row]:
        if not isinstance(query, Select):
            raise TypeError("a handler only reads: pass a SELECT")
        self._in_time()
        with interrupts.after(self._conn, self._deadline - time.monotonic()):
            return self._conn.execute(query).all()

    def enqueue(self, new: list[jobs.NewJob]) -> None:
        self._in_time()
        jobs.enqueue(self._conn, new, self.now)


class OverBudget(Exception):
    """A handler took longer than its budget."""


Handler = Callable[[HandlerTx, Any], None]
# Given the organization (a bind parameter), a query whose rows say the handler may have work.
# It runs in the shared transaction with no savepoint: keep it an indexed lookup.
Gate = Callable[[ColumnElement[int]], Select]


@dataclass(frozen=True)
class Subscription:
    event: type[LogEvent]
    handler: Handler
    budget: float
    name: str  # how a queued delivery finds the handler again: module:qualname
    gate: Select | None = None  # the handler's `Gate`, built once with `:org_id`


# By (event type name, handler name): one handler may take several types of event.
_subscriptions: dict[tuple[str, str], Subscription] = {}
_cooling: dict[str, float] = {}  # handler name -> until when its events are queued


def subscribe(
    event: type[LogEvent],
    handler: Handler,
    *,
    budget: float = DEFAULT_BUDGET,
    gate: Gate | None = None,
) -> Callable[[], None]:
    """Call `handler(tx, event)` for every `event` from now on (of an organization `gate`,
    if given, finds rows for); returns an unsubscribe."""
    name = f"{handler.__module__}:{handler.__qualname__}"
    key = (event.__name__, name)
    query = gate(bindparam("org_id", type_=Integer)) if gate is not None else None
    _subscriptions[key] = Subscription(event, handler, budget, name, query)

    def unsubscribe() -> None:
        _subscriptions.pop(key, None)

    return unsubscribe


def load(modules: Iterable[str]) -> None:
    """Import the modules that subscribe (and register job kinds) when imported."""
    for module in modules:
        importlib.import_module(module)


def merge(published: Iterable[object]) -> list[LogEvent]:
    """One event per group, in order of first appearance."""
    groups: dict[tuple[Any, ...], LogEvent] = {}
    for event in published:
        if isinstance(event, LogEvent) and event.log_ids:
            key = event.group()
            groups[key] = groups[key].merged(event) if key in groups else event
    return list(groups.values())


def dispatch(tx: WriteTx, published: Sequence[object]) -> None:
    """Deliver a group commit's events to their handlers (the writer's dispatcher)."""
    merged = merge(published)
    subscriptions = list(_subscriptions.values())
    closed = _closed(tx.conn, subscriptions, merged)
    for subscription in subscriptions:
        for event in merged:
            if type(event) is subscription.event and (subscription, event.org_id) not in closed:
                _deliver(tx.conn, subscription, event)


def _closed(
    conn: Connection, subscriptions: list[Subscription], merged: list[LogEvent]
) -> set[tuple[Subscription, int]]:
    """(subscription, organization) pairs whose gate finds nothing: one query an
    organization for all the gates its events would pass through."""
    closed = set()
    for org_id in dict.fromkeys(event.org_id for event in merged):
        types = {type(event) for event in merged if event.org_id == org_id}
        gated = tuple(s for s in subscriptions if s.gate is not None and s.event in types)
        if gated:
            [found] = fetch(conn, _gates(gated), {"org_id": org_id})
            closed.update(
                (s, org_id) for s, is_open in zip(gated, found, strict=True) if not is_open
            )
    return closed


@cache
def _gates(gated: tuple[Subscription, ...]) -> Select:
    """Whether each gate finds a row, in one statement (built once per set of gates)."""
    return select(*(exists(s.gate).label(f"gate_{i}") for i, s in enumerate(gated)))


def _deliver(conn: Connection, subscription: Subscription, event: LogEvent) -> None:
    started = time.monotonic()
    if _cooling.get(subscription.name, 0.0) > started:
        _queue(conn, subscription, event)
        return
    try:
        with conn.begin_nested():
            subscription.handler(HandlerTx(conn, started + subscription.budget), event)
    except Exception as exc:
        log.warning("%s failed on %s; queued to retry: %s", subscription.name, event, exc)
        _cool(subscription)
        _queue(conn, subscription, event)
        return
    if time.monotonic() - started > subscription.budget:
        log.warning("%s overran its %.3f s budget", subscription.name, subscription.budget)
        _cool(subscription)


def _cool(subscription: Subscription) -> None:
    _cooling[subscription.name] = time.monotonic() + COOLDOWN


def _queue(conn: Connection, subscription: Subscription, event: LogEvent) -> None:
    payload = {
        "subscriber": subscription.name,
        "event": type(event).__name__,
        "data": dataclasses.asdict(event),
    }
    jobs.enqueue(
        conn,
        [jobs.NewJob(event.org_id, EVENT_JOB, payload, origin=f"event:{subscription.name}")],
        utcnow(),
    )


def _redeliver(conn: Connection, job: Row, _outcome: Any) -> None:
    """A queued delivery, in the transaction that finishes its job."""
    payload = job.payload
    subscription = _subscriptions.get((payload["event"], payload["subscriber"]))
    if subscription is None:
        raise LookupError(f"no handler {payload['subscriber']} is loaded")
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in payload["data"].items()}
    event = LogEvent.types[payload["event"]](**data)
    subscription.handler(HandlerTx(conn, time.monotonic() + REDELIVERY_BUDGET), event)


jobs.register(EVENT_JOB, commit=_redeliver)
