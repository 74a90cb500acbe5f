"""Queries over datasets as the Humanloop dialect reads them, beside `store.datasets`: the
newest version of many datasets at once, a version by id or name, rows a page at a time,
and naming or deleting a version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, delete, exists, func, select, update

from llmtrail.store.datasets import latest
from llmtrail.store.tables import dataset_logs, dataset_versions, datasets, evaluation_runs

SORTS = {"created_at": datasets.c.created_at, "updated_at": datasets.c.updated_at}
SORTS["name"] = datasets.c.name


def lock(conn: Connection, dataset_id: str) -> None:
    """Hold the dataset row until the transaction ends: versions are numbered one after the
    other (PostgreSQL; SQLite's write transaction holds the whole database already)."""
    conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id).with_for_update())


def newest(conn: Connection, dataset_ids: Sequence[str]) -> dict[str, Row]:
    """Each dataset's newest version, for those that have one, in one query."""
    if not dataset_ids:
        return {}
    top = (
        select(dataset_versions.c.dataset_id, func.max(dataset_versions.c.number).label("n"))
        .where(dataset_versions.c.dataset_id.in_(list(dataset_ids)))
        .group_by(dataset_versions.c.dataset_id)
        .subquery()
    )
    query = select(dataset_versions).join(
        top,
        and_(
            dataset_versions.c.dataset_id == top.c.dataset_id,
            dataset_versions.c.number == top.c.n,
        ),
    )
    return {row.dataset_id: row for row in conn.execute(query)}


def find_version(conn: Connection, dataset_id: str, version_id: str) -> Row | None:
    query = select(dataset_versions).where(
        dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.id == version_id
    )
    return conn.execute(query).first()


def name_taken(
    conn: Connection, dataset_id: str, version_name: str, besides: str | None = None
) -> bool:
    """Whether a version of the dataset (but `besides`) has the name."""
    query = select(dataset_versions.c.id).where(
        dataset_versions.c.dataset_id == dataset_id,
        dataset_versions.c.version_name == version_name,
    )
    if besides is not None:
        query = query.where(dataset_versions.c.id != besides)
    return conn.execute(query).first() is not None


def update_version(conn: Connection, version_id: str, values: dict[str, Any]) -> None:
    query = update(dataset_versions).where(dataset_versions.c.id == version_id)
    conn.execute(query.values(**values))


def runs_over(conn: Connection, org_id: int, version_id: str) -> list[str]:
    """The ids of the Evaluation Runs over this version, oldest first."""
    runs = evaluation_runs.c
    query = select(runs.id).where(runs.org_id == org_id, runs.dataset_version_id == version_id)
    return list(conn.scalars(query.order_by(runs.created_at, runs.id)))


def drop_version(conn: Connection, version: Row) -> None:
    """Delete a version and keep every other as it was, and the dataset as it is now. Rows
    hold the versions numbered `added_in` up to `removed_in`, so the others need no change,
    but: when it was the newest, its changes and those made since are renumbered as made
    after the newest left (uncommitted: the next version, numbered from there, holds exactly
    the current rows); and the rows no version left holds, and not current, go."""
    conn.execute(delete(dataset_versions).where(dataset_versions.c.id == version.id))
    rows, numbers = dataset_logs.c, dataset_versions.c
    mine = rows.dataset_id == version.dataset_id
    after = latest(conn, version.dataset_id) + 1
    if version.number >= after:
        conn.execute(update(dataset_logs).where(mine, rows.added_in > after).values(added_in=after))
        later = rows.removed_in > after
        conn.execute(update(dataset_logs).where(mine, later).values(removed_in=after))
    held = exists().where(
        numbers.dataset_id == version.dataset_id,
        numbers.number >= rows.added_in,
        numbers.number < rows.removed_in,
    )
    conn.execute(delete(dataset_logs).where(mine, rows.removed_in.is_not(None), ~held))


def count(conn: Connection, where: ColumnElement[bool]) -> int:
    return conn.scalar(select(func.count()).select_from(dataset_logs).where(where)) or 0


def rows(
    conn: Connection, where: ColumnElement[bool], offset: int = 0, limit: int | None = None
) -> list[Row]:
    """The matching rows in the order they were added."""
    query = select(dataset_logs).where(where).order_by(dataset_logs.c.id).offset(offset)
    return conn.execute(query.limit(limit) if limit is not None else query).all()


def datasets_page(
    conn: Connection,
    org_id: int,
    name: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[Row]]:
    """(total, one page) of the organization's datasets whose name holds `name` (any case)."""
    where = datasets.c.org_id == org_id
    if name:
        where = and_(where, datasets.c.name.icontains(name, autoescape=True))
    total = conn.scalar(select(func.count()).select_from(datasets).where(where)) or 0
    column = SORTS[sort]
    order = [column.desc(), datasets.c.id.desc()] if descending else [column, datasets.c.id]
    query = select(datasets).where(where).order_by(*order).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def find_by_path(conn: Connection, org_id: int, path: str) -> Row | None:
    query = select(datasets).where(datasets.c.org_id == org_id, datasets.c.path == path)
    return conn.execute(query).first()
