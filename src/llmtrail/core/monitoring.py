"""Online evaluation: when logs become complete, queue the evaluations their automations ask
for, in the transaction that completes them.

For each enabled automation of the organization: the logs that match its condition (the
same filter tree and SQL as the log list) or belong to its monitored File, the sampled
share of those (a hash of automation and log, so the decision never changes), and for each
of its evaluators that runs by itself one `evaluate` job, keyed by evaluator and log: the
same evaluation is never queued twice, whichever automations ask for it. An acknowledged
log never misses its evaluation, and a refused one leaves none behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Row

from llmtrail.core import conditions, events, jobs
from llmtrail.core.automations import origin, sampled
from llmtrail.core.ids import utcnow
from llmtrail.errors import NotFound
from llmtrail.store import evaluation as store
from llmtrail.store.database import begin_write
from llmtrail.store.filtering import compile_filter
from llmtrail.store.tables import automations as automations_table

EVALUATE = "evaluate"


def queue_evaluations(tx: events.HandlerTx, event: events.LogsCompleted) -> None:
    org_id = event.org_id
    automations = tx.read(store.enabled_automations(org_id))
    if not automations:
        return
    wanted = {e for automation in automations for e in automation.evaluator_ids}
    runnable = {row.id for row in tx.read(store.automatic_evaluators(org_id, sorted(wanted)))}
    new: list[jobs.NewJob] = []
    for automation in automations:
        evaluator_ids = [e for e in automation.evaluator_ids if e in runnable]
        if evaluator_ids:
            query = store.logs_among(org_id, event.log_ids, _scope(automation, org_id))
            new += _evaluations(org_id, automation, evaluator_ids, tx.read(query))
    if new:
        tx.enqueue(new)


def _evaluations(
    org_id: int, automation: Row, evaluator_ids: list[str], logs: Iterable[Row]
) -> list[jobs.NewJob]:
    """One job per evaluator for each log in the automation's sample."""
    rate = float(automation.configuration.get("sampling_rate", 1.0))
    return [
        jobs.NewJob(
            org_id,
            EVALUATE,
            {
                "evaluator_id": evaluator_id,
                "log_id": log.id,
                "log_unique_id": log.unique_id,
                "automation_id": automation.id,
            },
            origin=origin(automation.id),
            dedupe_key=f"{evaluator_id}:{log.id}",
        )
        for log in logs
        if sampled(automation.id, log.unique_id, rate)
        for evaluator_id in evaluator_ids
    ]


def backfill(
    engine: Engine, org_id: int, automation_key: str, since: datetime, batch: int = 500
) -> Iterator[tuple[int, int, int]]:
    """Queue the automation's evaluations of the complete logs stored since `since`, batch
    by batch; yields (logs seen, of how many, jobs queued so far). Jobs are keyed by
    evaluator and log, so a second run (after an interruption) queues only what is missing."""
    with engine.connect() as conn:
        automation = store.by_id_or_slug(conn, automations_table, org_id, automation_key)
        if automation is None:
            raise NotFound("Automation not found")
        if automation.condition_id:
            automation = conn.execute(store.with_policy(automation.id)).first()
        evaluator_ids = [
            r.id for r in conn.execute(store.automatic_evaluators(org_id, automation.evaluator_ids))
        ]
        total = store.completed_count(conn, org_id, since)
    seen, queued, after = 0, 0, 0
    scope = _scope(automation, org_id)
    while True:
        with begin_write(engine) as conn:
            logs = conn.execute(store.completed_since(org_id, since, after, batch, scope)).all()
            page = conn.execute(store.completed_since(org_id, since, after, batch, None)).all()
            new = _evaluations(org_id, automation, evaluator_ids, logs)
            jobs.enqueue(conn, new, utcnow())
        if not page:
            return
        seen, queued, after = seen + len(page), queued + len(new), page[-1].id
        yield seen, total, queued


def _scope(automation: Row, org_id: int) -> ColumnElement[bool] | None:
    """Which logs the automation judges: its condition's, or its monitored File's."""
    if automation.file_id is not None:
        return store.of_file(automation.file_id)
    return compile_filter(conditions.to_filters(automation.policy), org_id)


events.subscribe(
    events.LogsCompleted, queue_evaluations, budget=0.1, gate=store.enabled_automations
)
