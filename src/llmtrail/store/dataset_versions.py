"""Queries over datasets as the Humanloop dialect sees them: versions and the rows each holds.

Version N of a dataset holds the rows added in a version up to N and not removed by N
(`store.datasets` and `core.datasets` describe the model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select

from llmtrail.store.tables import dataset_logs, dataset_versions, datasets

SORTS = {"created_at": datasets.c.created_at, "updated_at": datasets.c.updated_at}
SORTS["name"] = datasets.c.name


def in_version(dataset_id: str, number: int) -> ColumnElement[bool]:
    """The rows version `number` of the dataset holds."""
    return and_(
        dataset_logs.c.dataset_id == dataset_id,
        dataset_logs.c.added_in <= number,
        or_(dataset_logs.c.removed_in.is_(None), dataset_logs.c.removed_in > number),
    )


def lock(conn: Connection, dataset_id: str) -> None:
    """Hold the dataset row until the transaction ends: versions are numbered one after the
    other (PostgreSQL; SQLite's write transaction holds the whole database already)."""
    conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id).with_for_update())


def versions(conn: Connection, dataset_id: str) -> list[Row]:
    """The dataset's versions, oldest first."""
    query = select(dataset_versions).where(dataset_versions.c.dataset_id == dataset_id)
    return conn.execute(query.order_by(dataset_versions.c.number)).all()


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


def name_taken(conn: Connection, dataset_id: str, version_name: str) -> bool:
    query = select(dataset_versions.c.id).where(
        dataset_versions.c.dataset_id == dataset_id,
        dataset_versions.c.version_name == version_name,
    )
    return conn.execute(query).first() is not None


def insert_version(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(dataset_versions.insert().values(**row))


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
