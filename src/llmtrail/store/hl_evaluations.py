"""Queries over the Humanloop Evaluation tables: Evaluations, their Evaluators, Runs, the
Evaluations showing each Run, and the Logs of each Run; and the per-Run, per-Evaluator
aggregates of the scores of those Logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, case, delete, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.tables import (
    dataset_logs,
    dataset_versions,
    evaluation_evaluators,
    evaluation_run_logs,
    evaluation_run_members,
    evaluation_runs,
    evaluations,
    evaluators,
    logs,
    scores,
)

INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _insert_new(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows; one whose key is stored already is left as it is."""
    if rows:
        statement = INSERT[conn.dialect.name](table).on_conflict_do_nothing()
        conn.execute(statement, list(rows))


# Evaluations


def insert_evaluation(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(evaluations.insert().values(**row))


def get_evaluation(conn: Connection, org_id: int, evaluation_id: str) -> Row | None:
    query = select(evaluations).where(
        evaluations.c.org_id == org_id, evaluations.c.id == evaluation_id
    )
    return conn.execute(query).first()


def name_taken(conn: Connection, file_id: str, name: str) -> bool:
    query = select(evaluations.c.id).where(
        evaluations.c.file_id == file_id, evaluations.c.name == name
    )
    return conn.execute(query).first() is not None


def evaluations_page(
    conn: Connection, org_id: int, file_id: str, offset: int, limit: int
) -> tuple[int, list[Row]]:
    """(total, one page newest first) of a File's Evaluations."""
    where = and_(evaluations.c.org_id == org_id, evaluations.c.file_id == file_id)
    total = conn.scalar(select(func.count()).select_from(evaluations).where(where)) or 0
    query = (
        select(evaluations)
        .where(where)
        .order_by(evaluations.c.created_at.desc(), evaluations.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, conn.execute(query).all()


def touch(conn: Connection, evaluation_id: str, now: Any) -> None:
    conn.execute(
        update(evaluations).where(evaluations.c.id == evaluation_id).values(updated_at=now)
    )


def delete_evaluation(conn: Connection, evaluation_id: str) -> list[str]:
    """Delete it; returns the ids of the Runs no other Evaluation shows, deleted with it."""
    members = evaluation_run_members.c
    runs = list(conn.scalars(select(members.run_id).where(members.evaluation_id == evaluation_id)))
    conn.execute(delete(evaluation_run_members).where(members.evaluation_id == evaluation_id))
    conn.execute(
        delete(evaluation_evaluators).where(evaluation_evaluators.c.evaluation_id == evaluation_id)
    )
    conn.execute(delete(evaluations).where(evaluations.c.id == evaluation_id))
    shown = set(conn.scalars(select(members.run_id).where(members.run_id.in_(runs))))
    orphans = [r for r in runs if r not in shown]
    delete_runs(conn, orphans)
    return orphans


def delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    if run_ids:
        ids = list(run_ids)
        conn.execute(delete(evaluation_run_logs).where(evaluation_run_logs.c.run_id.in_(ids)))
        conn.execute(delete(evaluation_runs).where(evaluation_runs.c.id.in_(ids)))


# Their Evaluators


def evaluators_of(conn: Connection, evaluation_ids: Sequence[str]) -> list[Row]:
    """The Evaluators of these Evaluations, in the order they were added, each with the
    evaluator it is (its kind, value type and definition; null once deleted)."""
    if not evaluation_ids:
        return []
    e = evaluation_evaluators.c
    query = (
        select(
            evaluation_evaluators,
            evaluators.c.kind,
            evaluators.c.value_type,
            evaluators.c.definition,
        )
        .outerjoin(evaluators, evaluators.c.id == e.evaluator_id)
        .where(e.evaluation_id.in_(list(evaluation_ids)))
        .order_by(e.position, e.evaluator_id)
    )
    return conn.execute(query).all()


def add_evaluators(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add them; an Evaluator the Evaluation has already keeps its version."""
    _insert_new(conn, evaluation_evaluators, rows)


def remove_evaluator(conn: Connection, evaluation_id: str, key: str) -> int:
    """Remove the Evaluator named by its version id (or its File id)."""
    e = evaluation_evaluators.c
    named = (e.version_id == key) | (e.evaluator_id == key)
    query = delete(evaluation_evaluators).where(e.evaluation_id == evaluation_id, named)
    return conn.execute(query).rowcount


# Runs


def insert_run(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(evaluation_runs.insert().values(**row))


def get_run(conn: Connection, org_id: int, run_id: str) -> Row | None:
    query = select(evaluation_runs).where(
        evaluation_runs.c.org_id == org_id, evaluation_runs.c.id == run_id
    )
    return conn.execute(query).first()


def runs_of(conn: Connection, evaluation_id: str) -> list[Row]:
    """The Runs an Evaluation shows, newest first, with when each was added and whether it is
    the control."""
    m = evaluation_run_members.c
    query = (
        select(evaluation_runs, m.control, m.added_at)
        .join(evaluation_run_members, m.run_id == evaluation_runs.c.id)
        .where(m.evaluation_id == evaluation_id)
        .order_by(evaluation_runs.c.created_at.desc(), evaluation_runs.c.id.desc())
    )
    return conn.execute(query).all()


def run_counts(conn: Connection, evaluation_ids: Sequence[str]) -> dict[str, int]:
    if not evaluation_ids:
        return {}
    m = evaluation_run_members.c
    query = (
        select(m.evaluation_id, func.count())
        .where(m.evaluation_id.in_(list(evaluation_ids)))
        .group_by(m.evaluation_id)
    )
    return {key: n for key, n in conn.execute(query)}


def add_member(conn: Connection, row: dict[str, Any]) -> None:
    _insert_new(conn, evaluation_run_members, [row])


def remove_member(conn: Connection, evaluation_id: str, run_id: str) -> int:
    m = evaluation_run_members.c
    query = delete(evaluation_run_members).where(
        m.evaluation_id == evaluation_id, m.run_id == run_id
    )
    return conn.execute(query).rowcount


def shown_anywhere(conn: Connection, run_id: str) -> bool:
    m = evaluation_run_members.c
    return conn.execute(select(m.run_id).where(m.run_id == run_id).limit(1)).first() is not None


def set_control(conn: Connection, evaluation_id: str, run_id: str) -> None:
    """Make the Run the Evaluation's one control."""
    m = evaluation_run_members.c
    conn.execute(
        update(evaluation_run_members)
        .where(m.evaluation_id == evaluation_id)
        .values(control=m.run_id == run_id)
    )


def update_run(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(update(evaluation_runs).where(evaluation_runs.c.id == run_id).values(**values))


def start_runs(conn: Connection, run_ids: Sequence[str], now: Any) -> None:
    """Runs that were pending are running once they have a Log."""
    conn.execute(
        update(evaluation_runs)
        .where(evaluation_runs.c.id.in_(list(run_ids)), evaluation_runs.c.status == "pending")
        .values(status="running", updated_at=now)
    )


def evaluations_of_runs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[str]]:
    """run id -> the Evaluations that show it."""
    m = evaluation_run_members.c
    out: dict[str, list[str]] = {}
    for run_id, evaluation_id in conn.execute(
        select(m.run_id, m.evaluation_id).where(m.run_id.in_(list(run_ids)))
    ):
        out.setdefault(run_id, []).append(evaluation_id)
    return out


# The Logs of Runs


def add_run_logs(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Attach Logs to Runs; a Log a Run has already stays once."""
    _insert_new(conn, evaluation_run_logs, rows)


def complete_run_logs(run_ids: Sequence[str] = (), log_ids: Sequence[int] = ()) -> Select:
    """The complete Logs of these Runs (of any Run, with no `run_ids`), these ones only if
    `log_ids` are given (run, key, id, Datapoint): those to judge."""
    r = evaluation_run_logs.c
    which = and_(
        r.run_id.in_(list(run_ids)) if run_ids else true(),
        r.log_id.in_(list(log_ids)) if log_ids else true(),
    )
    return (
        select(r.run_id, r.log_id, r.log_unique_id, r.datapoint_id)
        .join(logs, logs.c.id == r.log_id)
        .where(which, logs.c.log_status != "incomplete")
        .order_by(r.log_id, r.run_id)
    )


def any_open_run(org_id: int) -> Select:
    """One Run of the organization still pending or running as stored, if any: without
    one, no new complete Log can be a Run's to judge."""
    runs = evaluation_runs.c
    return (
        select(runs.id)
        # Each state its own test, not an IN list: the writer's gate (`core/events.py`) runs
        # this through the driver, which compiles it once and cannot expand a list.
        .where(runs.org_id == org_id, or_(runs.status == "pending", runs.status == "running"))
        .limit(1)
    )


def runs_evaluators(run_ids: Sequence[str]) -> Select:
    """(run, Evaluator and its kind, whether it is orchestrated) of every Evaluation showing
    these Runs."""
    m, e = evaluation_run_members.c, evaluation_evaluators.c
    return (
        select(m.run_id, e.evaluator_id, e.orchestrated, evaluators.c.kind)
        .join(evaluation_evaluators, e.evaluation_id == m.evaluation_id)
        .join(evaluators, evaluators.c.id == e.evaluator_id)
        .where(m.run_id.in_(list(run_ids)))
    )


def runs_datapoints(run_ids: Sequence[str], datapoint_ids: Sequence[str]) -> Select:
    """(run, the Datapoint rows of its Dataset with these ids), newest row last."""
    runs, d = evaluation_runs.c, dataset_logs.c
    return (
        select(runs.id.label("run_id"), dataset_logs)
        .join(dataset_logs, d.dataset_id == runs.dataset_id)
        .where(runs.id.in_(list(run_ids)), d.unique_id.in_(list(datapoint_ids)))
        .order_by(d.id)
    )


def run_logs_page(
    conn: Connection, run_ids: Sequence[str], offset: int, limit: int
) -> tuple[int, list[Row]]:
    """(total, one page oldest first) of the Logs of these Runs."""
    r = evaluation_run_logs.c
    where = r.run_id.in_(list(run_ids))
    base = select(evaluation_run_logs).join(logs, logs.c.id == r.log_id).where(where)
    total = conn.scalar(select(func.count()).select_from(base.subquery())) or 0
    query = base.order_by(r.added_at, r.log_id, r.run_id).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def log_counts(conn: Connection, run_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """run id -> (its Logs, the distinct Datapoints they were made from)."""
    if not run_ids:
        return {}
    r = evaluation_run_logs.c
    query = (
        select(r.run_id, func.count(), func.count(r.datapoint_id.distinct()))
        .join(logs, logs.c.id == r.log_id)
        .where(r.run_id.in_(list(run_ids)))
        .group_by(r.run_id)
    )
    return {run_id: (n, points) for run_id, n, points in conn.execute(query)}


def logs_of_version(
    conn: Connection, org_id: int, version_id: str, datapoint_ids: Sequence[str]
) -> list[Row]:
    """The Logs of a File version made from one of these Datapoints (`source_datapoint_id`,
    kept in their `extra`)."""
    if not datapoint_ids:
        return []
    source = logs.c.extra["source_datapoint_id"].as_string()
    query = select(logs.c.id, logs.c.unique_id, source.label("datapoint_id")).where(
        logs.c.org_id == org_id,
        logs.c.version_id == version_id,
        source.in_(list(datapoint_ids)),
    )
    return conn.execute(query).all()


# What the scores of those Logs add up to


def _judged(run_ids: Sequence[str], evaluator_ids: Sequence[str]) -> Any:
    r = evaluation_run_logs.c
    return (
        select(scores, r.run_id)
        .join(evaluation_run_logs, r.log_id == scores.c.log_id)
        .where(r.run_id.in_(list(run_ids)), scores.c.evaluator_id.in_(list(evaluator_ids)))
        .subquery()
    )


def aggregates(conn: Connection, run_ids: Sequence[str], evaluator_ids: Sequence[str]) -> list[Row]:
    """Per (Run, Evaluator): its scores on the Run's Logs (errors and nulls included), the
    errors, the nulls (no value, no error), and over the values: their count, sum, mean and
    mean square, and the true and false booleans."""
    if not run_ids or not evaluator_ids:
        return []
    s = _judged(run_ids, evaluator_ids).c
    ok = s.error.is_(None)
    valued = ok & (
        s.numerical_value.isnot(None)
        | s.boolean_value.isnot(None)
        | s.string_value.isnot(None)
        | s.categorical_value.isnot(None)
        | s.json_value.isnot(None)
    )
    number = case((ok, s.numerical_value))
    query = select(
        s.run_id,
        s.evaluator_id,
        func.count().label("total"),
        func.count(s.error).label("errors"),
        func.sum(case((valued, 1), else_=0)).label("judgments"),
        func.count(number).label("numbers"),
        func.sum(number).label("sum"),
        func.avg(number).label("mean"),
        func.avg(number * number).label("mean_square"),
        func.sum(case((ok & s.boolean_value.is_(True), 1), else_=0)).label("trues"),
        func.sum(case((ok & s.boolean_value.is_(False), 1), else_=0)).label("falses"),
    ).group_by(s.run_id, s.evaluator_id)
    return conn.execute(query).all()


def values(
    conn: Connection, run_ids: Sequence[str], evaluator_ids: Sequence[str], column: str
) -> list[Row]:
    """(run, evaluator, value) of the scores that hold a value in `column`, in order of it:
    for percentiles and per-option counts."""
    if not run_ids or not evaluator_ids:
        return []
    s = _judged(run_ids, evaluator_ids).c
    value = s[column]
    query = (
        select(s.run_id, s.evaluator_id, value.label("value"))
        .where(s.error.is_(None), value.isnot(None))
        .order_by(s.run_id, s.evaluator_id, value if column == "numerical_value" else s.id)
    )
    return conn.execute(query).all()


# The Datasets Runs snapshot


def dataset_version(conn: Connection, org_id: int, version_id: str) -> Row | None:
    """A Dataset version by its id alone (a Run names it so)."""
    query = select(dataset_versions).where(
        dataset_versions.c.org_id == org_id, dataset_versions.c.id == version_id
    )
    return conn.execute(query).first()


def datapoint_rows(conn: Connection, dataset_id: str, unique_ids: Sequence[str]) -> dict[str, Row]:
    """The Dataset's rows with these Datapoint ids, whether or not it holds them now (a Run
    keeps the version it was made over): the newest row of each."""
    if not unique_ids:
        return {}
    query = (
        select(dataset_logs)
        .where(
            dataset_logs.c.dataset_id == dataset_id, dataset_logs.c.unique_id.in_(list(unique_ids))
        )
        .order_by(dataset_logs.c.id)
    )
    return {row.unique_id: row for row in conn.execute(query)}
