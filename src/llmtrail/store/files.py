"""Queries over `files` and `file_versions`, always scoped to one organization."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, select, update

from llmtrail.store.driver import execute_many
from llmtrail.store.tables import file_versions, files

_COLUMNS = (
    files.c.id.label("file_id"),
    files.c.type,
    files.c.path,
    files.c.name,
    files.c.description,
    files.c.created_at,
    files.c.updated_at,
    file_versions.c.id.label("version_id"),
    file_versions.c.kernel,
    file_versions.c.number,
    file_versions.c.draft,
    file_versions.c.version_name,
    file_versions.c.version_description,
    file_versions.c.created_at.label("version_created_at"),
    file_versions.c.updated_at.label("version_updated_at"),
    file_versions.c.log_count.label("version_logs_count"),
    file_versions.c.last_used_at,
)
_JOINED = select(*_COLUMNS).join_from(files, file_versions, files.c.id == file_versions.c.file_id)


def file_by(conn: Connection, org_id: int, *, file_id: str | None = None, path: str | None = None):
    """The `files` row by id or by path, or None."""
    query = select(files).where(files.c.org_id == org_id)
    query = query.where(files.c.id == file_id) if file_id else query.where(files.c.path == path)
    return conn.execute(query).first()


def version(conn: Connection, org_id: int, file_id: str, version_id: str | None) -> Row | None:
    """One version of a File joined with the File; the newest when `version_id` is None."""
    query = _JOINED.where(files.c.org_id == org_id, files.c.id == file_id)
    if version_id is not None:
        return conn.execute(query.where(file_versions.c.id == version_id)).first()
    query = query.order_by(file_versions.c.created_at.desc(), file_versions.c.id.desc())
    return conn.execute(query.limit(1)).first()


# The newest version of the File of the row it is correlated with.
_NEWEST = (
    select(file_versions.c.id)
    .where(file_versions.c.file_id == files.c.id)
    .order_by(file_versions.c.created_at.desc(), file_versions.c.id.desc())
    .limit(1)
    .correlate(files)
    .scalar_subquery()
)
SORTS = {"created_at": files.c.created_at, "updated_at": files.c.updated_at, "name": files.c.name}


def newest_versions(conn: Connection, org_id: int, file_ids: Iterable[str]) -> dict[str, Row]:
    """These Files at their newest versions, by File id."""
    ids = list(set(file_ids))
    if not ids:
        return {}
    query = _JOINED.where(
        files.c.org_id == org_id, files.c.id.in_(ids), file_versions.c.id == _NEWEST
    )
    return {row.file_id: row for row in conn.execute(query)}


def page(
    conn: Connection,
    org_id: int,
    types: Collection[str],
    offset: int,
    limit: int,
    *,
    name: str | None,
    sort_by: str,
    descending: bool,
    directory: str | None = None,
) -> tuple[int, list[Row]]:
    """(total, one page) of the Files of these types, each at its newest version; `name` is
    a substring of their names, any case; `directory` a path they are under, at any depth."""
    where = and_(files.c.org_id == org_id, files.c.type.in_(list(types)))
    if name:
        where = and_(where, files.c.name.icontains(name, autoescape=True))
    if directory:
        where = and_(where, files.c.path.startswith(directory.rstrip("/") + "/", autoescape=True))
    total = conn.scalar(select(func.count()).select_from(files).where(where)) or 0
    key, tie = SORTS[sort_by], files.c.id
    order = (key.desc(), tie.desc()) if descending else (key.asc(), tie.asc())
    query = _JOINED.where(where, file_versions.c.id == _NEWEST).order_by(*order)
    return total, conn.execute(query.offset(offset).limit(limit)).all()


def versions_of(conn: Connection, org_id: int, file_id: str) -> list[Row]:
    """Every version of a File, newest first."""
    return versions_of_files(conn, org_id, [file_id])


def versions_of_files(conn: Connection, org_id: int, file_ids: Collection[str]) -> list[Row]:
    """Every version of these Files, each File's newest first (by number: the order they
    were made in)."""
    query = _JOINED.where(files.c.org_id == org_id, files.c.id.in_(list(file_ids)))
    order = (files.c.id, file_versions.c.number.desc())
    return conn.execute(query.order_by(*order)).all()


def version_by_number(conn: Connection, org_id: int, file_id: str, number: int) -> Row | None:
    query = _JOINED.where(files.c.org_id == org_id, files.c.id == file_id)
    return conn.execute(query.where(file_versions.c.number == number)).first()


def version_by_hash(conn: Connection, file_id: str, kernel_hash: str) -> Row | None:
    query = _JOINED.where(files.c.id == file_id, file_versions.c.kernel_hash == kernel_hash)
    return conn.execute(query).first()


def versions_by_id(conn: Connection, org_id: int, version_ids: Iterable[str]) -> dict[str, Row]:
    ids = list(set(version_ids))
    if not ids:
        return {}
    query = _JOINED.where(files.c.org_id == org_id, file_versions.c.id.in_(ids))
    return {row.version_id: row for row in conn.execute(query)}


def total_logs(conn: Connection, file_ids: Iterable[str]) -> dict[str, tuple[int, Any]]:
    """Per File: logs over all its versions, and when it was last used."""
    out: dict[str, tuple[int, Any]] = {}
    query = select(file_versions.c.file_id, file_versions.c.log_count, file_versions.c.last_used_at)
    for row in conn.execute(query.where(file_versions.c.file_id.in_(list(set(file_ids))))):
        count, last = out.get(row.file_id, (0, None))
        used = max((t for t in (last, row.last_used_at) if t is not None), default=None)
        out[row.file_id] = (count + row.log_count, used)
    return out


def name_taken(
    conn: Connection, file_id: str, version_name: str, besides: str | None = None
) -> bool:
    """Whether a version of the File (other than `besides`) has this name."""
    query = select(file_versions.c.id).where(
        file_versions.c.file_id == file_id, file_versions.c.version_name == version_name
    )
    if besides is not None:
        query = query.where(file_versions.c.id != besides)
    return conn.execute(query).first() is not None


def insert_file(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(files.insert().values(**row))


def insert_version(conn: Connection, row: dict[str, Any]) -> None:
    """A new version, numbered after every version the File ever had (the update locks the
    File's row, so concurrent inserts take their numbers in turn)."""
    number = conn.execute(
        update(files)
        .where(files.c.id == row["file_id"])
        .values(last_number=files.c.last_number + 1, updated_at=row["created_at"])
        .returning(files.c.last_number)
    ).scalar_one()
    conn.execute(file_versions.insert().values(**row, number=number))


# Built once: the driver module compiles it once per dialect (the writer runs it every commit).
_COUNT = (
    update(file_versions)
    .where(file_versions.c.id == bindparam("vid"))
    .values(log_count=file_versions.c.log_count + bindparam("delta"))
)
_COUNT_USED = _COUNT.values(last_used_at=bindparam("now"))


def count_logs(conn: Connection, uses: Iterable[tuple[str | None, datetime]], sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) logs, given as (version id, time), from their
    versions' counters; an added log marks its version used at the latest time."""
    counts: Counter[str] = Counter()
    latest: dict[str, datetime] = {}
    for version_id, moment in uses:
        if version_id:
            counts[version_id] += 1
            latest[version_id] = max(moment, latest.get(version_id, moment))
    params = [{"vid": v, "delta": sign * n, "now": latest[v]} for v, n in sorted(counts.items())]
    execute_many(conn, _COUNT_USED if sign > 0 else _COUNT, params)


def delete_file(conn: Connection, org_id: int, file_id: str) -> bool:
    """Delete a File and its versions; its logs stay."""
    result = conn.execute(delete(files).where(files.c.org_id == org_id, files.c.id == file_id))
    return result.rowcount > 0


def delete_version(conn: Connection, file_id: str, version_id: str) -> bool:
    query = delete(file_versions).where(
        file_versions.c.file_id == file_id, file_versions.c.id == version_id
    )
    return conn.execute(query).rowcount > 0


def update_version(conn: Connection, version_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(file_versions).where(file_versions.c.id == version_id).values(**values))


def update_file(conn: Connection, file_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(files).where(files.c.id == file_id).values(**values))


def directly_in(conn: Connection, org_id: int, directory: str) -> list[Row]:
    """The Files right in `directory` (not deeper), each at its newest version, by name."""
    prefix = directory + "/"
    rest = func.substr(files.c.path, len(prefix) + 1)
    query = _JOINED.where(
        files.c.org_id == org_id,
        files.c.path.startswith(prefix, autoescape=True),
        ~rest.contains("/", autoescape=True),
        file_versions.c.id == _NEWEST,
    )
    return conn.execute(query.order_by(files.c.name)).all()
