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

from sqlalchemy import ColumnElement

from llmtrail.core import conditions, events, jobs
from llmtrail.core.automations import origin, sampled
from llmtrail.store import evaluation as store
from llmtrail.store.filtering import compile_filter

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
        if not evaluator_ids:
            continue
        rate = float(automation.configuration.get("sampling_rate", 1.0))
        for log in tx.read(store.logs_among(org_id, event.log_ids, _scope(automation, org_id))):
            if not sampled(automation.id, log.unique_id, rate):
                continue
            new += [
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
                for evaluator_id in evaluator_ids
            ]
    if new:
        tx.enqueue(new)


def _scope(automation, org_id: int) -> ColumnElement[bool] | None:  # type: ignore[no-untyped-def]
    """Which logs the automation judges: its condition's, or its monitored File's."""
    if automation.file_id is not None:
        return store.of_file(automation.file_id)
    return compile_filter(conditions.to_filters(automation.policy), org_id)


events.subscribe(events.LogsCompleted, queue_evaluations, budget=0.1)
