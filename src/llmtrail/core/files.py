"""Files: the prompts, tools, flows, agents and evaluators that logs are written against.

A File has a path and a type; its versions are keyed by their kernel (the prompt's model
and template, a tool's function, a flow's attributes, an agent, an evaluator's spec). The
same kernel always finds the same version, a new one makes a new version. Files are made
explicitly by an upsert, or implicitly by the first log that names a new path.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from llmtrail.core import environments
from llmtrail.core.fields import name_in
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, Invalid, NotFound
from llmtrail.store import files as store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import deployments


class FileType(StrEnum):
    PROMPT = "prompt"
    TOOL = "tool"
    FLOW = "flow"
    AGENT = "agent"
    EVALUATOR = "evaluator"


# Id prefixes of Files and of their versions, as Humanloop mints them.
PREFIXES = {
    FileType.PROMPT: ("pr_", "prv_"),
    FileType.TOOL: ("tl_", "tv_"),
    FileType.FLOW: ("fl_", "flv_"),
    FileType.AGENT: ("ag_", "agv_"),
    FileType.EVALUATOR: ("ev_", "evv_"),
}
# The `log_type` a File's logs carry, so the Keywords AI dialect lists them by kind.
LOG_TYPES = {
    FileType.PROMPT: "chat",
    FileType.TOOL: "tool",
    FileType.FLOW: "workflow",
    FileType.AGENT: "agent",
    FileType.EVALUATOR: "score",
}
FILE_TYPE_OF_LOG = {log_type: file_type for file_type, log_type in LOG_TYPES.items()}


@dataclass(frozen=True)
class FileRef:
    """How a request names a File: by `path` or `id`, with an optional kernel or version."""

    type: FileType
    path: str | None = None
    id: str | None = None
    kernel: dict[str, Any] | None = None
    version_id: str | None = None
    version_name: str | None = None
    version_description: str | None = None
    environment: str | None = None  # the version deployed there, when no kernel or version
    draft: bool = False  # a new version is a Keywords AI draft (`core.prompt_versions`)


def kernel_hash(kernel: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(kernel, option=orjson.OPT_SORT_KEYS)).hexdigest()


def upsert(engine: Engine, principal: Principal, ref: FileRef) -> Row:
    """The File version for `ref`, creating the File and the version when they are new."""
    for attempt in range(2):  # a concurrent upsert of the same path wins the race once
        try:
            with begin_write(engine) as conn:
                return upsert_in(conn, principal, ref)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def upsert_in(conn: Connection, principal: Principal, ref: FileRef) -> Row:
    """`upsert` in the caller's write transaction."""
    kernel = ref.kernel if ref.kernel is not None else {}
    digest = kernel_hash(kernel)
    file = _find(conn, principal, ref)
    now = utcnow()
    if file is None:
        file_id = insert_file(conn, principal, ref.type, ref.path)  # type: ignore[arg-type]
    else:
        file_id = file.id
        found = store.version_by_hash(conn, file_id, digest)
        if found is not None and found.draft and not ref.draft:
            # Named by its kernel from anywhere but a draft's editor: it is used, so frozen.
            store.update_version(conn, found.version_id, {"draft": False})
            return store.version(conn, principal.org_id, file_id, found.version_id)  # type: ignore[return-value]
        if found is not None:
            return found
    if ref.version_name and store.name_taken(conn, file_id, ref.version_name):
        raise Conflict(f"a version named '{ref.version_name}' already exists for this File")
    version_id = new_id(PREFIXES[ref.type][1])
    store.insert_version(
        conn,
        dict(
            id=version_id,
            file_id=file_id,
            org_id=principal.org_id,
            kernel=kernel,
            kernel_hash=digest,
            version_name=ref.version_name,
            version_description=ref.version_description,
            draft=ref.draft,
            created_at=now,
        ),
    )
    return store.version(conn, principal.org_id, file_id, version_id)  # type: ignore[return-value]


def insert_file(
    conn: Connection,
    principal: Principal,
    type: FileType,
    path: str,
    file_id: str | None = None,
    description: str | None = None,
) -> str:
    """A new File (with no version yet) at `path`; returns its id."""
    file_id = file_id or new_id(PREFIXES[type][0])
    now = utcnow()
    row = dict(id=file_id, org_id=principal.org_id, type=type.value, path=path, name=name_in(path))
    store.insert_file(
        conn, {**row, "description": description, "created_at": now, "updated_at": now}
    )
    return file_id


def _find(conn: Any, principal: Principal, ref: FileRef) -> Row | None:
    """The File `ref` names, checked to be of the right type; None for a new path."""
    if ref.id is not None:
        file = store.file_by(conn, principal.org_id, file_id=ref.id)
        if file is None:
            raise NotFound("File not found")
    elif ref.path:
        file = store.file_by(conn, principal.org_id, path=ref.path)
    else:
        raise Invalid.at("path", "a File `path` or `id` is required", "missing")
    if file is not None and file.type != ref.type.value:
        where = "id" if ref.id is not None else "path"
        raise Invalid.at(where, f"'{ref.id or ref.path}' is a {file.type}, not a {ref.type.value}")
    return file


class _VersionCache:
    """Versions are immutable but for drafts' edits (which clear it), so a (kernel digest or
    version id) -> version lookup does not go stale; it spares the log write path two reads
    per request."""

    def __init__(self, size: int = 4096) -> None:
        self._rows: dict[tuple[Any, ...], Row] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Row | None:
        return self._rows.get(key)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def put(self, key: tuple[Any, ...], row: Row) -> None:
        with self._lock:
            if len(self._rows) >= self._size:
                self._rows.clear()
            self._rows[key] = row


_cache = _VersionCache()


def forget_cached() -> None:
    """After a File is moved or deleted, loses a version or has a draft edited: this
    process's cache may name what is gone (another server process keeps its own until it
    fills)."""
    _cache.clear()


def _cache_key(principal: Principal, ref: FileRef) -> tuple[Any, ...] | None:
    if ref.version_id is not None:
        return (principal.org_id, "version", ref.version_id)
    if ref.kernel is not None:
        return (principal.org_id, ref.type, ref.id or ref.path, kernel_hash(ref.kernel))
    return None


def cached_for_log(principal: Principal, ref: FileRef) -> Row | None:
    """`resolve_for_log` when the answer is known without touching the database (else None),
    so the hot path of a busy client needs no worker thread."""
    key = _cache_key(principal, ref)
    row = _cache.get(key) if key is not None else None
    return _check_version(ref, row) if row is not None else None


def resolve_for_log(engine: Engine, principal: Principal, ref: FileRef) -> Row:
    """The version a new log is written against: the one its kernel names (made if new), the
    `version_id` asked for, or else the File's newest version (a new File when the path is new).
    """
    key = _cache_key(principal, ref)
    if key is None:
        return _newest_or_new(engine, principal, ref)
    row = _cache.get(key)
    if row is None:
        if ref.version_id is not None:
            row = version(engine, principal, ref.version_id, ref.type)
        else:
            row = upsert(engine, principal, ref)
        _cache.put(key, row)
    return _check_version(ref, row)


def _check_version(ref: FileRef, row: Row) -> Row:
    if ref.version_id is not None and (ref.id or ref.path) not in (None, row.file_id, row.path):
        raise Invalid.at("version_id", f"version '{ref.version_id}' is not of this File")
    return row


def _newest_or_new(engine: Engine, principal: Principal, ref: FileRef) -> Row:
    with engine.connect() as conn:
        file = _find(conn, principal, ref)
        if file is None and ref.environment is not None:
            raise NotFound(f"No File at path '{ref.path}' to log to in '{ref.environment}'")
        row = _current(conn, principal, file.id, ref.environment) if file else None
    return row if row is not None else upsert(engine, principal, ref)


def _current(conn: Connection, principal: Principal, file_id: str, environment: str | None) -> Row:
    """The version a File is used at: the one deployed to `environment` (404 when there is
    none), else the one deployed to the default environment, else its newest."""
    version_id = environments.used(conn, principal, ANY_FILE, file_id, environment)
    return store.version(conn, principal.org_id, file_id, version_id)  # type: ignore[return-value]


def find(conn: Connection, principal: Principal, file_id: str, type: FileType | None = None) -> Row:
    """The caller's File; 404 when it is none, or of another type than `type`."""
    file = store.file_by(conn, principal.org_id, file_id=file_id)
    if file is None or (type is not None and file.type != type.value):
        raise NotFound("File not found")
    return file


def _version_of(
    conn: Connection, principal: Principal, file_id: str, version_id: str
) -> Row | None:
    return store.version(conn, principal.org_id, file_id, version_id)


def _commit_draft(conn: Connection, version: Row) -> None:
    """A deployed draft is committed: what went live stays as it was (`core.prompt_versions`)."""
    if version.draft:
        store.update_version(conn, version.version_id, {"draft": False})


# What is deployed of Files: of any type (to read deployments), and of each type.
ANY_FILE = environments.Deployable("file", "File", deployments, find, _version_of, _commit_draft)
DEPLOYABLE = {
    type: environments.Deployable(
        type.value, "File", deployments, partial(find, type=type), _version_of, _commit_draft
    )
    for type in FileType
}


def get(
    engine: Engine,
    principal: Principal,
    file_id: str,
    version_id: str | None = None,
    type: FileType | None = None,
    environment: str | None = None,
) -> Row:
    """A File at `version_id`, or at the version deployed to `environment`, or else at the
    version it is used at (`_current`). 404 when missing or of another type."""
    with engine.connect() as conn:
        find(conn, principal, file_id, type)
        if version_id is not None:
            row = store.version(conn, principal.org_id, file_id, version_id)
        else:
            row = _current(conn, principal, file_id, environment)
    if row is None:
        raise NotFound("Version not found")
    return row


def version(engine: Engine, principal: Principal, version_id: str, type: FileType) -> Row:
    """A version by its own id, whatever its File. 404 when missing or of another type."""
    with engine.connect() as conn:
        row = store.versions_by_id(conn, principal.org_id, [version_id]).get(version_id)
    if row is None or row.type != type.value:
        raise NotFound("Version not found")
    return row


def by_path(engine: Engine, principal: Principal, path: str, environment: str | None = None) -> Row:
    with engine.connect() as conn:
        file = store.file_by(conn, principal.org_id, path=path)
        if file is None:
            raise NotFound(f"No File at path '{path}'")
        return _current(conn, principal, file.id, environment)


def listed(
    engine: Engine,
    principal: Principal,
    types: Iterable[FileType],
    page: int,
    size: int,
    *,
    name: str | None = None,
    sort_by: str = "created_at",
    descending: bool = True,
    directory: str | None = None,
) -> tuple[int, list[Row]]:
    """(total, one page) of the Files of these types, at their newest versions; `sort_by`
    is one of `store.files.SORTS`, `directory` a path they are under."""
    with engine.connect() as conn:
        return store.page(
            conn,
            principal.org_id,
            [t.value for t in types],
            (page - 1) * size,
            size,
            name=name,
            sort_by=sort_by,
            descending=descending,
            directory=directory,
        )


@dataclass(frozen=True)
class Described:
    """Versions as answers show them: by version id, those asked for and the newest of the
    Files asked for (`newest`: File id -> that version's id); per File of any of them, its
    logs over all versions and its last use; per version, where it is deployed."""

    versions: dict[str, Row]
    usage: dict[str, tuple[int, Any]]
    newest: dict[str, str]
    deployed: dict[str, list[Row]]  # version id -> the environments it is deployed to


def describe(
    engine: Engine, principal: Principal, version_ids: Iterable[str], newest_of: Iterable[str] = ()
) -> Described:
    """These versions, and the Files of `newest_of` at their newest, read at once."""
    with engine.connect() as conn:
        versions = store.versions_by_id(conn, principal.org_id, version_ids)
        latest = store.newest_versions(conn, principal.org_id, newest_of)
        versions |= {row.version_id: row for row in latest.values()}
        file_ids = {v.file_id for v in versions.values()}
        usage = store.total_logs(conn, file_ids)
        deployed = environments.where_deployed(conn, ANY_FILE, file_ids)
    newest = {f: row.version_id for f, row in latest.items()}
    return Described(versions, usage, newest, deployed)


def delete_in(conn: Connection, principal: Principal, file_id: str) -> None:
    """Delete a File and its versions, in the caller's transaction; 404 when it is none of
    the caller's. Its logs stay."""
    if not store.delete_file(conn, principal.org_id, file_id):
        raise NotFound("File not found")
