"""Queries over `tool_secrets`: a Tool's sealed environment variables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from llmtrail.store.tables import tool_secrets


def of_tool(conn: Connection, file_id: str) -> list[Row]:
    query = select(tool_secrets).where(tool_secrets.c.file_id == file_id)
    return conn.execute(query.order_by(tool_secrets.c.name)).all()


def put(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace each (file_id, name): the old value first goes, then the new one."""
    for row in rows:
        remove(conn, row["file_id"], row["name"])
    if rows:
        conn.execute(tool_secrets.insert(), rows)


def remove(conn: Connection, file_id: str, name: str) -> int:
    where = (tool_secrets.c.file_id == file_id) & (tool_secrets.c.name == name)
    return conn.execute(tool_secrets.delete().where(where)).rowcount
