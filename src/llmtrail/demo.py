"""`llmtrail demo`: a realistic data set in the current data dir, so that a new user sees
every page of the UI filled in one command.

Agent traces with nested spans (an LLM plans, tools run, one of them calls a model, an LLM
answers) and single chat calls, over the last week, from several models and customers,
some failing; human evaluators and their scores; a dataset filled from the gpt-4o logs.
Everything is written through the domain core, as the APIs write it.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from llmtrail import plugins
from llmtrail.core import datasets, evaluators, events, keys, scores
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData
from llmtrail.store.writer import GroupCommitWriter

MODELS = {  # model -> $ per 1,000 prompt and completion tokens
    "gpt-4o": (0.0025, 0.01),
    "gpt-4o-mini": (0.00015, 0.0006),
    "claude-3-5-sonnet": (0.003, 0.015),
    "gemini-1.5-pro": (0.00125, 0.005),
}
CUSTOMERS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")
QUESTIONS = (
    "Where is my parcel?",
    "Can I get a refund for order 1042?",
    "Summarise this contract in three bullet points.",
    "Translate 'good morning' into Japanese.",
    "Which plan includes SSO?",
    "Why was my card declined?",
)
TOOLS = ("search_orders", "lookup_customer", "fetch_policy", "web_search")
TRACES = 80
SINGLE_CALLS = 400


@dataclass(frozen=True)
class Loaded:
    logs: int
    traces: int
    scores: int
    dataset_id: str


def _call(
    rng: random.Random,
    at: datetime,
    *,
    model: str | None = None,
    customer: str,
    question: str,
    trace: tuple[str, str | None] | None = None,
    name: str | None = None,
) -> LogData:
    """One chat completion starting `at`; sometimes failed."""
    model = model or rng.choice(list(MODELS))
    prompt, completion = rng.randint(120, 2400), rng.randint(20, 500)
    latency = round(rng.lognormvariate(0, 0.6), 3)
    failed = rng.random() < 0.07
    price_in, price_out = MODELS[model]
    log = LogData(
        unique_id=uuid.uuid4().hex,
        model=model,
        start_time=at,
        timestamp=at + timedelta(seconds=latency),
        end_time=at + timedelta(seconds=latency),
        latency=latency,
        time_to_first_token=round(latency * rng.uniform(0.1, 0.3), 3),
        prompt_tokens=prompt,
        completion_tokens=0 if failed else completion,
        cost=round(prompt / 1000 * price_in + (0 if failed else completion / 1000 * price_out), 6),
        customer_identifier=customer,
        prompt_messages=[
            {"role": "system", "content": "You are a helpful support agent for Example Inc."},
            {"role": "user", "content": question},
        ],
        completion_message=None
        if failed
        else {"role": "assistant", "content": f"Here is what I found about: {question.lower()}"},
        status_code=rng.choice((429, 500, 503)) if failed else 200,
        error_message="upstream provider error" if failed else None,
        metadata={"feature": rng.choice(("support", "search", "billing")), "release": "2026.11"},
        span_name=name,
    )
    if trace is not None:
        log.trace_unique_id, log.span_parent_id = trace
        log.span_unique_id = uuid.uuid4().hex
    return log


def _span(
    at: datetime, seconds: float, trace: str, parent: str | None, name: str, **more: Any
) -> LogData:
    return LogData(
        unique_id=uuid.uuid4().hex,
        log_type=more.pop("log_type", "tool"),
        start_time=at,
        timestamp=at + timedelta(seconds=seconds),
        end_time=at + timedelta(seconds=seconds),
        latency=seconds,
        trace_unique_id=trace,
        span_unique_id=uuid.uuid4().hex,
        span_parent_id=parent,
        span_name=name,
        **more,
    )


def _agent_trace(rng: random.Random, at: datetime) -> list[LogData]:
    """An agent run: plan (LLM), one to three tools (one calling a model), answer (LLM)."""
    trace, customer, question = uuid.uuid4().hex, rng.choice(CUSTOMERS), rng.choice(QUESTIONS)
    root = _span(
        at,
        0,
        trace,
        None,
        "support_agent.run",
        log_type="workflow",
        customer_identifier=customer,
        input={"question": question},
    )
    root_span = root.span_unique_id
    spans = [
        _call(rng, at, customer=customer, question=question, trace=(trace, root_span), name="plan")
    ]
    clock = spans[0].end_time or at
    for tool in rng.sample(TOOLS, rng.randint(1, 3)):
        seconds = round(rng.uniform(0.05, 1.2), 3)
        step = _span(
            clock,
            seconds,
            trace,
            root_span,
            tool,
            customer_identifier=customer,
            input={"query": question},
            output={"results": rng.randint(0, 5)},
        )
        spans.append(step)
        if tool == "web_search":
            spans.append(
                _call(
                    rng,
                    clock,
                    model="gpt-4o-mini",
                    customer=customer,
                    question=f"Rank these results for: {question}",
                    trace=(trace, step.span_unique_id),
                    name="rerank",
                )
            )
        clock = step.end_time or clock
    answer = _call(
        rng, clock, customer=customer, question=question, trace=(trace, root_span), name="answer"
    )
    spans.append(answer)
    end = answer.end_time or clock
    root.timestamp = root.end_time = end
    root.latency = round((end - at).total_seconds(), 3)
    root.output = {"answer": (answer.completion_message or {}).get("content")}
    return [root, *spans]


def load(engine: Engine, org: str = "default", seed: int = 7) -> Loaded:
    """Write the demo data into `org` (made when new)."""
    rng = random.Random(seed)
    org_id = keys.organization_id(engine, org)
    who = Principal.operator(org_id)
    now = utcnow()
    week = timedelta(days=7).total_seconds()
    batches = [
        _agent_trace(rng, now - timedelta(seconds=rng.uniform(60, week))) for _ in range(TRACES)
    ]
    singles = [
        _call(
            rng,
            now - timedelta(seconds=rng.uniform(30, week)),
            customer=rng.choice(CUSTOMERS),
            question=rng.choice(QUESTIONS),
        )
        for _ in range(SINGLE_CALLS)
    ]
    plugins.load_subscribers()

    async def write() -> list[dict]:
        writer = GroupCommitWriter(engine, events.dispatch)
        try:
            rows = []
            for batch in [*batches, singles]:
                rows += await write_logs(writer, who, batch)
            return rows
        finally:
            writer.close()

    rows = asyncio.run(write())
    given = _scores(engine, who, rng, [r for r in rows if r["model"] and r["status"] == "success"])
    fill = datasets.Window(
        now - timedelta(days=7), now, {"model": {"operator": "", "value": "gpt-4o"}}, 100.0
    )
    dataset = datasets.create(
        engine,
        who,
        name="Demo: gpt-4o answers",
        description="Every gpt-4o call of the demo week",
        fill=fill,
    )
    return Loaded(len(rows), TRACES, given, dataset.id)


def _scores(engine: Engine, who: Principal, rng: random.Random, rows: list[dict]) -> int:
    helpful = evaluators.create(
        engine, who, name="Helpfulness", kind="human", value_type="numerical", definition={}
    )
    correct = evaluators.create(
        engine, who, name="Correct", kind="human", value_type="boolean", definition={}
    )
    chosen = rng.sample(rows, min(60, len(rows)))
    for row in chosen:
        scores.create(
            engine,
            who,
            row["unique_id"],
            {"evaluator_id": helpful.id, "numerical_value": rng.choice((2, 3, 4, 4, 5, 5))},
            source="demo",
        )
        scores.create(
            engine,
            who,
            row["unique_id"],
            {"evaluator_id": correct.id, "boolean_value": rng.random() < 0.8},
            source="demo",
        )
    return 2 * len(chosen)
