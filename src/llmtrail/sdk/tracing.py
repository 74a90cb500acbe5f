"""Tracing: `@trace` and `with trace(...)` make nested spans, exported in the background.

The current span lives in a context variable: nested calls, asyncio tasks (which copy the
context they are created in) and generators see their parent without being told. A thread
does not inherit it; run work submitted to an executor under `contextvars.copy_context()`
to keep it in the trace.

Nothing here waits for the network or raises because of it: a finished span is queued for
the exporter's thread (`exporter.BackgroundSender`), and whatever cannot be delivered is
counted (`dropped()`).
"""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from llmtrail.sdk.client import settings
from llmtrail.sdk.encoding import describe
from llmtrail.sdk.exporter import BackgroundSender, LogDelivery, OtlpExporter
from llmtrail.sdk.retry import Backoff

log = logging.getLogger("llmtrail.sdk")
F = TypeVar("F", bound=Callable[..., Any])
Kind = Literal["workflow", "task", "tool", "agent", "llm"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
MAX_VALUE_CHARS = 64 * 1024  # an input or output's JSON text is cut there
MAX_ITEMS = 1000  # a generator's output: the items it yielded, the first ones


@dataclass(frozen=True)
class Failure:
    """An exception a span ended with, as text: the span keeps no frames alive."""

    type: str
    message: str
    stacktrace: str

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        kind = type(exc).__qualname__
        return cls(kind, f"{kind}: {exc}", "".join(traceback.format_exception(exc)))


@dataclass(eq=False)
class Span:
    """One traced call: its place in the trace, its times (ns since the epoch), its inputs
    and output as JSON text, and how it failed."""

    name: str
    kind: str
    trace_id: bytes
    span_id: bytes
    parent_id: bytes | None
    workflow: str | None  # the name of the nearest enclosing workflow (or its own)
    start_ns: int = field(default_factory=time.time_ns)
    end_ns: int | None = None
    inputs: str | None = None
    output: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    error: Failure | None = None

    @property
    def trace_unique_id(self) -> str:
        """The `trace_unique_id` of every log of this trace."""
        return self.trace_id.hex()

    @property
    def span_unique_id(self) -> str:
        """This span's log's `span_unique_id` (its children's `span_parent_id`)."""
        return self.span_id.hex()

    def set_inputs(self, value: Any) -> None:
        self.inputs = describe(value, MAX_VALUE_CHARS)

    def set_output(self, value: Any) -> None:
        self.output = describe(value, MAX_VALUE_CHARS)

    def set_metadata(self, **values: Any) -> None:
        """Keys of the log's `metadata`."""
        self.metadata.update(values)

    def set_attribute(self, key: str, value: Any) -> None:
        """An OTLP attribute as it is (`gen_ai.request.model`, `gen_ai.usage.input_tokens`,
        ...): the server maps it as it maps any instrumentation's, and it wins over what the
        SDK derives."""
        self.attributes[key] = value

    def record_exception(self, exc: BaseException) -> None:
        self.error = Failure.of(exc)


_current: ContextVar[Span | None] = ContextVar("llmtrail_span", default=None)


def current_span() -> Span | None:
    """The span of the code running now, if any."""
    return _current.get()


def _begin(
    name: str, kind: str, inputs: Any = None, metadata: dict[str, Any] | None = None
) -> Span:
    parent = _current.get()
    span = Span(
        name=name,
        kind=kind,
        trace_id=parent.trace_id if parent else random.getrandbits(128).to_bytes(16, "big"),
        span_id=(random.getrandbits(64) or 1).to_bytes(8, "big"),
        parent_id=parent.span_id if parent else None,
        workflow=name if kind == "workflow" else parent.workflow if parent else None,
        metadata=dict(metadata or {}),
    )
    if inputs is not None:
        span.set_inputs(inputs)
    return span


def _end(span: Span, exc: BaseException | None) -> None:
    """Close the span and queue it; never raises (the application's own exception, if any,
    goes on as it was)."""
    try:
        if exc is not None and not isinstance(exc, GeneratorExit):  # a consumer stopping early
            span.record_exception(exc)
        span.end_ns = time.time_ns()
        tracer = get_tracer()
        if tracer is not None:
            tracer.spans.submit(span)
    except Exception:
        log.exception("llmtrail: could not end span %s", span.name)


def _reset(token: Token[Span | None]) -> None:
    with suppress(ValueError):  # ended in another context than it began in: not ours to reset
        _current.reset(token)


@contextmanager
def _active(span: Span) -> Iterator[None]:
    token = _current.set(span)
    try:
        yield
    finally:
        _reset(token)


@contextmanager
def _recorded(span: Span) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:
        _end(span, exc)
        raise
    _end(span, None)


def _arguments(signature: inspect.Signature | None, args: tuple, kwargs: dict) -> Any:
    """A call's arguments by parameter name (`self` and `cls` left out)."""
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments if signature else None
    except TypeError:  # the call itself will fail, and say why
        bound = None
    if bound is None:
        return {"args": list(args), "kwargs": kwargs}
    return {k: v for k, v in bound.items() if k not in ("self", "cls")}


class Trace:
    """What `trace(...)` answers: a decorator, and a context manager (`with`, `async with`)
    whose span is current inside the block."""

    def __init__(self, name: str | None, kind: str, inputs: Any, metadata: dict[str, Any] | None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.name, self.kind, self.inputs, self.metadata = name, kind, inputs, metadata
        self._open: list[tuple[Span, Token[Span | None]]] = []

    def __enter__(self) -> Span:
        span = _begin(self.name or "span", self.kind, self.inputs, self.metadata)
        self._open.append((span, _current.set(span)))
        return span

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        span, token = self._open.pop()
        _reset(token)
        _end(span, exc)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self.__exit__(kind, exc, tb)

    def __call__(self, func: F) -> F:
        name, kind, metadata = self.name or func.__qualname__, self.kind, self.metadata
        try:
            signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):  # some builtins have none
            signature = None

        def begin(args: tuple, kwargs: dict) -> Span:
            return _begin(name, kind, _arguments(signature, args, kwargs), metadata)

        if inspect.isasyncgenfunction(func):
            wrapper: Any = _async_generator(func, begin)
        elif inspect.isgeneratorfunction(func):
            wrapper = _generator(func, begin)
        elif inspect.iscoroutinefunction(func):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                span = begin(args, kwargs)
                with _recorded(span), _active(span):
                    result = await func(*args, **kwargs)
                    span.set_output(result)
                    return result
        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                span = begin(args, kwargs)
                with _recorded(span), _active(span):
                    result = func(*args, **kwargs)
                    span.set_output(result)
                    return result

        return functools.wraps(func)(wrapper)  # type: ignore[return-value]


def _generator(func: Callable[..., Any], begin: Callable[[tuple, dict], Span]) -> Any:
    """The span covers the whole iteration, but is current only while the generator runs:
    the consumer's code between items is not inside it. What is sent or thrown in is passed
    on."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs)
        items: list[Any] = []
        with _recorded(span):
            with _active(span):
                inner = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                try:
                    with _active(span):
                        item = inner.throw(thrown) if thrown else inner.send(sent)
                except StopIteration as stop:
                    span.set_output(items if stop.value is None else stop.value)
                    return stop.value
                if len(items) < MAX_ITEMS:
                    items.append(item)
                try:
                    sent, thrown = (yield item), None
                except GeneratorExit:
                    span.set_output(items)
                    with _active(span):
                        inner.close()
                    raise
                except BaseException as exc:
                    sent, thrown = None, exc

    return wrapper


def _async_generator(func: Callable[..., Any], begin: Callable[[tuple, dict], Span]) -> Any:
    """`_generator` for `async def ... yield`."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs)
        items: list[Any] = []
        with _recorded(span):
            with _active(span):
                inner = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                try:
                    with _active(span):
                        item = await (inner.athrow(thrown) if thrown else inner.asend(sent))
                except StopAsyncIteration:
                    span.set_output(items)
                    return
                if len(items) < MAX_ITEMS:
                    items.append(item)
                try:
                    sent, thrown = (yield item), None
                except GeneratorExit:
                    span.set_output(items)
                    with _active(span):
                        await inner.aclose()
                    raise
                except BaseException as exc:
                    sent, thrown = None, exc

    return wrapper


@overload
def trace(target: F, /) -> F: ...
@overload
def trace(
    target: str | None = None,
    /,
    *,
    name: str | None = None,
    kind: Kind = "task",
    inputs: Any = None,
    metadata: dict[str, Any] | None = None,
) -> Trace: ...
def trace(
    target: Any = None,
    /,
    *,
    name: str | None = None,
    kind: Kind = "task",
    inputs: Any = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Trace a function or a block as a span of the current trace (a new trace when none).

        @trace                                   # name: the function's qualified name
        def step(x): ...

        @trace(name="answer", kind="workflow")   # kinds: workflow, task, tool, agent, llm
        async def answer(question): ...

        with trace("retrieve", kind="tool", inputs={"q": q}) as span:
            span.set_output(search(q))

    A decorated function's arguments are its span's inputs and its return value (a
    generator's: the items it yields) its output; a block's are `inputs` and what it gives
    `span.set_output`. An exception is recorded on the span and raised on, unchanged.
    `metadata` becomes the log's metadata.
    """
    if callable(target):
        return Trace(name, kind, inputs, metadata)(target)
    return Trace(target or name, kind, inputs, metadata)


# --- where spans go -----------------------------------------------------------------------


class Tracer:
    """The destination of spans (OTLP to `/v1/traces`) and of the OpenAI wrapper's logs
    (`Client.logs.create`), each through a `BackgroundSender` of its own.

    `max_queue` items wait at most per sender (more are dropped); spans go `batch_size` at
    a time, at least every `interval` seconds; a failing delivery is tried `max_attempts`
    times with `backoff`. At exit, what is queued gets `exit_timeout` seconds, then the
    process ends anyway.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        service_name: str | None = None,
        max_queue: int = 2048,
        batch_size: int = 256,
        interval: float = 1.0,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: Backoff = Backoff(),
        exit_timeout: float = 2.0,
    ) -> None:
        key, url = settings(api_key, base_url)
        self.exit_timeout = exit_timeout
        resource = {
            "service.name": service_name
            or os.environ.get("OTEL_SERVICE_NAME")
            or os.path.basename(sys.argv[0] or "python"),
            "telemetry.sdk.name": "llmtrail",
        }
        sender = functools.partial(
            BackgroundSender,
            interval=interval,
            max_queue=max_queue,
            max_attempts=max_attempts,
            backoff=backoff,
        )
        self.spans: BackgroundSender[Span] = sender(
            OtlpExporter(url, key, timeout, resource),
            name="llmtrail-spans",
            idempotent=True,
            batch_size=batch_size,
        )
        self.logs: BackgroundSender[dict[str, Any]] = sender(
            LogDelivery(url, key, timeout), name="llmtrail-logs", idempotent=False, batch_size=1
        )
        atexit.register(self._at_exit)

    @property
    def dropped(self) -> int:
        """Spans and logs lost so far (see `BackgroundSender.dropped`)."""
        return self.spans.dropped + self.logs.dropped

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for what is queued to be delivered, `timeout` seconds at most in all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        spans = self.spans.flush(timeout)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.logs.flush(left) and spans

    def shutdown(self, timeout: float | None = None) -> bool:
        """Deliver what is queued within `timeout` seconds, then stop (the rest is dropped)."""
        atexit.unregister(self._at_exit)
        deadline = None if timeout is None else time.monotonic() + timeout
        spans = self.spans.shutdown(timeout)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.logs.shutdown(left) and spans

    def _at_exit(self) -> None:
        self.shutdown(self.exit_timeout)


_tracer: Tracer | None = None
_tracer_lock = threading.Lock()
_warned = False


def configure(api_key: str | None = None, **options: Any) -> Tracer:
    """Send spans with this key to this server (`base_url`, and `Tracer`'s other options);
    the previous tracer, if any, delivers what it holds and stops. Without a call, the first
    span configures one from `LLMTRAIL_API_KEY` and `LLMTRAIL_BASE_URL`."""
    global _tracer
    tracer = Tracer(api_key, **options)
    with _tracer_lock:
        previous, _tracer = _tracer, tracer
    if previous is not None:
        previous.shutdown(previous.exit_timeout)
    return tracer


def get_tracer() -> Tracer | None:
    """The tracer spans go to; None (and a warning, once) when no key is configured."""
    global _tracer, _warned
    if _tracer is None and not _warned:
        with _tracer_lock:
            if _tracer is None and os.environ.get("LLMTRAIL_API_KEY"):
                _tracer = Tracer()
            elif _tracer is None:
                _warned = True
                log.warning("llmtrail: no LLMTRAIL_API_KEY and no configure(): spans are not sent")
    return _tracer


def flush(timeout: float | None = None) -> bool:
    """`Tracer.flush` of the configured tracer (True when there is none)."""
    tracer = _tracer
    return tracer.flush(timeout) if tracer else True


def shutdown(timeout: float | None = None) -> bool:
    """`Tracer.shutdown` of the configured tracer; the next span configures a new one."""
    global _tracer
    with _tracer_lock:
        tracer, _tracer = _tracer, None
    return tracer.shutdown(timeout) if tracer else True


def dropped() -> int:
    """Spans and logs the configured tracer has lost so far."""
    tracer = _tracer
    return tracer.dropped if tracer else 0
