"""`llmtrail worker` processes on one database: many drain the queue writing each score once,
and a worker killed in the middle of a job leaves it to another once its lease runs out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core import automations, conditions, evaluators
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.core.monitoring import backfill
from llmtrail.store.tables import jobs, scores
from tests.fakes.openai_server import FakeOpenAI, completion
from tests.helpers import in_writer

CLI = str(Path(sys.executable).with_name("llmtrail"))


@pytest.fixture
def principal(quiet_engine: Engine) -> Principal:
    _, key = create_key(quiet_engine, org=f"workers-{uuid.uuid4().hex[:8]}")
    return authenticate(quiet_engine, key)


def monitored(engine: Engine, who: Principal, kind: str = "rule", **definition: object) -> dict:
    """An enabled automation over every successful log, with one evaluator."""
    evaluator = evaluators.create(
        engine,
        who,
        name=f"e-{uuid.uuid4().hex[:6]}",
        kind=kind,
        value_type="boolean" if kind == "rule" else "numerical",
        definition=definition or {"rule_config": {"rule": "contains", "value": "refund"}},
    )
    condition = conditions.create(
        engine,
        who,
        {
            "name": "all",
            "condition_slug": f"all-{uuid.uuid4().hex[:6]}",
            "condition_type": "single_log",
            "condition_policy": {
                "rules": [{"field": "status_code", "operator": "equals", "value": 200}]
            },
        },
    )
    made = automations.create(
        engine,
        who,
        {
            "automation_slug": f"a-{uuid.uuid4().hex[:6]}",
            "name": "all",
            "automation_type": "online_eval",
            "condition": condition.id,
            "evaluator_ids": [evaluator.id],
            "configuration": {"sampling_rate": 1.0},
            "is_enabled": True,
        },
    )
    return {"evaluator": evaluator, "automation": made}


def store_logs(engine: Engine, who: Principal, count: int) -> None:
    new = [LogData(output=f"refund {n}" if n % 2 else f"no {n}") for n in range(count)]
    for start in range(0, count, 500):
        in_writer(engine, lambda w, part=new[start : start + 500]: write_logs(w, who, part))


@contextmanager
def workers(engine: Engine, count: int, **env: str) -> Iterator[list[subprocess.Popen]]:
    environ = {**os.environ, "LLMTRAIL_DATABASE_URL": engine.url.render_as_string(False), **env}
    started = [
        subprocess.Popen([CLI, "worker", "--concurrency", "2"], env=environ) for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(30)


def states(engine: Engine, org_id: int, kind: str = "evaluate") -> dict[str, int]:
    """Jobs of a kind by state. (Under load the subscriber may have overrun its budget and
    left some events as `event` jobs: a worker then queues their evaluations.)"""
    with engine.connect() as conn:
        query = select(jobs.c.state, func.count()).where(
            jobs.c.org_id == org_id, jobs.c.kind == kind
        )
        return dict(conn.execute(query.group_by(jobs.c.state)).all())


def scored(engine: Engine, org_id: int) -> tuple[int, int]:
    """(scores, distinct (evaluator, log) pairs among them)."""
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).where(scores.c.org_id == org_id))
        pairs = conn.execute(
            select(scores.c.evaluator_id, scores.c.log_id)
            .where(scores.c.org_id == org_id)
            .distinct()
        ).all()
    return total, len(pairs)


def wait_until(check, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_drain_2000_jobs_writing_each_score_once(
    quiet_engine: Engine, principal: Principal
) -> None:
    made = monitored(quiet_engine, principal)
    store_logs(quiet_engine, principal, 2000)
    since = made["automation"].created_at
    runs = list(backfill(quiet_engine, principal.org_id, made["automation"].slug, since))
    assert runs[-1][0] == 2000, "a backfill sees every log"
    assert sum(states(quiet_engine, principal.org_id).values()) == 2000, "one job a log"

    with workers(quiet_engine, 2):
        assert wait_until(lambda: states(quiet_engine, principal.org_id) == {"done": 2000}, 180)
    assert scored(quiet_engine, principal.org_id) == (2000, 2000)
    assert states(quiet_engine, principal.org_id, "event").keys() <= {"done"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_job_leaves_it_to_another_after_its_lease(
    quiet_engine: Engine, principal: Principal
) -> None:
    with FakeOpenAI() as provider:
        marker = f"slow-judge-{uuid.uuid4().hex}"
        monitored(
            quiet_engine,
            principal,
            kind="llm",
            llm_config={"model": "judge", "evaluator_definition": f"{marker} {{{{output}}}}"},
        )
        slow = replace(completion('{"score": 1}'), delay=60)  # killed before it answers
        provider.script_for(marker, slow, completion('{"score": 2}'))
        env = {"LLMTRAIL_LLM_BASE_URL": provider.base_url, "LLMTRAIL_JOB_LEASE_SECONDS": "2"}
        store_logs(quiet_engine, principal, 1)
        with workers(quiet_engine, 1, **env) as [first]:
            assert wait_until(lambda: provider.sent(marker), 30), "the first worker is judging"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert states(quiet_engine, principal.org_id) == {"running": 1}, "left leased"
        with workers(quiet_engine, 1, **env):
            assert wait_until(lambda: states(quiet_engine, principal.org_id) == {"done": 1}, 30)
    assert scored(quiet_engine, principal.org_id) == (1, 1)
    with quiet_engine.connect() as conn:
        attempts = select(jobs.c.attempts).where(
            jobs.c.org_id == principal.org_id, jobs.c.kind == "evaluate"
        )
        assert conn.scalar(attempts) == 2, "the killed try counts"
