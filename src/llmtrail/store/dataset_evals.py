"""Queries over `dataset_eval_reports` and `dataset_eval_results`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store import jobs as job_store
from llmtrail.store.driver import execute_many
from llmtrail.store.tables import dataset_eval_reports, dataset_eval_results

_RESULT_COLUMNS = tuple(c.name for c in dataset_eval_results.c if c.name != "id")
# A result already stored (the job ran twice) stays as it is: one per evaluator and log.
_INSERT_RESULTS = {
    dialect: insert(dataset_eval_results)
    .values({name: bindparam(name) for name in _RESULT_COLUMNS})
    .on_conflict_do_nothing(index_elements=["report_id", "evaluator_id", "dataset_log_id"])
    for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def insert_report(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(dataset_eval_reports.insert().values(**row))


def get_report(conn: Connection, org_id: int, dataset_id: str, report_id: str) -> Row | None:
    query = select(dataset_eval_reports).where(
        dataset_eval_reports.c.org_id == org_id,
        dataset_eval_reports.c.dataset_id == dataset_id,
        dataset_eval_reports.c.id == report_id,
    )
    return conn.execute(query).first()


def page(
    conn: Connection, org_id: int, dataset_id: str, offset: int, limit: int
) -> tuple[int, list[Row]]:
    """(total, one page newest first) of a dataset's runs."""
    where = (dataset_eval_reports.c.org_id == org_id) & (
        dataset_eval_reports.c.dataset_id == dataset_id
    )
    total = conn.scalar(select(func.count()).select_from(dataset_eval_reports).where(where)) or 0
    order = (dataset_eval_reports.c.created_at.desc(), dataset_eval_reports.c.id.desc())
    query = select(dataset_eval_reports).where(where).order_by(*order).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def insert_results(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    execute_many(conn, _INSERT_RESULTS[conn.dialect.name], rows)


def results(conn: Connection, report_id: str) -> list[Row]:
    query = select(dataset_eval_results).where(dataset_eval_results.c.report_id == report_id)
    return conn.execute(query.order_by(dataset_eval_results.c.id)).all()


def result_counts(conn: Connection, report_ids: Sequence[str]) -> dict[str, int]:
    """How many results each run has stored, in one query."""
    if not report_ids:
        return {}
    query = (
        select(dataset_eval_results.c.report_id, func.count())
        .where(dataset_eval_results.c.report_id.in_(list(report_ids)))
        .group_by(dataset_eval_results.c.report_id)
    )
    return {key: n for key, n in conn.execute(query)}


def ended_early(conn: Connection, org_id: int, origins: Sequence[str]) -> set[str]:
    """Which of these origins have a job that gave up or was cancelled."""
    return set(job_store.ended_early(conn, org_id, origins))
