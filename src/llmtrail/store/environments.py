"""Queries over `environments` and `deployments`, always scoped to one organization."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, or_, select

from llmtrail.store.tables import deployments, environments

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


def deployed(conn: Connection, file_id: str, environment_id: str) -> str | None:
    """The version of the File deployed to the environment, if any."""
    query = select(deployments.c.version_id).where(
        deployments.c.file_id == file_id, deployments.c.environment_id == environment_id
    )
    return conn.scalar(query)


def of_files(conn: Connection, file_ids: Iterable[str]) -> list[Row]:
    """The deployments of these Files, each with its environment's columns."""
    ids = list(set(file_ids))
    if not ids:
        return []
    query = (
        select(deployments.c.file_id, deployments.c.version_id, environments)
        .join(environments, environments.c.id == deployments.c.environment_id)
        .where(deployments.c.file_id.in_(ids))
    )
    return conn.execute(query).all()


def is_deployed(conn: Connection, version_id: str) -> bool:
    query = select(deployments.c.file_id).where(deployments.c.version_id == version_id)
    return conn.execute(query.limit(1)).first() is not None


def deploy(
    conn: Connection, org_id: int, file_id: str, environment_id: str, version_id: str, now: datetime
) -> None:
    undeploy(conn, file_id, environment_id)
    conn.execute(
        deployments.insert().values(
            file_id=file_id,
            environment_id=environment_id,
            version_id=version_id,
            org_id=org_id,
            deployed_at=now,
        )
    )


def undeploy(conn: Connection, file_id: str, environment_id: str) -> bool:
    query = delete(deployments).where(
        deployments.c.file_id == file_id, deployments.c.environment_id == environment_id
    )
    return conn.execute(query).rowcount > 0
