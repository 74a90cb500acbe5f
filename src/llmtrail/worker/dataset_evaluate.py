"""Running an evaluator on one dataset log for an evaluation run: the `dataset_evaluate`
job kind, the same steps as online evaluation (`worker/evaluate.py`): the evaluator runs in
the job's `run` step, outside any transaction, and its result is written in the `commit`
step, once per (run, evaluator, log) however often the job runs. A dataset log's `target`,
when it has one, is the ideal output the evaluator compares with.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine, Row, select

from llmtrail.core import evaluators, jobs, scores
from llmtrail.core.dataset_evals import EVALUATE_DATASET
from llmtrail.core.scoring import Outcome
from llmtrail.store import dataset_evals as store
from llmtrail.store import datasets as dataset_store
from llmtrail.store import evaluation
from llmtrail.store.tables import dataset_eval_reports
from llmtrail.store.tables import evaluators as evaluators_table
from llmtrail.worker.evaluate import inputs_of, run_definition


def _run(engine: Engine, batch: list[Row]) -> list[Any]:
    """Each job's outcome; `Cancelled` when its run, evaluator or log is gone by now."""
    with engine.connect() as conn:
        logs = {row.id: row for row in dataset_store.by_ids(conn, _each(batch, "dataset_log_id"))}
        wanted = _each(batch, "report_id")
        reports = set(
            conn.scalars(
                select(dataset_eval_reports.c.id).where(dataset_eval_reports.c.id.in_(wanted))
            )
        )
        named: dict[tuple[int, str], Row] = {}
        for org_id in {job.org_id for job in batch}:
            ids = (j.payload["evaluator_id"] for j in batch if j.org_id == org_id)
            found = evaluation.many_by_id(conn, evaluators_table, org_id, ids)
            named |= {(org_id, key): row for key, row in found.items()}
    results: list[Any] = []
    for job in batch:
        payload = job.payload
        evaluator = named.get((job.org_id, payload["evaluator_id"]))
        log = logs.get(payload["dataset_log_id"])
        if payload["report_id"] not in reports or evaluator is None or log is None:
            results.append(jobs.Cancelled(payload["report_id"]))
            continue
        inputs = inputs_of(log)
        if log.target is not None:
            inputs = replace(inputs, ideal_output=log.target)
        try:
            results.append(
                (evaluator, log, run_definition(evaluators.definition_of(evaluator), inputs))
            )
        except Exception as exc:  # Transient, or a fault: retried with backoff
            results.append(exc)
    return results


def _each(batch: list[Row], name: str) -> list[Any]:
    return list(dict.fromkeys(job.payload[name] for job in batch))


def _commit(conn: Connection, job: Row, outcome: tuple[Row, Row, Outcome]) -> None:
    evaluator, log, result = outcome
    row = scores.new_row(job.org_id, log, evaluator, result, source=EVALUATE_DATASET)
    for name in ("id", "source", "source_log_id", "updated_at"):
        del row[name]
    row["dataset_log_id"] = row.pop("log_id")
    row["report_id"] = job.payload["report_id"]
    store.insert_results(conn, [row])


jobs.register(EVALUATE_DATASET, commit=_commit, run=_run)
