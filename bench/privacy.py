"""`python -m bench.privacy`: what masking costs a new log, in the caller's thread, where
`ingest.write_logs` applies it (no server, no database: the masker alone).

Logs are the ingest benchmark's chat logs (about 2 KB of message text each), translated
from their Keywords AI bodies beforehand; each figure is the best of a few rounds, in
microseconds per log, next to what the write path already spends there (finalize and
row building) for scale.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from bench.data import chat_logs
from llmtrail.api.keywords.schemas import CreateLog
from llmtrail.api.keywords.translate import to_log_data
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.core.privacy import MASKER_NAMES, Policies, compile_policy

PII = " reach me at jo@example.com or +44 20 7946 0958, card 4111 1111 1111 1111"


def _logs(bodies: list[dict]) -> list[LogData]:
    return [to_log_data(CreateLog.model_validate(body)) for body in bodies]


def _best(rounds: int, make: Callable[[], list[LogData]], run: Callable[[LogData], None]) -> float:
    """Microseconds per log, the best of `rounds` (each on fresh logs: masking changes them)."""
    best = float("inf")
    for _ in range(rounds):
        batch = make()
        start = time.perf_counter()
        for log in batch:
            run(log)
        best = min(best, (time.perf_counter() - start) / len(batch))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bodies = chat_logs(args.logs, seed=7)
    rng = random.Random(7)
    with_pii = [
        {**b, "prompt_messages": [*b["prompt_messages"][:-1], {"role": "user", "content": PII}]}
        if rng.random() < 0.1
        else b
        for b in bodies
    ]
    everything = compile_policy(list(MASKER_NAMES), [])
    custom = compile_policy(list(MASKER_NAMES), [r"ACME-\d{4}", r"(?i)project\s+falcon"])
    assert everything is not None and custom is not None
    who, now = Principal(1, None, "bench", "prod", "member"), utcnow()
    cache = Policies(engine=None, ttl=60)  # type: ignore[arg-type]
    cache._entries[1] = (time.monotonic() + 60, None)  # an organization without settings

    def off(_log: LogData) -> None:
        cache.cached(who.org_id)

    figures = {
        "write path today (finalize + row)": _best(
            args.rounds, lambda: _logs(bodies), lambda log: to_row(finalize(log, now), who, now)
        ),
        "masking off (cached: no settings)": _best(args.rounds, lambda: _logs(bodies), off),
        "every built-in masker, no PII": _best(
            args.rounds, lambda: _logs(bodies), everything.mask_log
        ),
        "every built-in masker, 10% with PII": _best(
            args.rounds, lambda: _logs(with_pii), everything.mask_log
        ),
        "built-ins + 2 custom patterns, 10% PII": _best(
            args.rounds, lambda: _logs(with_pii), custom.mask_log
        ),
    }
    text = sum(len(m["content"]) for b in bodies for m in b["prompt_messages"]) / len(bodies)
    print(f"{args.logs} chat logs, {text:.0f} characters of prompt text each on average")
    for name, micros in figures.items():
        print(f"  {name:<42} {micros:8.1f} µs/log")


if __name__ == "__main__":
    main()
