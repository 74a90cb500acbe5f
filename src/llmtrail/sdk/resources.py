"""The API's namespaces (`client.logs`, `client.evaluators`, ...), written once for both
clients.

A namespace method only builds a `Call`: the route, the query, the body and how to read
the answer. The `endpoint` and `pages` descriptors hand that call to the client the
namespace belongs to, which sends it: `Client` answers the result, `AsyncClient` an
awaitable of it, and the descriptors' overloads tell type checkers which. A new namespace
(datasets, ...) is a small class of such methods, listed on both clients.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import (
    Any,
    ClassVar,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    overload,
)
from urllib.parse import quote

from llmtrail.sdk.models import (
    Automation,
    BatchUpdateResult,
    BulkResult,
    Condition,
    CreatedLog,
    Evaluator,
    History,
    Job,
    JobsSummary,
    Log,
    Model,
    RunResult,
    Score,
    Summary,
)
from llmtrail.sdk.pagination import Page

T = TypeVar("T")
Obj = TypeVar("Obj", bound=Model)
P = ParamSpec("P")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how its answer becomes a result (`parse` gets the JSON, None for an
    empty answer)."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    body: Any = None


class Blocking:
    """Marks the namespaces of `Client`: their methods answer results."""


class Awaiting:
    """Marks the namespaces of `AsyncClient`: their methods answer awaitables."""


M = TypeVar("M", Blocking, Awaiting)


class Sender(Protocol):
    """What a namespace needs of its client."""

    def _send(self, call: Call[Any], url: str | None = None) -> Any: ...
    def _items(self, call: Call[Page[Any]]) -> Any: ...


class Namespace(Generic[M]):
    def __init__(self, client: Sender) -> None:
        self._client = client


class endpoint(Generic[P, T]):  # lower case: a decorator, like `property`
    """A namespace method that answers its call's result."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, ns: None, owner: type) -> endpoint[P, T]: ...
    @overload
    def __get__(self, ns: Namespace[Blocking], owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, ns: Namespace[Awaiting], owner: type) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, ns: Namespace[Any] | None, owner: type) -> Any:
        if ns is None:
            return self

        @functools.wraps(self.build)
        def method(*args: Any, **kwargs: Any) -> Any:
            return ns._client._send(self.build(ns, *args, **kwargs))

        return method


class pages(Generic[P, Obj]):
    """A namespace method that iterates over every item of a list, page after page, fetching
    each page when it is reached (`for` on `Client`, `async for` on `AsyncClient`)."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[Page[Obj]]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, ns: None, owner: type) -> pages[P, Obj]: ...
    @overload
    def __get__(self, ns: Namespace[Blocking], owner: type) -> Callable[P, Iterator[Obj]]: ...
    @overload
    def __get__(self, ns: Namespace[Awaiting], owner: type) -> Callable[P, AsyncIterator[Obj]]: ...
    def __get__(self, ns: Namespace[Any] | None, owner: type) -> Any:
        if ns is None:
            return self

        @functools.wraps(self.build)
        def method(*args: Any, **kwargs: Any) -> Any:
            return ns._client._items(self.build(ns, *args, **kwargs))

        return method


def query(**values: Any) -> dict[str, Any]:
    """Query parameters: those given, times in ISO 8601."""
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in values.items()
        if v is not None
    }


def nothing(_: Any) -> None:
    """The result of a 204."""


def path_of(base: str, key: str, tail: str = "") -> str:
    return f"{base}{quote(str(key), safe='')}/{tail}"


class Collection(Namespace[M], Generic[M, Obj]):
    """Objects created, read, changed (partially: a PATCH) and deleted at `path`."""

    path: ClassVar[str]
    model: ClassVar[type[Model]]

    def _parse(self, answer: Any) -> Obj:
        return cast(Obj, self.model.model_validate(answer))

    @endpoint
    def create(self, **fields: Any) -> Call[Obj]:
        """Create one, from the fields of the route's body."""
        return Call("POST", self.path, self._parse, body=fields)

    @endpoint
    def get(self, key: str) -> Call[Obj]:
        """One, by id (or slug, where the route takes one)."""
        return Call("GET", path_of(self.path, key), self._parse)

    @endpoint
    def update(self, key: str, **changes: Any) -> Call[Obj]:
        """Change the given fields; configuration objects are merged by the server."""
        return Call("PATCH", path_of(self.path, key), self._parse, body=changes)

    @endpoint
    def delete(self, key: str) -> Call[None]:
        return Call("DELETE", path_of(self.path, key), nothing)


# --- logs ---------------------------------------------------------------------------------

LOGS = "/api/request-logs/"


class Logs(Namespace[M]):
    """`/api/request-logs/`: store, read, annotate and delete logs (docs/keywords-ai.md)."""

    @endpoint
    def create(self, **fields: Any) -> Call[CreatedLog]:
        """Store one log: any field of the Keywords AI log body (`model`, `prompt_messages`,
        `completion_message`, `usage`, `latency`, `metadata`, `trace_unique_id`, ...)."""
        return Call("POST", LOGS, CreatedLog.model_validate, body=fields)

    @endpoint
    def bulk_create(self, logs: Sequence[Mapping[str, Any]]) -> Call[BulkResult]:
        """Store up to 500 logs at once; each row is validated on its own."""
        return Call("POST", LOGS + "bulk/", BulkResult.model_validate, body={"logs": logs})

    @endpoint
    def get(self, unique_id: str) -> Call[Log]:
        return Call("GET", path_of(LOGS, unique_id), Log.model_validate)

    @endpoint
    def update(self, unique_id: str, **changes: Any) -> Call[Log]:
        """Change `metadata` (merged), `note`, `positive_feedback`, `custom_identifier` or
        `blurred`."""
        return Call("PATCH", path_of(LOGS, unique_id), Log.model_validate, body=changes)

    @endpoint
    def batch_update(self, logs: Sequence[Mapping[str, Any]]) -> Call[BatchUpdateResult]:
        """Change annotations of many logs, each item naming its `unique_id`: all or none."""
        body = {"logs": logs}
        return Call("PATCH", LOGS + "batch-update/", BatchUpdateResult.model_validate, body=body)

    @endpoint
    def delete(self, unique_id: str) -> Call[None]:
        return Call("DELETE", path_of(LOGS, unique_id), nothing)

    @endpoint
    def history(self, unique_id: str) -> Call[History]:
        """Every change to the log's editable fields, oldest first."""
        return Call("GET", path_of(LOGS, unique_id, "history/"), History.model_validate)

    @endpoint
    def summary(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        environment: str | None = None,
    ) -> Call[Summary]:
        """Counts, cost, tokens and averages over the logs `list` would select."""
        params = query(start_time=start_time, end_time=end_time, environment=environment)
        body = {"filters": filters or {}}
        return Call("POST", LOGS + "summary/", Summary.model_validate, params, body)

    def _list(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page: int | None = None,
        page_size: int | None = None,
        sort_by: str | None = None,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        environment: str | None = None,
    ) -> Call[Page[Log]]:
        """Logs matching `filters` (the list's filter language), newest first unless
        `sort_by` says otherwise, between `start_time` and `end_time`: the server's default
        window is the last hour."""
        params = query(
            page=page,
            page_size=page_size,
            sort_by=sort_by,
            start_time=start_time,
            end_time=end_time,
            environment=environment,
        )
        body = {"filters": filters or {}}
        return Call("POST", LOGS + "list/", Page[Log].model_validate, params, body)

    list = endpoint(_list)
    iter = pages(_list)


# --- evaluation ---------------------------------------------------------------------------


class Evaluators(Collection[M, Evaluator]):
    """`/api/evaluators/`: judges (llm, code, rule, human) and running one on inputs."""

    path = "/api/evaluators/"
    model = Evaluator

    @endpoint
    def run(self, evaluator_id: str, inputs: Mapping[str, Any]) -> Call[RunResult]:
        """Judge `inputs` (`input`, `output`, `metadata`, ...) now; the score is not stored."""
        path = path_of(self.path, evaluator_id, "run/")
        return Call("POST", path, RunResult.model_validate, body={"inputs": inputs})

    def _list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
        type: str | None = None,
        score_value_type: str | None = None,
    ) -> Call[Page[Evaluator]]:
        params = query(
            page=page,
            page_size=page_size,
            search=search,
            type=type,
            score_value_type=score_value_type,
        )
        return Call("GET", self.path, Page[Evaluator].model_validate, params)

    list = endpoint(_list)
    iter = pages(_list)


class Scores(Collection[M, Score]):
    """`/api/scores/`: one score per (evaluator, log). `create(log_id=..., evaluator_id=...,
    numerical_value=...)`; a second one for the pair raises `Conflict`."""

    path = "/api/scores/"
    model = Score

    def _list(
        self,
        *,
        log_id: str | None = None,
        evaluator_id: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Call[Page[Score]]:
        """Newest first: of one log when `log_id` is given, else of every log."""
        path = path_of("/api/logs/", log_id, "scores/") if log_id else self.path
        params = query(evaluator_id=evaluator_id, page=page, page_size=page_size)
        return Call("GET", path, Page[Score].model_validate, params)

    list = endpoint(_list)
    iter = pages(_list)


class Conditions(Collection[M, Condition]):
    """`/automation/conditions/`: which logs an automation evaluates."""

    path = "/automation/conditions/"
    model = Condition

    def _list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
        condition_type: str | None = None,
    ) -> Call[Page[Condition]]:
        params = query(page=page, page_size=page_size, search=search, condition_type=condition_type)
        return Call("GET", self.path, Page[Condition].model_validate, params)

    list = endpoint(_list)
    iter = pages(_list)


class Automations(Collection[M, Automation]):
    """`/automation/automations/`: a condition, evaluators and a sampling rate; `get`,
    `update` and `delete` take an id or a slug."""

    path = "/automation/automations/"
    model = Automation

    def _list(
        self, *, page: int | None = None, page_size: int | None = None
    ) -> Call[Page[Automation]]:
        params = query(page=page, page_size=page_size)
        return Call("GET", self.path, Page[Automation].model_validate, params)

    list = endpoint(_list)
    iter = pages(_list)


class Jobs(Namespace[M]):
    """`/api/jobs/`: the background work evaluations cause."""

    @endpoint
    def summary(self) -> Call[JobsSummary]:
        return Call("GET", "/api/jobs/summary/", JobsSummary.model_validate)

    def _list(
        self, *, state: str | None = None, page: int | None = None, page_size: int | None = None
    ) -> Call[Page[Job]]:
        """Jobs of a state (`pending`, `running`, `done`, `dead`, `cancelled`), oldest due
        first."""
        params = query(state=state, page=page, page_size=page_size)
        return Call("GET", "/api/jobs/", Page[Job].model_validate, params)

    list = endpoint(_list)
    iter = pages(_list)
