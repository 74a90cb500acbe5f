"""Humanloop Directories: what gives Files their parents.

A File's path (`a/b/name`) already says where it is; a directory is a row at a path, and
the Files whose path's parent it is are in it. Creating one creates its missing ancestors
(as Humanloop does); moving or renaming one moves everything under its path (directories,
Files, Datasets) in one transaction; deleting one is refused while anything is under it
(409), as Humanloop requires it to be empty. Each change is audited.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit, files
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, Invalid, NotFound
from llmtrail.store import directories as store
from llmtrail.store import files as file_store
from llmtrail.store.database import begin_write

MAX_PATH = 1024
MAX_NAME = 255
UNSET = object()  # `parent_id` not sent, as opposed to sent as null (the root)


@dataclass(frozen=True)
class Listing:
    """A directory with its subdirectories, the Files right in it (at their newest
    versions) and its ancestors, the root's first."""

    directory: Row
    subdirectories: list[Row]
    files: list[Row]
    parents: list[Row]


def clean_path(raw: str, loc: str = "path") -> str:
    """A directory path: `/`-separated names, none empty, without a leading or trailing `/`."""
    path = raw.strip().strip("/")
    parts = path.split("/")
    if not path or any(not part.strip() for part in parts):
        raise Invalid.at(loc, "a path is names separated by `/`, none of them empty")
    if len(path) > MAX_PATH or any(len(part) > MAX_NAME for part in parts):
        raise Invalid.at(loc, f"at most {MAX_PATH} characters, {MAX_NAME} a name")
    return path


def _get(conn: Connection, who: Principal, directory_id: str) -> Row:
    row = store.by_id(conn, who.org_id, directory_id)
    if row is None:
        raise NotFound("Directory not found")
    return row


def _target(
    conn: Connection,
    who: Principal,
    name: str | None,
    parent_id: object,
    path: str | None,
    current: Row | None = None,
) -> str:
    """The path a create or an update asks for: `path`, else `name` in the directory
    `parent_id` (null: the root), each defaulting to the current directory's."""
    if path is not None:
        return clean_path(path)
    if name is None and current is None:
        raise Invalid.at("name", "a Directory needs a `path`, or a `name`", "missing")
    name = name if name is not None else current.name  # type: ignore[union-attr]
    if "/" in name:
        raise Invalid.at("name", "a name has no `/`: send a `path` to place it deeper")
    if parent_id is UNSET:
        parent = posixpath.dirname(current.path) if current is not None else ""
    elif parent_id is None:
        parent = ""
    else:
        parent = _get(conn, who, str(parent_id)).path
    return clean_path(f"{parent}/{name}" if parent else name, "name")


def _ensure_parents(conn: Connection, who: Principal, path: str) -> str | None:
    """The id of the directory at `path`'s parent, made (with its ancestors) if missing."""
    parent = posixpath.dirname(path)
    if not parent:
        return None
    ancestors = [parent]
    while posixpath.dirname(ancestors[-1]):
        ancestors.append(posixpath.dirname(ancestors[-1]))
    found = store.by_paths(conn, who.org_id, ancestors)
    parent_id = None
    for ancestor in reversed(ancestors):  # the root's child first
        row = found.get(ancestor)
        parent_id = _insert(conn, who, ancestor, parent_id) if row is None else row.id
    return parent_id


def _insert(conn: Connection, who: Principal, path: str, parent_id: str | None) -> str:
    if file_store.file_by(conn, who.org_id, path=path) is not None:
        raise Conflict(f"a File is at '{path}'")
    now = utcnow()
    row_id = new_id("dir_")
    store.insert(
        conn,
        {
            "id": row_id,
            "org_id": who.org_id,
            "parent_id": parent_id,
            "name": posixpath.basename(path),
            "path": path,
            "created_at": now,
            "updated_at": now,
        },
    )
    audit.record(conn, who, "created", "directory", row_id)
    return row_id


def create(
    engine: Engine, who: Principal, name: str | None, parent_id: object, path: str | None
) -> Row:
    try:
        with begin_write(engine) as conn:
            target = _target(conn, who, name, parent_id, path)
            if store.by_paths(conn, who.org_id, [target]):
                raise Conflict(f"a Directory already exists at '{target}'")
            row_id = _insert(conn, who, target, _ensure_parents(conn, who, target))
            return _get(conn, who, row_id)
    except IntegrityError:
        raise Conflict("a Directory was made at that path meanwhile") from None


def ids_at(engine: Engine, who: Principal, paths: set[str]) -> dict[str, str]:
    """The id of the directory at each of these paths that has one (the root has none)."""
    paths = {p for p in paths if p}
    if not paths:
        return {}
    with engine.connect() as conn:
        return {
            path: row.id for path, row in store.by_paths(conn, who.org_id, sorted(paths)).items()
        }


def listed(engine: Engine, who: Principal) -> list[Row]:
    with engine.connect() as conn:
        return store.listed(conn, who.org_id)


def get(engine: Engine, who: Principal, directory_id: str) -> Listing:
    with engine.connect() as conn:
        row = _get(conn, who, directory_id)
        parents, parent_id = [], row.parent_id
        while parent_id is not None:
            parent = _get(conn, who, parent_id)
            parents.append(parent)
            parent_id = parent.parent_id
        return Listing(
            row,
            store.children(conn, who.org_id, row.id),
            file_store.directly_in(conn, who.org_id, row.path),
            list(reversed(parents)),
        )


def update(
    engine: Engine,
    who: Principal,
    directory_id: str,
    name: str | None,
    parent_id: object,
    path: str | None,
) -> Row:
    """Rename or move a directory, and with it everything under its path."""
    try:
        with begin_write(engine) as conn:
            row = _get(conn, who, directory_id)
            target = _target(conn, who, name, parent_id, path, row)
            if target != row.path:
                if target.startswith(row.path + "/"):
                    raise Invalid.at("path", "a Directory cannot move into itself")
                if store.by_paths(conn, who.org_id, [target]):
                    raise Conflict(f"a Directory already exists at '{target}'")
                if file_store.file_by(conn, who.org_id, path=target) is not None:
                    raise Conflict(f"a File is at '{target}'")
                now = utcnow()
                store.move_paths(conn, who.org_id, row.path, target, now)
                values = {
                    "path": target,
                    "name": posixpath.basename(target),
                    "parent_id": _ensure_parents(conn, who, target),
                    "updated_at": now,
                }
                store.change(conn, row.id, values)
                audit.record(conn, who, "changed", "directory", row.id, {"fields": ["path"]})
            moved = _get(conn, who, row.id)
    except IntegrityError:
        raise Conflict(
            f"something under '{target}' already has the path it would move to"
        ) from None
    files.forget_cached()  # Files are cached by path
    return moved


def delete(engine: Engine, who: Principal, directory_id: str) -> None:
    with begin_write(engine) as conn:
        row = _get(conn, who, directory_id)
        if store.holds_anything(conn, who.org_id, row.path):
            raise Conflict(
                f"Directory '{row.path}' is not empty: move or delete its Files and"
                " Directories first"
            )
        store.delete(conn, row.id)
        audit.record(conn, who, "deleted", "directory", row.id)
