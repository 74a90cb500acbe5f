"""Queries over `datasets`, `dataset_versions` and `dataset_logs`, scoped to one organization.

A dataset's current content is its rows with no `removed_in`; `latest` is the number of its
newest version (0 before the first). Copying logs in is one INSERT ... SELECT from `logs`,
so a hundred thousand logs never travel through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from llmtrail.store.tables import SNAPSHOT_COLUMNS, dataset_logs, dataset_versions, datasets, logs

# Sort keys of the dataset list (MCP's `sort_by`), newest first by default.
SORTS = {"created_at": datasets.c.created_at, "updated_at": datasets.c.updated_at}
SORTS["name"] = datasets.c.name
# Sort keys of a dataset's logs (`sort_by`, default `unique_id`).
LOG_SORTS = {
    "unique_id": dataset_logs.c.unique_id,
    "timestamp": dataset_logs.c.timestamp,
    "added_at": dataset_logs.c.added_at,
    "cost": dataset_logs.c.cost,
    "latency": dataset_logs.c.latency,
    "id": dataset_logs.c.id,
}


def get(conn: Connection, org_id: int, dataset_id: str) -> Row | None:
    query = select(datasets).where(datasets.c.org_id == org_id, datasets.c.id == dataset_id)
    return conn.execute(query).first()


def path_taken(conn: Connection, org_id: int, path: str) -> bool:
    query = select(datasets.c.id).where(datasets.c.org_id == org_id, datasets.c.path == path)
    return conn.execute(query).first() is not None


def insert_dataset(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(datasets.insert().values(**row))


def update_dataset(conn: Connection, org_id: int, dataset_id: str, **values: Any) -> None:
    conn.execute(
        update(datasets)
        .where(datasets.c.org_id == org_id, datasets.c.id == dataset_id)
        .values(**values)
    )


def delete_dataset(conn: Connection, org_id: int, dataset_id: str) -> bool:
    """The dataset and, by cascade, its versions, logs and evaluation runs."""
    result = conn.execute(
        delete(datasets)
        .where(datasets.c.org_id == org_id, datasets.c.id == dataset_id)
        .returning(datasets.c.id)
    )
    return result.first() is not None


def page(
    conn: Connection, org_id: int, offset: int, limit: int, sort: str, descending: bool
) -> tuple[int, list[Row]]:
    """(total, one page) of the organization's datasets in the `SORTS` order, ties by id."""
    where = datasets.c.org_id == org_id
    total = conn.scalar(select(func.count()).select_from(datasets).where(where)) or 0
    column = SORTS[sort]
    order = [column.desc(), datasets.c.id.desc()] if descending else [column, datasets.c.id]
    query = select(datasets).where(where).order_by(*order).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def current(dataset_id: str) -> ColumnElement[bool]:
    """The dataset's rows as it is now."""
    return and_(dataset_logs.c.dataset_id == dataset_id, dataset_logs.c.removed_in.is_(None))


def counts(conn: Connection, dataset_ids: Sequence[str]) -> dict[str, int]:
    """How many logs each dataset holds now, in one query."""
    if not dataset_ids:
        return {}
    query = (
        select(dataset_logs.c.dataset_id, func.count())
        .where(
            dataset_logs.c.dataset_id.in_(list(dataset_ids)), dataset_logs.c.removed_in.is_(None)
        )
        .group_by(dataset_logs.c.dataset_id)
    )
    found = {key: n for key, n in conn.execute(query)}
    return {key: found.get(key, 0) for key in dataset_ids}


def latest(conn: Connection, dataset_id: str) -> int:
    """The number of the dataset's newest version; 0 when it has none."""
    query = select(func.max(dataset_versions.c.number)).where(
        dataset_versions.c.dataset_id == dataset_id
    )
    return conn.scalar(query) or 0


def copy_logs(
    conn: Connection,
    org_id: int,
    dataset_id: str,
    where: ColumnElement[bool],
    added_in: int,
    now: Any,
) -> int:
    """Copy the organization's logs that match `where` into the dataset, but those it holds
    already (by unique_id); returns how many were copied."""
    held = exists().where(current(dataset_id), dataset_logs.c.unique_id == logs.c.unique_id)
    chosen = select(
        literal(org_id),
        literal(dataset_id),
        logs.c.id,
        literal(added_in),
        literal(now),
        literal(now),
        *(logs.c[name] for name in SNAPSHOT_COLUMNS),
    ).where(logs.c.org_id == org_id, where, ~held)
    names = ["org_id", "dataset_id", "source_log_id", "added_in", "added_at", "updated_at"]
    statement = (
        insert(dataset_logs)
        .from_select([*names, *SNAPSHOT_COLUMNS], chosen)
        .returning(dataset_logs.c.id)
    )
    return len(conn.execute(statement).all())


def insert_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """New dataset rows; their ids, in order."""
    return [
        conn.execute(insert(dataset_logs).values(**row).returning(dataset_logs.c.id)).scalar_one()
        for row in rows
    ]


def get_log(conn: Connection, dataset_id: str, unique_id: str) -> Row | None:
    """A log the dataset holds now."""
    query = select(dataset_logs).where(current(dataset_id), dataset_logs.c.unique_id == unique_id)
    return conn.execute(query).first()


def logs_page(
    conn: Connection,
    dataset_id: str,
    where: ColumnElement[bool] | None,
    offset: int,
    limit: int,
    sort: str,
    descending: bool,
) -> tuple[int, list[Row]]:
    """(total, one page) of the logs the dataset holds now that match `where`."""
    scope = and_(current(dataset_id), *([where] if where is not None else []))
    total = conn.scalar(select(func.count()).select_from(dataset_logs).where(scope)) or 0
    column = LOG_SORTS[sort]
    order = [column.desc(), dataset_logs.c.id.desc()] if descending else [column, dataset_logs.c.id]
    query = select(dataset_logs).where(scope).order_by(*order).offset(offset).limit(limit)
    return total, conn.execute(query).all()


def current_ids(conn: Connection, dataset_id: str) -> list[int]:
    """The keys of the rows the dataset holds now, in order."""
    query = select(dataset_logs.c.id).where(current(dataset_id)).order_by(dataset_logs.c.id)
    return list(conn.scalars(query))


def update_log(conn: Connection, row_id: int, **values: Any) -> None:
    conn.execute(update(dataset_logs).where(dataset_logs.c.id == row_id).values(**values))


def remove(
    conn: Connection, dataset_id: str, where: ColumnElement[bool] | None, latest_number: int
) -> int:
    """Take the matching current rows out of the dataset: rows no version holds are deleted,
    the others marked removed in the next version (the versions that hold them keep them).
    Returns how many."""
    scope = and_(current(dataset_id), *([where] if where is not None else []))
    pending = dataset_logs.c.added_in > latest_number
    deleted = conn.execute(
        delete(dataset_logs).where(scope, pending).returning(dataset_logs.c.id)
    ).all()
    marked = conn.execute(
        update(dataset_logs)
        .where(scope, ~pending)
        .values(removed_in=latest_number + 1)
        .returning(dataset_logs.c.id)
    ).all()
    return len(deleted) + len(marked)


def by_ids(conn: Connection, row_ids: Iterable[int]) -> list[Row]:
    wanted = list(row_ids)
    if not wanted:
        return []
    return conn.execute(select(dataset_logs).where(dataset_logs.c.id.in_(wanted))).all()


def insert_version(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(dataset_versions.insert().values(**row))


def versions(conn: Connection, dataset_id: str) -> list[Row]:
    query = select(dataset_versions).where(dataset_versions.c.dataset_id == dataset_id)
    return conn.execute(query.order_by(dataset_versions.c.number)).all()


def in_version(dataset_id: str, number: int) -> ColumnElement[bool]:
    """The dataset's rows as version `number` holds them."""
    return and_(
        dataset_logs.c.dataset_id == dataset_id,
        dataset_logs.c.added_in <= number,
        or_(dataset_logs.c.removed_in.is_(None), dataset_logs.c.removed_in > number),
    )


def version_rows(conn: Connection, dataset_id: str, number: int) -> list[Row]:
    query = select(dataset_logs).where(in_version(dataset_id, number))
    return conn.execute(query.order_by(dataset_logs.c.id)).all()
