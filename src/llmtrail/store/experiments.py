"""Queries over `experiments`, their `experiment_columns`, `experiment_rows` and the
`experiment_results` of each column over each row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.tables import (
    experiment_columns,
    experiment_results,
    experiment_rows,
    experiments,
    scores,
)

# Starting a run over a cell replaces what an earlier run left there.
_START = {
    "sqlite": sqlite.insert(experiment_results),
    "postgresql": postgresql.insert(experiment_results),
}
_RESTARTED = ("id", "status", "log_id", "log_unique_id", "output", "error", "metrics", "ran_at")


def insert_experiment(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(experiments.insert().values(**row))


def get(conn: Connection, org_id: int, experiment_id: str) -> Row | None:
    query = select(experiments).where(
        experiments.c.org_id == org_id, experiments.c.id == experiment_id
    )
    return conn.execute(query).first()


def page(
    conn: Connection, org_id: int, offset: int, limit: int, name: str | None = None
) -> tuple[int, list[Row]]:
    """(total, one page newest first) of an organization's experiments (whose name holds
    `name`, if given)."""
    where = experiments.c.org_id == org_id
    if name:
        where &= experiments.c.name.contains(name, autoescape=True)
    total = conn.scalar(select(func.count()).select_from(experiments).where(where)) or 0
    order = (experiments.c.created_at.desc(), experiments.c.id.desc())
    query = select(experiments).where(where).order_by(*order).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def update_experiment(conn: Connection, experiment_id: str, **values: Any) -> None:
    conn.execute(update(experiments).where(experiments.c.id == experiment_id).values(**values))


def delete_experiment(conn: Connection, experiment_id: str) -> None:
    """The experiment, its columns, rows and results (by cascade); its logs stay."""
    conn.execute(delete(experiments).where(experiments.c.id == experiment_id))


def columns_of(conn: Connection, experiment_ids: Sequence[str]) -> list[Row]:
    """The experiments' columns, each experiment's in their order."""
    return _parts(conn, experiment_columns, experiment_ids)


def rows_of(
    conn: Connection, experiment_id: str, offset: int = 0, limit: int | None = None
) -> list[Row]:
    """An experiment's rows in their order (one page of them, with `limit`)."""
    query = (
        select(experiment_rows)
        .where(experiment_rows.c.experiment_id == experiment_id)
        .order_by(experiment_rows.c.position)
        .offset(offset)
        .limit(limit)
    )
    return conn.execute(query).all()


def _parts(conn: Connection, table: Table, experiment_ids: Sequence[str]) -> list[Row]:
    if not experiment_ids:
        return []
    query = (
        select(table)
        .where(table.c.experiment_id.in_(list(experiment_ids)))
        .order_by(table.c.experiment_id, table.c.position)
    )
    return conn.execute(query).all()


def row_counts(conn: Connection, experiment_ids: Sequence[str]) -> dict[str, int]:
    """How many rows each experiment has, in one query."""
    if not experiment_ids:
        return {}
    query = (
        select(experiment_rows.c.experiment_id, func.count())
        .where(experiment_rows.c.experiment_id.in_(list(experiment_ids)))
        .group_by(experiment_rows.c.experiment_id)
    )
    return {key: n for key, n in conn.execute(query)}


def next_position(conn: Connection, table: Table, experiment_id: str) -> int:
    """Where a part added now goes: after every one the experiment has."""
    last = conn.scalar(
        select(func.max(table.c.position)).where(table.c.experiment_id == experiment_id)
    )
    return 0 if last is None else last + 1


def existing(conn: Connection, table: Table, experiment_id: str, ids: Iterable[str]) -> set[str]:
    """Which of these columns (or rows: `table`) the experiment has."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    query = select(table.c.id).where(table.c.experiment_id == experiment_id, table.c.id.in_(wanted))
    return set(conn.scalars(query))


def insert_parts(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), list(rows))


def update_part(
    conn: Connection, table: Table, experiment_id: str, part_id: str, **values: Any
) -> None:
    conn.execute(
        update(table)
        .where(table.c.experiment_id == experiment_id, table.c.id == part_id)
        .values(**values)
    )


def delete_parts(conn: Connection, table: Table, experiment_id: str, ids: Sequence[str]) -> int:
    """Remove columns (or rows) and the results they had; returns how many went."""
    cell = experiment_results.c.column_id if table is experiment_columns else None
    cell = experiment_results.c.row_id if table is experiment_rows else cell
    assert cell is not None
    conn.execute(
        delete(experiment_results).where(
            experiment_results.c.experiment_id == experiment_id, cell.in_(list(ids))
        )
    )
    gone = conn.execute(
        delete(table).where(table.c.experiment_id == experiment_id, table.c.id.in_(list(ids)))
    )
    return gone.rowcount


def results_of(
    conn: Connection, experiment_id: str, row_ids: Sequence[str] | None = None
) -> list[Row]:
    """An experiment's results (of these rows only, if given)."""
    query = select(experiment_results).where(experiment_results.c.experiment_id == experiment_id)
    if row_ids is not None:
        query = query.where(experiment_results.c.row_id.in_(list(row_ids)))
    return conn.execute(query).all()


def cell_states(conn: Connection, experiment_ids: Sequence[str]) -> list[Row]:
    """The experiments' cells, what their state is read from (not their output)."""
    if not experiment_ids:
        return []
    c = experiment_results.c
    query = select(c.experiment_id, c.id, c.status, c.error).where(
        experiment_results.c.experiment_id.in_(list(experiment_ids))
    )
    return conn.execute(query).all()


def start_results(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Mark cells running under a new run id, replacing what an earlier run left."""
    if not rows:
        return
    insert = _START[conn.dialect.name]
    statement = insert.on_conflict_do_update(
        index_elements=["experiment_id", "row_id", "column_id"],
        set_={name: insert.excluded[name] for name in (*_RESTARTED, "updated_at")},
    )
    conn.execute(statement, list(rows))


def current(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (experiment id, result id) are still a cell's latest run."""
    if not keys:
        return set()
    pair = tuple_(experiment_results.c.experiment_id, experiment_results.c.id)
    query = select(experiment_results.c.experiment_id, experiment_results.c.id).where(
        pair.in_(list(keys))
    )
    return {(e, r) for e, r in conn.execute(query)}


def finish_result(conn: Connection, experiment_id: str, result_id: str, **values: Any) -> bool:
    """Record a run's outcome in its cell, unless a later run replaced it meanwhile."""
    done = conn.execute(
        update(experiment_results)
        .where(
            experiment_results.c.experiment_id == experiment_id,
            experiment_results.c.id == result_id,
        )
        .values(**values)
    )
    return done.rowcount == 1


def scores_of(
    conn: Connection, org_id: int, log_ids: Sequence[int], evaluator_ids: Sequence[str]
) -> list[Row]:
    """The scores these evaluators gave these logs."""
    if not log_ids or not evaluator_ids:
        return []
    query = select(scores).where(
        scores.c.org_id == org_id,
        scores.c.evaluator_id.in_(list(evaluator_ids)),
        scores.c.log_id.in_(list(log_ids)),
    )
    return conn.execute(query.order_by(scores.c.id)).all()


def touch(conn: Connection, experiment_id: str, now: datetime) -> None:
    update_experiment(conn, experiment_id, updated_at=now)
