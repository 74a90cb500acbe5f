"""Queries over `environments` and the deployments of Files (`deployments`) or of Datasets
(`dataset_deployments`, the same columns): each deployment query takes which table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, or_, select

from llmtrail.store.tables import environments

DEFAULTS = (("production", "default"), ("staging", "other"))


def listed(conn: Connection, org_id: int) -> list[Row]:
    """The organization's environments, the default first."""
    query = select(environments).where(environments.c.org_id == org_id)
    order = ((environments.c.tag != "default"), environments.c.name)
    return conn.execute(query.order_by(*order)).all()


def insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(environments.insert(), rows)


def by_key(conn: Connection, org_id: int, key: str) -> Row | None:
    """An environment by its id or its name."""
    query = select(environments).where(
        environments.c.org_id == org_id,
        or_(environments.c.id == key, environments.c.name == key),
    )
    return conn.execute(query).first()


def default(conn: Connection, org_id: int) -> Row | None:
    query = select(environments).where(
        environments.c.org_id == org_id, environments.c.tag == "default"
    )
    return conn.execute(query).first()


def deployed(conn: Connection, table: Table, file_id: str, environment_id: str) -> str | None:
    """The version of the File (or Dataset) deployed to the environment, if any."""
    query = select(table.c.version_id).where(
        table.c.file_id == file_id, table.c.environment_id == environment_id
    )
    return conn.scalar(query)


def of_files(conn: Connection, table: Table, file_ids: Iterable[str]) -> list[Row]:
    """The deployments of these Files (or Datasets), each with its environment's columns."""
    ids = list(set(file_ids))
    if not ids:
        return []
    query = (
        select(table.c.file_id, table.c.version_id, environments)
        .join(environments, environments.c.id == table.c.environment_id)
        .where(table.c.file_id.in_(ids))
    )
    return conn.execute(query).all()


def is_deployed(conn: Connection, table: Table, version_id: str) -> bool:
    query = select(table.c.file_id).where(table.c.version_id == version_id)
    return conn.execute(query.limit(1)).first() is not None


def deploy(
    conn: Connection,
    table: Table,
    org_id: int,
    file_id: str,
    environment_id: str,
    version_id: str,
    now: datetime,
) -> None:
    undeploy(conn, table, file_id, environment_id)
    conn.execute(
        table.insert().values(
            file_id=file_id,
            environment_id=environment_id,
            version_id=version_id,
            org_id=org_id,
            deployed_at=now,
        )
    )


def undeploy(conn: Connection, table: Table, file_id: str, environment_id: str) -> bool:
    query = delete(table).where(
        table.c.file_id == file_id, table.c.environment_id == environment_id
    )
    return conn.execute(query).rowcount > 0
