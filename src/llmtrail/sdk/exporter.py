"""Delivery in the background: a bounded queue drained by a thread of its own, in batches,
with retries, so that the application never waits for the server and never fails
because of it.

`BackgroundSender` is the queue and its thread; what it delivers is up to the function it
is given: `OtlpExporter` (spans, as OTLP/HTTP protobuf) or `LogDelivery` (logs, through the
client). Whatever cannot be delivered, a full queue, a server that stays down, a refusal,
is counted in `dropped`, never raised.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from llmtrail.sdk.client import Client
from llmtrail.sdk.errors import LlmtrailError, connection_failed, error_for
from llmtrail.sdk.retry import Backoff, retryable

if TYPE_CHECKING:
    from llmtrail.sdk.tracing import Span

log = logging.getLogger("llmtrail.sdk")
T = TypeVar("T")


class BackgroundSender(Generic[T]):
    """Items are queued by `submit` (which never blocks: a full queue drops the item) and
    handed to `deliver` by a daemon thread, `batch_size` at a time, at least every
    `interval` seconds. `deliver` returns how many items of the batch the server refused,
    or raises `LlmtrailError`; a retryable failure is tried again with backoff, at most
    `max_attempts` times in all. `idempotent` says a batch sent twice is stored once, so
    a timeout after sending may be retried too.
    """

    def __init__(
        self,
        deliver: Callable[[list[T]], int],
        *,
        name: str,
        idempotent: bool,
        max_queue: int = 2048,
        batch_size: int = 256,
        interval: float = 1.0,
        max_attempts: int = 5,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.deliver = deliver
        self.name = name
        self.idempotent = idempotent
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._queue: deque[T] = deque()
        self._lock = threading.Condition()
        self._in_flight = 0
        self._flushes = 0  # callers waiting in `flush`: deliver at once, not at `interval`
        self._closed = False
        self._abandoned = threading.Event()  # shutdown's time is up: stop retrying
        self._dropped = 0
        self._failing = False
        self._thread: threading.Thread | None = None

    @property
    def dropped(self) -> int:
        """Items lost so far: queue full, refused, given up after retries, or still
        undelivered when `shutdown` ran out of time."""
        return self._dropped

    def submit(self, item: T) -> bool:
        """Queue `item`; False when it was dropped instead (queue full, or shut down)."""
        with self._lock:
            if self._closed or len(self._queue) >= self.max_queue:
                self._dropped += 1
                return False
            self._queue.append(item)
            self._start()
            if len(self._queue) >= self.batch_size:
                self._lock.notify_all()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is delivered or given up, `timeout`
        seconds at most; whether it was."""
        with self._lock:
            if self._queue:
                self._start()
            self._flushes += 1
            self._lock.notify_all()
            try:
                return self._lock.wait_for(lambda: not self._queue and not self._in_flight, timeout)
            finally:
                self._flushes -= 1

    def shutdown(self, timeout: float | None = None) -> bool:
        """Take no more items and deliver what is queued, `timeout` seconds at most; what is
        still undelivered then is counted as dropped. Whether everything was delivered."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self.flush(timeout):
            return True
        with self._lock:
            self._dropped += len(self._queue) + self._in_flight
            self._queue.clear()
            self._abandoned.set()
            self._lock.notify_all()
        return False

    def _start(self) -> None:
        """Start the thread if it is not running (also in a child after a fork)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _due(self) -> bool:
        full = len(self._queue) >= self.batch_size
        return self._closed or (bool(self._queue) and (full or self._flushes > 0))

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(self._due, timeout=self.interval)
                if not self._queue:
                    if self._closed:
                        return
                    continue
                size = min(self.batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(size)]
                self._in_flight = size
            lost = self._attempts(batch)
            with self._lock:
                if not self._abandoned.is_set():  # else shutdown counted them already
                    self._dropped += lost
                self._in_flight = 0
                self._lock.notify_all()

    def _attempts(self, batch: list[T]) -> int:
        """Deliver `batch`, retrying as the failure allows; how many of it were lost."""
        attempt = 0
        while True:
            try:
                refused = self.deliver(batch)
            except LlmtrailError as error:
                last = attempt + 1 >= self.max_attempts
                if last or not retryable(error, idempotent=self.idempotent):
                    return self._lost(len(batch), error)
                if self._abandoned.wait(self.backoff.delay(attempt, error)):
                    return len(batch)
                attempt += 1
                continue
            except Exception as error:  # a bug of ours must not end the thread
                log.exception("llmtrail: %s could not deliver a batch", self.name)
                return self._lost(len(batch), error)
            self._failing = False
            return refused

    def _lost(self, count: int, error: Exception) -> int:
        """Say once, when delivery starts failing, what is being lost; quieter until it
        works again."""
        level = logging.DEBUG if self._failing else logging.WARNING
        log.log(level, "llmtrail: %s dropped %d items: %s", self.name, count, error)
        self._failing = True
        return count


# --- deliveries ---------------------------------------------------------------------------


class OtlpExporter:
    """Delivers spans to `POST {base_url}/v1/traces`, gzipped protobuf. A span sent twice is
    stored once (its log id derives from its ids), so every failure may be retried."""

    def __init__(self, base_url: str, api_key: str, timeout: float, resource: Mapping[str, Any]):
        self.url = f"{base_url}/v1/traces"
        self.resource = dict(resource)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        }
        self._timeout = timeout
        self._http: httpx.Client | None = None  # made in the sender's thread, used only there

    def __call__(self, spans: list[Span]) -> int:
        from llmtrail.sdk import otlp  # protobuf: paid for in the sender's thread, on first use

        body = gzip.compress(otlp.encode(spans, self.resource), compresslevel=5)
        self._http = self._http or httpx.Client(timeout=self._timeout)
        try:
            response = self._http.post(self.url, content=body, headers=self._headers)
        except httpx.TransportError as exc:
            raise connection_failed(exc) from exc
        if response.is_error:
            raise error_for(response)
        rejected, message = otlp.rejected(response.content)
        if message:
            log.warning("llmtrail: the server refused %d spans: %s", rejected, message)
        return rejected


class LogDelivery:
    """Delivers logs through `Client.logs.create`, in batches of one: a create that may have
    been stored is never sent again, and one that was not is retried alone. The sender
    retries, so the client does not."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self._settings = (base_url, api_key, timeout)
        self._client: Client | None = None  # made in the sender's thread, used only there

    def __call__(self, logs: list[dict[str, Any]]) -> int:
        if self._client is None:
            base_url, api_key, timeout = self._settings
            self._client = Client(api_key, base_url=base_url, timeout=timeout, max_retries=0)
        for body in logs:
            self._client.logs.create(**body)
        return 0
