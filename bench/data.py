"""Realistic logs for the benchmark: 1-2 KB of chat messages, metadata, usage, nested traces.

Text is cut from a fixed pool of generated paragraphs, so building 100,000 bodies costs the
benchmark little CPU and every run sends the same bytes for the same seed.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "gemini-1.5-pro", "o3-mini")
FEATURES = ("search", "support", "summarize", "classify", "extract")
TENANTS = 50
CUSTOMERS = 1000
SPANS_PER_TRACE = 8
# Mentioned by one log body in a thousand (`mention`): what a person searches logs for.
RARE_PHRASE = "order ZX-4417"

_WORDS = [
    "the",
    "model",
    "answered",
    "a",
    "question",
    "about",
    "refunds",
    "billing",
    "latency",
    "tokens",
    "cache",
    "retrieval",
    "agent",
    "tool",
    "call",
    "customer",
    "order",
    "shipping",
    "invoice",
    "context",
    "window",
    "prompt",
    "completion",
    "evaluation",
    "dataset",
    "trace",
    "span",
    "parent",
    "child",
    "error",
    "retry",
    "timeout",
    "stream",
    "vector",
    "embedding",
    "policy",
    "summary",
    "user",
    "assistant",
    "system",
    "function",
    "argument",
    "result",
    "observability",
    "production",
]


class TextPool:
    """Paragraphs to cut message text from."""

    def __init__(self, rng: random.Random, size: int = 256) -> None:
        self.paragraphs = [" ".join(rng.choices(_WORDS, k=400)) for _ in range(size)]

    def text(self, rng: random.Random, length: int) -> str:
        paragraph = rng.choice(self.paragraphs)
        start = rng.randrange(0, len(paragraph) - length)
        return paragraph[start : start + length]


def chat_log(rng: random.Random, pool: TextPool, trace: tuple[str, str | None] | None) -> dict:
    """One Keywords AI log body; `trace` is (trace id, parent span id) when it sits in a trace."""
    model = rng.choice(MODELS)
    prompt_tokens = rng.randint(200, 3000)
    completion_tokens = rng.randint(20, 600)
    latency = round(rng.uniform(0.3, 6.0), 3)
    body: dict[str, Any] = {
        "model": model,
        "log_type": "chat",
        "prompt_messages": [
            {"role": "system", "content": pool.text(rng, rng.randint(150, 400))},
            {"role": "user", "content": pool.text(rng, rng.randint(400, 1000))},
        ],
        "completion_message": {"role": "assistant", "content": pool.text(rng, 400)},
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "generation_time": latency,
        "ttft": round(latency * rng.uniform(0.05, 0.3), 3),
        "customer_identifier": f"customer-{rng.randrange(CUSTOMERS)}",
        "metadata": {
            "tenant": f"tenant-{rng.randrange(TENANTS)}",
            "feature": rng.choice(FEATURES),
            "release": f"2026.{rng.randint(1, 11)}",
            "experiment": rng.random() < 0.1,
        },
        "temperature": 0.2,
    }
    if trace is not None:
        body["trace_unique_id"], parent = trace
        body["span_unique_id"] = uuid.uuid4().hex
        body["span_name"] = "llm.call"
        if parent is not None:
            body["span_parent_id"] = parent
    return body


def chat_logs(count: int, seed: int) -> list[dict]:
    """`count` bodies; every run of eight is one trace: a root span and a chain under it."""
    rng = random.Random(seed)
    pool = TextPool(rng)
    bodies: list[dict] = []
    while len(bodies) < count:
        trace_id, parent = uuid.uuid4().hex, None
        for _ in range(min(SPANS_PER_TRACE, count - len(bodies))):
            body = chat_log(rng, pool, (trace_id, parent))
            parent = body["span_unique_id"]
            bodies.append(body)
    return bodies


def prompt_log(rng: random.Random, pool: TextPool, parent: str | None) -> dict:
    """One Humanloop `POST /v5/prompts/log` body, under a Flow log when `parent` is given."""
    model = rng.choice(MODELS)
    body: dict[str, Any] = {
        "path": f"bench/{rng.choice(FEATURES)}",
        "prompt": {"model": model, "template": "Answer about {{topic}}", "temperature": 0.2},
        "messages": [
            {"role": "system", "content": pool.text(rng, rng.randint(150, 400))},
            {"role": "user", "content": pool.text(rng, rng.randint(400, 1000))},
        ],
        "output_message": {"role": "assistant", "content": pool.text(rng, 400)},
        "inputs": {"topic": rng.choice(_WORDS)},
        "prompt_tokens": rng.randint(200, 3000),
        "output_tokens": rng.randint(20, 600),
        "user": f"customer-{rng.randrange(CUSTOMERS)}",
        "metadata": {"tenant": f"tenant-{rng.randrange(TENANTS)}", "feature": "humanloop"},
    }
    if parent is not None:
        body["trace_parent_id"] = parent
    return body


def mention(bodies: list[dict], every: int = 1000) -> list[dict]:
    """Every `every`th chat body's answer mentions RARE_PHRASE."""
    for body in bodies[::every]:
        body["completion_message"]["content"] += f" about {RARE_PHRASE}"
    return bodies
