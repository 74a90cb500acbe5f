"""Queries over evaluators, scores, conditions and automations, scoped to one organization."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from llmtrail.store.driver import execute_many, one_of
from llmtrail.store.tables import automations, conditions, evaluators, jobs, logs, scores

# Objects an organization names by id or by slug.
NAMED = {"evaluators": evaluators, "conditions": conditions, "automations": automations}


def by_id_or_slug(conn: Connection, table: Table, org_id: int, key: str) -> Row | None:
    query = select(table).where(
        table.c.org_id == org_id, or_(table.c.id == key, table.c.slug == key)
    )
    return conn.execute(query.order_by((table.c.id == key).desc()).limit(1)).first()


def many_by_id(conn: Connection, table: Table, org_id: int, ids: Iterable[str]) -> dict[str, Row]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    query = select(table).where(table.c.org_id == org_id, table.c.id.in_(wanted))
    return {row.id: row for row in conn.execute(query)}


def page_of(
    conn: Connection,
    table: Table,
    org_id: int,
    offset: int,
    limit: int,
    *,
    search: str | None = None,
    equal: dict[str, Any] | None = None,
) -> tuple[int, list[Row]]:
    """(total, one page newest first) of the organization's rows; `search` is a substring of
    the name or slug, `equal` column values to match."""
    clauses: list[ColumnElement[bool]] = [table.c.org_id == org_id]
    if search:
        clauses.append(
            or_(
                table.c.name.icontains(search, autoescape=True),
                table.c.slug.icontains(search, autoescape=True),
            )
        )
    for column, value in (equal or {}).items():
        clauses.append(table.c[column] == value)
    where = and_(*clauses)
    total = conn.scalar(select(func.count()).select_from(table).where(where)) or 0
    query = select(table).where(where).order_by(table.c.created_at.desc(), table.c.id.desc())
    return total, conn.execute(query.offset(offset).limit(limit)).all()


def insert(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    conn.execute(table.insert().values(**row))


def update_row(conn: Connection, table: Table, org_id: int, row_id: str, **values: Any) -> None:
    conn.execute(
        update(table).where(table.c.org_id == org_id, table.c.id == row_id).values(**values)
    )


def delete_row(conn: Connection, table: Table, org_id: int, row_id: str) -> None:
    conn.execute(delete(table).where(table.c.org_id == org_id, table.c.id == row_id))


# --- scores -------------------------------------------------------------------------------

_NEW_SCORE = {
    "sqlite": lambda: sqlite.insert(scores),
    "postgresql": lambda: postgresql.insert(scores),
}


def add_score(conn: Connection, row: dict[str, Any], *, replace: bool = False) -> bool:
    """Store a score; False when the evaluator already scored the log (unless `replace`,
    which overwrites it: a Humanloop judgment logged again)."""
    statement = _NEW_SCORE[conn.dialect.name]().values(**row)
    key = [scores.c.org_id, scores.c.evaluator_id, scores.c.log_id]
    if replace:
        kept = {"id", "created_at"}
        changed = {k: statement.excluded[k] for k in row if k not in kept}
        statement = statement.on_conflict_do_update(index_elements=key, set_=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key)
    # RETURNING, not rowcount: psycopg reports no count for an INSERT ... ON CONFLICT here.
    return conn.execute(statement.returning(scores.c.id)).first() is not None


_SCORE_COLUMNS = tuple(c.name for c in scores.c)
_INSERT_SCORES = {
    dialect: insert(scores)
    .values({name: bindparam(name) for name in _SCORE_COLUMNS})
    .on_conflict_do_nothing(index_elements=["org_id", "evaluator_id", "log_id"])
    for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def insert_scores(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store scores, skipping those whose evaluator already scored the log: one statement
    for a worker's batch, compiled once."""
    execute_many(conn, _INSERT_SCORES[conn.dialect.name], rows)


def scores_of(conn: Connection, org_id: int, log_ids: Sequence[int]) -> dict[int, list[Row]]:
    """The scores of these logs (by primary key), oldest first: in one statement on
    PostgreSQL, for a 20,000-span trace too; SQLite takes 500 bound values at a time.

    The statement finds them by `log_id` alone and the organization is checked on each row
    here: given `org_id = ?` too, SQLite walks the organization's whole (org, evaluator,
    value) index instead of looking the logs up (measured: a logs page at a million logs
    and 50,000 scores, 58 ms)."""
    found: dict[int, list[Row]] = {}
    ids = list(dict.fromkeys(log_ids))
    step = max(len(ids), 1) if conn.dialect.name == "postgresql" else 500
    for start in range(0, len(ids), step):
        query = (
            select(scores)
            .where(one_of(conn, scores.c.log_id, ids[start : start + step]))
            .order_by(scores.c.created_at, scores.c.id)
        )
        for row in conn.execute(query):
            if row.org_id == org_id:
                found.setdefault(row.log_id, []).append(row)
    return found


# One statement for any number of judgments; the (org, evaluator, log) index finds each.
_GIVEN_BY = delete(scores).where(
    scores.c.org_id == bindparam("org"),
    scores.c.evaluator_id == bindparam("evaluator"),
    scores.c.source_log_id == bindparam("source"),
)


def delete_given_by(conn: Connection, org_id: int, given: Iterable[tuple[str, str]]) -> None:
    """Delete the scores that these logs gave, as (evaluator id, log unique id) pairs."""
    params = [{"org": org_id, "evaluator": e, "source": s} for e, s in given]
    execute_many(conn, _GIVEN_BY, params)


def score(conn: Connection, org_id: int, score_id: str) -> Row | None:
    query = select(scores).where(scores.c.org_id == org_id, scores.c.id == score_id)
    return conn.execute(query).first()


def score_page(
    conn: Connection,
    org_id: int,
    offset: int,
    limit: int,
    *,
    log_id: int | None = None,
    evaluator_id: str | None = None,
) -> tuple[int, list[Row]]:
    clauses = [scores.c.org_id == org_id]
    if log_id is not None:
        clauses.append(scores.c.log_id == log_id)
    if evaluator_id is not None:
        clauses.append(scores.c.evaluator_id == evaluator_id)
    where = and_(*clauses)
    total = conn.scalar(select(func.count()).select_from(scores).where(where)) or 0
    query = select(scores).where(where).order_by(scores.c.created_at.desc(), scores.c.id.desc())
    return total, conn.execute(query.offset(offset).limit(limit)).all()


def update_score(conn: Connection, org_id: int, score_id: str, **values: Any) -> None:
    conn.execute(
        update(scores).where(scores.c.org_id == org_id, scores.c.id == score_id).values(**values)
    )


def delete_score(conn: Connection, org_id: int, score_id: str) -> None:
    conn.execute(delete(scores).where(scores.c.org_id == org_id, scores.c.id == score_id))


def scored_by(org_id: int, evaluator: str) -> ColumnElement[bool]:
    """Scores of the evaluator named by id or slug (as a score filter or sort names it)."""
    named = select(evaluators.c.id).where(
        evaluators.c.org_id == org_id,
        or_(evaluators.c.id == evaluator, evaluators.c.slug == evaluator),
    )
    return and_(
        scores.c.org_id == org_id,
        or_(scores.c.evaluator_id.in_(named), scores.c.evaluator_id == evaluator),
    )


# --- automations --------------------------------------------------------------------------


def enabled_automations(org_id: int) -> Select:
    """The organization's enabled automations, each with its condition's policy
    (`policy`, None for a File monitor)."""
    return (
        select(automations, conditions.c.policy)
        .outerjoin(conditions, conditions.c.id == automations.c.condition_id)
        .where(automations.c.org_id == org_id, automations.c.is_enabled.is_(True))
    )


def automatic_evaluators(org_id: int, ids: Sequence[str]) -> Select:
    """Which of these evaluators run by themselves (all but the human ones)."""
    return select(evaluators.c.id).where(
        evaluators.c.org_id == org_id, evaluators.c.id.in_(list(ids)), evaluators.c.kind != "human"
    )


def automations_using_evaluator(conn: Connection, org_id: int, evaluator_id: str) -> list[Row]:
    """The organization's automations that list the evaluator (read whole: a JSON list)."""
    query = select(automations).where(automations.c.org_id == org_id)
    return [row for row in conn.execute(query) if evaluator_id in row.evaluator_ids]


def users_of_condition(conn: Connection, org_id: int, condition_id: str) -> list[str]:
    """The slugs of the automations that use a condition."""
    query = select(automations.c.slug).where(
        automations.c.org_id == org_id, automations.c.condition_id == condition_id
    )
    return list(conn.scalars(query))


def automation_of_file(conn: Connection, org_id: int, file_id: str) -> Row | None:
    query = select(automations).where(
        automations.c.org_id == org_id, automations.c.file_id == file_id
    )
    return conn.execute(query).first()


def with_policy(automation_id: str) -> Select:
    """An automation with its condition's policy, as `enabled_automations` gives them."""
    return (
        select(automations, conditions.c.policy)
        .outerjoin(conditions, conditions.c.id == automations.c.condition_id)
        .where(automations.c.id == automation_id)
    )


def _completed(org_id: int, since: Any) -> ColumnElement[bool]:
    return and_(
        logs.c.org_id == org_id,
        logs.c.timestamp >= since,
        or_(logs.c.log_status.is_(None), logs.c.log_status != "incomplete"),
    )


def completed_count(conn: Connection, org_id: int, since: Any) -> int:
    query = select(func.count()).select_from(logs).where(_completed(org_id, since))
    return conn.scalar(query) or 0


def completed_since(
    org_id: int, since: Any, after_id: int, limit: int, where: ColumnElement[bool] | None
) -> Select:
    """The next `limit` complete logs since `since` past `after_id`, by id, that pass `where`
    (each page is cut from the same id range, so the caller walks the whole window)."""
    window = (
        select(logs.c.id)
        .where(_completed(org_id, since), logs.c.id > after_id)
        .order_by(logs.c.id)
        .limit(limit)
    )
    clauses = [logs.c.id.in_(window.scalar_subquery())]
    if where is not None:
        clauses.append(where)
    return select(logs.c.id, logs.c.unique_id, logs.c.file_id).where(*clauses).order_by(logs.c.id)


def automations_of_files(conn: Connection, org_id: int, file_ids: Iterable[str]) -> dict[str, Row]:
    """The automation that monitors each of these Files, of those that have one."""
    wanted = list(dict.fromkeys(file_ids))
    if not wanted:
        return {}
    query = select(automations).where(
        automations.c.org_id == org_id, automations.c.file_id.in_(wanted)
    )
    return {row.file_id: row for row in conn.execute(query)}


def of_file(file_id: str) -> ColumnElement[bool]:
    return logs.c.file_id == file_id


def logs_among(org_id: int, log_ids: Sequence[int], where: ColumnElement[bool] | None) -> Select:
    """The SELECT of (id, unique_id) of these logs that also pass `where`."""
    clauses = [logs.c.org_id == org_id, logs.c.id.in_(list(log_ids))]
    if where is not None:
        clauses.append(where)
    return select(logs.c.id, logs.c.unique_id, logs.c.file_id).where(*clauses)


def cancel_pending_evaluations(conn: Connection, org_id: int, evaluator_id: str, now: Any) -> int:
    """Cancel the not-yet-started evaluation jobs of an evaluator, whoever queued them."""
    result = conn.execute(
        update(jobs)
        .where(
            jobs.c.org_id == org_id,
            jobs.c.state == "pending",
            jobs.c.dedupe_key.startswith(f"{evaluator_id}:", autoescape=True),
        )
        .values(state="cancelled", updated_at=now)
    )
    return result.rowcount


def cancel_pending(conn: Connection, org_id: int, origin: str, now: Any) -> int:
    """Cancel the jobs `origin` queued that no worker has started."""
    result = conn.execute(
        update(jobs)
        .where(jobs.c.org_id == org_id, jobs.c.origin == origin, jobs.c.state == "pending")
        .values(state="cancelled", updated_at=now)
    )
    return result.rowcount
