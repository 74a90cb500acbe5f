"""What a user changes about Files by hand: deleting or moving one, naming, describing and
deleting its versions. Each change is audited, in the transaction that makes it.

Logs are never touched: a log keeps its File and version ids, so a deleted version's logs
stay listed under their File, and a deleted File's logs stay in the Keywords AI dialect.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit, automations, environments, files
from llmtrail.core.fields import name_in
from llmtrail.core.files import FileType
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, Invalid, NotFound
from llmtrail.store import files as store
from llmtrail.store.database import begin_write


def _version(
    conn: Connection, principal: Principal, file_id: str, version_id: str, type: FileType
) -> Row:
    files.find(conn, principal, file_id, type)
    row = store.version(conn, principal.org_id, file_id, version_id)
    if row is None:
        raise NotFound("Version not found")
    return row


def delete(engine: Engine, principal: Principal, file_id: str, type: FileType) -> None:
    """Delete a File, its versions and the automation that monitors it."""
    with begin_write(engine) as conn:
        files.find(conn, principal, file_id, type)
        automations.drop_monitor_in(conn, principal, file_id)
        files.delete_in(conn, principal, file_id)
        audit.record(conn, principal, "deleted", type.value, file_id)
    files.forget_cached()


def move(
    engine: Engine,
    principal: Principal,
    file_id: str,
    type: FileType,
    path: str | None,
    name: str | None,
) -> Row:
    """A File moved to `path` (its name is the path's last part) or renamed in place;
    returns it at its newest version. 409 when another File has the path."""
    with begin_write(engine) as conn:
        move_in(conn, principal, files.find(conn, principal, file_id, type), path, name)
        row = store.version(conn, principal.org_id, file_id, None)
    files.forget_cached()
    return row  # type: ignore[return-value]


def move_in(
    conn: Connection, principal: Principal, file: Row, path: str | None, name: str | None
) -> None:
    """`move` in the caller's write transaction (whose caller forgets the cached versions)."""
    new_path = moved_path(file.path, path, name)
    if new_path == file.path:
        return
    if store.file_by(conn, principal.org_id, path=new_path) is not None:
        raise Conflict(f"a File already exists at '{new_path}'")
    values = {"path": new_path, "name": name_in(new_path), "updated_at": utcnow()}
    try:
        with conn.begin_nested():
            store.update_file(conn, file.id, values)
    except IntegrityError:  # moved there concurrently
        raise Conflict(f"a File already exists at '{new_path}'") from None
    audit.record(conn, principal, "changed", file.type, file.id, {"fields": ["path"]})


def moved_path(current: str, path: str | None, name: str | None) -> str:
    if path is not None:
        path = path.strip("/")
        if not path:
            raise Invalid.at("path", "a path names the File, it cannot be empty")
        if name is not None and name != posixpath.basename(path):
            raise Invalid.at("name", "the name is the last part of `path`, when both are sent")
        return path
    if name is None:
        return current
    if not name or "/" in name:
        raise Invalid.at("name", "a name is one part of a path: not empty, no '/'")
    return posixpath.join(posixpath.dirname(current), name)


def versions(engine: Engine, principal: Principal, file_id: str, type: FileType) -> list[Row]:
    """Every version of a File, newest first."""
    with engine.connect() as conn:
        files.find(conn, principal, file_id, type)
        return store.versions_of(conn, principal.org_id, file_id)


def delete_version(
    engine: Engine, principal: Principal, file_id: str, version_id: str, type: FileType
) -> None:
    """Delete one version of a File; 409 for its only one (delete the File instead)."""
    with begin_write(engine) as conn:
        _version(conn, principal, file_id, version_id, type)
        if len(store.versions_of(conn, principal.org_id, file_id)) == 1:
            raise Conflict("this is the File's only version: delete the File instead")
        environments.refuse_deployed(conn, files.DEPLOYABLE[type], version_id)
        store.delete_version(conn, file_id, version_id)
        audit.record(conn, principal, "deleted", f"{type.value}_version", version_id)
    files.forget_cached()


def describe_version(
    engine: Engine,
    principal: Principal,
    file_id: str,
    version_id: str,
    type: FileType,
    changes: dict[str, Any],
) -> Row:
    """A version with a new `version_name` and/or `version_description` (None unsets);
    409 when another version of the File has the name."""
    with begin_write(engine) as conn:
        _version(conn, principal, file_id, version_id, type)
        name = changes.get("version_name")
        if name is not None and store.name_taken(conn, file_id, name, besides=version_id):
            raise Conflict(f"a version named '{name}' already exists for this File")
        if changes:
            store.update_version(conn, version_id, changes)
            fields = {"fields": sorted(changes)}
            audit.record(conn, principal, "changed", f"{type.value}_version", version_id, fields)
        return store.version(conn, principal.org_id, file_id, version_id)  # type: ignore[return-value]
