"""The background sender alone, with a scripted `deliver`: what it drops, retries and
counts, and that flush and shutdown keep to their bounds."""

from __future__ import annotations

import threading
import time

import pytest

from llmtrail.sdk.errors import BadRequest, ConnectionFailed, Overloaded
from llmtrail.sdk.exporter import BackgroundSender
from llmtrail.sdk.retry import Backoff

QUICK = Backoff(base=0.01, cap=0.05)


class Deliveries:
    """A `deliver` that fails as scripted, then succeeds; it records every batch."""

    def __init__(self, *failures: Exception, block: threading.Event | None = None) -> None:
        self.failures = list(failures)
        self.batches: list[list[int]] = []
        self.block = block

    def __call__(self, batch: list[int]) -> int:
        self.batches.append(list(batch))
        if self.block is not None:
            self.block.wait()
        if self.failures:
            raise self.failures.pop(0)
        return 0


def sender(deliver: Deliveries, **options: object) -> BackgroundSender[int]:
    settings = {"name": "test", "idempotent": True, "interval": 0.01, "backoff": QUICK}
    return BackgroundSender(deliver, **{**settings, **options})  # type: ignore[arg-type]


def test_items_go_in_batches_and_flush_waits_for_them() -> None:
    deliver = Deliveries()
    queue = sender(deliver, batch_size=4, interval=10)
    for i in range(10):
        assert queue.submit(i)
    assert queue.flush(5)
    assert sorted(i for batch in deliver.batches for i in batch) == list(range(10))
    assert max(len(b) for b in deliver.batches) <= 4
    assert queue.dropped == 0


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    held = threading.Event()
    queue = sender(Deliveries(block=held), max_queue=5, batch_size=1)
    queue.submit(0)
    time.sleep(0.1)  # the thread holds item 0, the queue is empty again
    began = time.monotonic()
    accepted = [queue.submit(i) for i in range(1, 11)]
    assert time.monotonic() - began < 0.1
    assert accepted == [True] * 5 + [False] * 5
    assert queue.dropped == 5
    held.set()
    assert queue.flush(5)
    assert queue.dropped == 5


def test_retryable_failures_are_retried_then_given_up() -> None:
    busy = Overloaded("503", status=503, body=None, retry_after=0.05)
    deliver = Deliveries(busy, ConnectionFailed("down", maybe_sent=True))
    queue = sender(deliver, max_attempts=3)
    queue.submit(1)
    assert queue.flush(5)
    assert len(deliver.batches) == 3 and queue.dropped == 0

    deliver.failures = [busy] * 3
    queue.submit(2)
    assert queue.flush(5)
    assert queue.dropped == 1


@pytest.mark.parametrize(
    ("idempotent", "attempts"),
    [(True, 2), (False, 1)],  # a timeout after sending may have stored the batch already
)
def test_a_maybe_sent_batch_is_retried_only_when_idempotent(
    idempotent: bool, attempts: int
) -> None:
    deliver = Deliveries(ConnectionFailed("read timeout", maybe_sent=True))
    queue = sender(deliver, idempotent=idempotent)
    queue.submit(1)
    assert queue.flush(5)
    assert len(deliver.batches) == attempts
    assert queue.dropped == 2 - attempts


def test_a_refusal_is_dropped_at_once() -> None:
    deliver = Deliveries(BadRequest("400", status=400, body={}))
    queue = sender(deliver)
    queue.submit(1)
    assert queue.flush(5)
    assert (len(deliver.batches), queue.dropped) == (1, 1)


def test_shutdown_keeps_to_its_time_and_counts_what_it_leaves() -> None:
    down = ConnectionFailed("refused", maybe_sent=False)
    deliver = Deliveries(*[down] * 100)
    queue = sender(deliver, backoff=Backoff(base=10), batch_size=2)
    for i in range(5):
        queue.submit(i)
    began = time.monotonic()
    assert not queue.flush(0.2)
    assert not queue.shutdown(0.2)
    assert time.monotonic() - began < 1
    assert queue.dropped == 5
    assert not queue.submit(6)
    assert queue.dropped == 6
