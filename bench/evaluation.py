"""Online evaluation, measured: bulk ingest with an automation on (against ingest without),
the rate one worker drains evaluation jobs, and the time from a log's commit to its score."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import httpx
import orjson
from sqlalchemy import Engine, func, select

from bench import data, load
from bench.load import percentile
from bench.server import Server
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import authenticate
from llmtrail.core.monitoring import backfill
from llmtrail.store.database import make_engine
from llmtrail.store.tables import jobs, logs, scores

LATENCY_LOGS = 300
LATENCY_RATE = 30  # logs/s: a steady stream, well within what one worker drains
Ingest = Callable[[str, list[dict]], dict]


def rule_automation(api: httpx.Client) -> str:
    """An enabled rule automation over every successful log, sampling all; its id."""
    evaluator = api.post(
        "/api/evaluators/",
        json={
            "name": "bench refund",
            "type": "rule",
            "score_value_type": "boolean",
            "rule_config": {"rule": "contains", "value": "refund"},
        },
    ).json()
    rules = [{"field": "status_code", "operator": "equals", "value": 200}]
    condition = api.post(
        "/automation/conditions/",
        json={
            "name": "ok",
            "condition_slug": "bench_ok",
            "condition_type": "single_log",
            "condition_policy": {"rules": rules, "connector": "AND"},
        },
    ).json()
    answer = api.post(
        "/automation/automations/",
        json={
            "automation_slug": "bench_eval",
            "name": "bench",
            "automation_type": "online_eval",
            "condition": condition["id"],
            "evaluator_ids": [evaluator["id"]],
            "configuration": {"sampling_rate": 1.0},
            "is_enabled": True,
        },
    )
    answer.raise_for_status()
    return answer.json()["id"]


def _unfinished(engine: Engine, org_id: int) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(jobs.c.org_id == org_id, jobs.c.state != "done")
        return conn.scalar(query) or 0


def _drain(engine: Engine, org_id: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while (left := _unfinished(engine, org_id)) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} evaluation jobs never finished")
        time.sleep(0.05)


def _commit_to_score(engine: Engine, org_id: int, newest: int) -> list[float]:
    """Milliseconds from each of the newest logs' write to its score's."""
    query = (
        select(logs.c.created_at, scores.c.created_at.label("scored"))
        .join(scores, scores.c.log_id == logs.c.id)
        .where(logs.c.org_id == org_id)
        .order_by(logs.c.id.desc())
        .limit(newest)
    )
    with engine.connect() as conn:
        return [(r.scored - r.created_at).total_seconds() * 1000 for r in conn.execute(query)]


def evaluation(srv: Server, args: argparse.Namespace, out: dict, ingest: Ingest) -> None:
    """`ingest(key, bodies)` measures a bulk ingest as the plain bulk scenario does."""
    key = srv.create_key("bench-eval")
    engine = make_engine(srv.database_url)
    api = httpx.Client(
        base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    )
    try:
        org_id = authenticate(engine, key).org_id  # type: ignore[union-attr]
        automation = rule_automation(api)
        with_evaluation = ingest(key, data.chat_logs(args.ingest, seed=4))["logs_per_s"]
        out["bulk_ingest_evaluated_logs_per_s"] = with_evaluation
        out["bulk_ingest_evaluated_vs_plain"] = round(
            with_evaluation / out["bulk_ingest_logs_per_s"], 2
        )
        _drain(engine, org_id)

        url = f"/automation/automations/{automation}/"
        api.patch(url, json={"is_enabled": False}).raise_for_status()
        since = utcnow()
        ingest(key, data.chat_logs(args.ingest, seed=5))
        began = time.monotonic()
        *_, (_, _, queued) = backfill(engine, org_id, automation, since)
        _drain(engine, org_id)
        out["evaluation_jobs_per_s"] = round(queued / (time.monotonic() - began))

        api.patch(url, json={"is_enabled": True}).raise_for_status()
        stream = [
            ("POST", "/api/request-logs/", orjson.dumps(body))
            for body in data.chat_logs(LATENCY_LOGS, seed=6)
        ]
        load.open_loop(srv.host, srv.port, key, [stream], rate=LATENCY_RATE)
        _drain(engine, org_id)
        delays = _commit_to_score(engine, org_id, LATENCY_LOGS)
        out["commit_to_score_p50_ms"] = round(percentile(delays, 50), 1)
        out["commit_to_score_p95_ms"] = round(percentile(delays, 95), 1)
    finally:
        api.close()
        engine.dispose()
