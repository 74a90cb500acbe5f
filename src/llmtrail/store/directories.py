"""Queries over `directories`, and the path changes a directory's move makes to the Files
and Datasets under it, always scoped to one organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, exists, func, literal, or_, select, update

from llmtrail.store.tables import datasets, directories, files


def by_id(conn: Connection, org_id: int, directory_id: str) -> Row | None:
    query = select(directories).where(
        directories.c.org_id == org_id, directories.c.id == directory_id
    )
    return conn.execute(query).first()


def by_paths(conn: Connection, org_id: int, paths: list[str]) -> dict[str, Row]:
    if not paths:
        return {}
    query = select(directories).where(directories.c.org_id == org_id, directories.c.path.in_(paths))
    return {row.path: row for row in conn.execute(query)}


def listed(conn: Connection, org_id: int) -> list[Row]:
    query = select(directories).where(directories.c.org_id == org_id)
    return conn.execute(query.order_by(directories.c.path)).all()


def children(conn: Connection, org_id: int, directory_id: str) -> list[Row]:
    query = select(directories).where(
        directories.c.org_id == org_id, directories.c.parent_id == directory_id
    )
    return conn.execute(query.order_by(directories.c.name)).all()


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(directories.insert(), [row])


def change(conn: Connection, directory_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(directories).where(directories.c.id == directory_id).values(**values))


def delete(conn: Connection, directory_id: str) -> None:
    conn.execute(directories.delete().where(directories.c.id == directory_id))


def _under(column: Any, path: str) -> Any:
    return column.startswith(path + "/", autoescape=True)


def holds_anything(conn: Connection, org_id: int, path: str) -> bool:
    """Whether a directory, a File or a Dataset is under `path`, at any depth."""
    return bool(
        conn.scalar(
            select(
                or_(
                    exists().where(
                        directories.c.org_id == org_id, _under(directories.c.path, path)
                    ),
                    exists().where(files.c.org_id == org_id, _under(files.c.path, path)),
                    exists().where(datasets.c.org_id == org_id, _under(datasets.c.path, path)),
                )
            )
        )
    )


def move_paths(conn: Connection, org_id: int, old: str, new: str, now: Any) -> None:
    """Everything under `old` (directories, Files, Datasets) moved under `new`: the prefix
    of each path replaced, in SQL (both dialects have `||` and `substr`)."""
    for table in (directories, files, datasets):
        moved = literal(new) + func.substr(table.c.path, len(old) + 1)
        where = and_(table.c.org_id == org_id, _under(table.c.path, old))
        conn.execute(update(table).where(where).values(path=moved, updated_at=now))
