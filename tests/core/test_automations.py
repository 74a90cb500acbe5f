"""Sampling: a hash of automation and log decides, so the share is the rate and a log always
gets the same answer."""

from __future__ import annotations

import uuid

import pytest

from llmtrail.core.automations import sampled


@pytest.mark.parametrize("rate", [0.15, 0.5, 0.01])
def test_the_sampled_share_is_the_rate(rate: float) -> None:
    logs = [uuid.UUID(int=n * 7919 + 13).hex for n in range(10_000)]
    share = sum(sampled("auto_quality", log, rate) for log in logs) / len(logs)
    assert abs(share - rate) <= max(0.1 * rate, 0.003)


def test_the_same_log_always_gets_the_same_decision() -> None:
    logs = [uuid.uuid4().hex for _ in range(2_000)]
    first = [sampled("auto_a", log, 0.15) for log in logs]
    assert first == [sampled("auto_a", log, 0.15) for log in logs]
    other = [sampled("auto_b", log, 0.15) for log in logs]
    assert first != other, "each automation samples on its own"


def test_a_rate_of_one_takes_every_log_and_zero_none() -> None:
    logs = [uuid.uuid4().hex for _ in range(500)]
    assert all(sampled("a", log, 1.0) for log in logs)
    assert not any(sampled("a", log, 0.0) for log in logs)
