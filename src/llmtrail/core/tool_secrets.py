"""A Tool's environment variables (what its code or integration needs: API keys), kept
sealed with the server's secret (`core.sealing`), opened only to answer their owner.
Setting or deleting one is audited, by name, never with its value."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine

from llmtrail.core import audit, files, sealing
from llmtrail.core.files import FileType
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import NotFound
from llmtrail.store import tool_secrets as store
from llmtrail.store.database import begin_write


def _opened(conn: Connection, secret: str, file_id: str) -> list[tuple[str, str]]:
    return [(row.name, sealing.unseal(secret, row.sealed)) for row in store.of_tool(conn, file_id)]


def listed(engine: Engine, who: Principal, secret: str, tool_id: str) -> list[tuple[str, str]]:
    """(name, value) of each, by name."""
    files.get(engine, who, tool_id, None, FileType.TOOL)  # the caller's Tool, or 404
    with engine.connect() as conn:
        return _opened(conn, secret, tool_id)


def put(
    engine: Engine, who: Principal, secret: str, tool_id: str, values: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Set these (a name already set gets the new value); answers them all."""
    files.get(engine, who, tool_id, None, FileType.TOOL)
    now = utcnow()
    given = dict(values)  # the last of a repeated name wins
    rows = [
        {
            "file_id": tool_id,
            "name": name,
            "org_id": who.org_id,
            "sealed": sealing.seal(secret, value),
            "created_at": now,
            "updated_at": now,
        }
        for name, value in given.items()
    ]
    with begin_write(engine) as conn:
        store.put(conn, rows)
        changes = {"environment_variables": sorted(given)}
        audit.record(conn, who, "changed", FileType.TOOL.value, tool_id, changes)
        return _opened(conn, secret, tool_id)


def remove(
    engine: Engine, who: Principal, secret: str, tool_id: str, name: str
) -> list[tuple[str, str]]:
    """Delete one (404 when the Tool has none of that name); answers those left."""
    files.get(engine, who, tool_id, None, FileType.TOOL)
    with begin_write(engine) as conn:
        if not store.remove(conn, tool_id, name):
            raise NotFound(f"The Tool has no environment variable '{name}'")
        changes = {"environment_variables_deleted": [name]}
        audit.record(conn, who, "changed", FileType.TOOL.value, tool_id, changes)
        return _opened(conn, secret, tool_id)
