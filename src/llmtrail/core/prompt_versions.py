"""Keywords AI prompts: Humanloop Prompt Files seen with drafts and numbered versions.

A Keywords AI prompt is a Prompt File (the same id); its versions are the File's, numbered
from 1 in the order they were made (`file_versions.number`, never reused). Humanloop
versions are immutable and found by their kernel; a Keywords AI version may be edited while
it is a draft. The rule, in one place (`readonly`):

- a version made here is a draft; one made any other way (a Humanloop upsert, a log) is
  committed, and so is a draft a Humanloop request names by its kernel (`files.upsert_in`);
- a draft is committed, for good, when asked (`readonly: true`) or deployed, and is read-only
  once a log was written against it;
- editing a draft changes its kernel in place (409 when another version of the File has
  that kernel); a read-only version's settings never change (400), its description may.

Deploying a prompt deploys a version to the default environment (`production`), as the
Humanloop environments route does, so both dialects use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit, environments, file_edits, files
from llmtrail.core.files import PREFIXES, FileRef, FileType
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, Invalid, NotFound
from llmtrail.store import environments as env_store
from llmtrail.store import files as store
from llmtrail.store.database import begin_write

PROMPT = FileType.PROMPT
UNSET: Any = object()  # a field a change leaves as it is


def readonly(version: Row) -> bool:
    """Whether a version's settings are frozen: committed (deployed ones are), or logged."""
    return not version.draft or version.last_used_at is not None


@dataclass(frozen=True)
class Prompt:
    """A prompt as both answers need it: its versions, newest first (the first is its
    current one), and the id of the one deployed to the default environment."""

    versions: list[Row]
    live: str | None

    @property
    def current(self) -> Row:
        return self.versions[0]


def _file(conn: Connection, principal: Principal, file_id: str) -> Row:
    file = store.file_by(conn, principal.org_id, file_id=file_id)
    if file is None or file.type != PROMPT.value:
        raise NotFound("Prompt not found")
    return file


def _numbered(conn: Connection, principal: Principal, file_id: str, number: int) -> Row:
    _file(conn, principal, file_id)
    row = store.version_by_number(conn, principal.org_id, file_id, number)
    if row is None:
        raise NotFound(f"Version {number} of this prompt not found")
    return row


def create(
    engine: Engine, principal: Principal, name: str, description: str, kernel: dict[str, Any]
) -> str:
    """A new prompt with an empty draft as its version 1; returns its id. It is filed at
    its name, or at `name id` when another File is there (names need not be unique)."""
    file_edits.moved_path("", None, name)  # a name is one part of a path
    for attempt in range(2):  # a concurrent create at the same path wins the race once
        try:
            with begin_write(engine) as conn:
                file_id = new_id(PREFIXES[PROMPT][0])
                taken = store.file_by(conn, principal.org_id, path=name) is not None
                path = f"{name} {file_id}" if taken else name
                files.insert_file(conn, principal, PROMPT, path, file_id, description)
                files.upsert_in(
                    conn, principal, FileRef(PROMPT, id=file_id, kernel=kernel, draft=True)
                )
                audit.record(conn, principal, "created", PROMPT.value, file_id)
                return file_id
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def described(engine: Engine, principal: Principal, file_ids: Iterable[str]) -> dict[str, Prompt]:
    """These prompts, read at once, by id (those of another organization left out)."""
    ids = list(dict.fromkeys(file_ids))
    environments.listed(engine, principal)
    with engine.connect() as conn:
        versions = store.versions_of_files(conn, principal.org_id, ids)
        default = env_store.default(conn, principal.org_id)
        live = {
            row.file_id: row.version_id
            for row in env_store.of_files(conn, files.ANY_FILE.table, ids)
            if default is not None and row.id == default.id
        }
    found: dict[str, list[Row]] = {}
    for row in versions:
        found.setdefault(row.file_id, []).append(row)
    return {f: Prompt(found[f], live.get(f)) for f in ids if f in found}


def get(engine: Engine, principal: Principal, file_id: str) -> Prompt:
    with engine.connect() as conn:
        _file(conn, principal, file_id)
    return described(engine, principal, [file_id])[file_id]


def listed(
    engine: Engine, principal: Principal, page: int, size: int, name: str | None
) -> tuple[int, list[Prompt]]:
    """(total, one page) of the organization's prompts, newest first."""
    total, rows = files.listed(engine, principal, [PROMPT], page, size, name=name)
    found = described(engine, principal, [row.file_id for row in rows])
    return total, [found[row.file_id] for row in rows if row.file_id in found]


def version(engine: Engine, principal: Principal, file_id: str, number: int) -> Row:
    with engine.connect() as conn:
        return _numbered(conn, principal, file_id, number)


def change(
    engine: Engine,
    principal: Principal,
    file_id: str,
    name: str | None,
    description: str | None,
    deploy: bool,
) -> None:
    """Rename (moving the File in its directory) and/or describe a prompt, and deploy its
    newest read-only version, at once: nothing changes when any part is refused."""
    environments.listed(engine, principal)
    with begin_write(engine) as conn:
        file = _file(conn, principal, file_id)
        file_edits.move_in(conn, principal, file, None, name)
        if description is not None and description != file.description:
            store.update_file(conn, file_id, {"description": description, "updated_at": utcnow()})
            fields = {"fields": ["description"]}
            audit.record(conn, principal, "changed", PROMPT.value, file_id, fields)
        if deploy:
            committed = [
                v for v in store.versions_of(conn, principal.org_id, file_id) if readonly(v)
            ]
            if not committed:
                raise Invalid.at(
                    "deploy",
                    "the prompt has no committed version to deploy: commit a draft first"
                    " (PATCH its version with `readonly: true`), or deploy that version",
                )
            _deploy(conn, principal, file_id, committed[0])
    files.forget_cached()


def _deploy(conn: Connection, principal: Principal, file_id: str, version: Row) -> None:
    default = env_store.default(conn, principal.org_id)
    assert default is not None  # made by `environments.listed` before the transaction
    environments.deploy_in(
        conn, principal, files.DEPLOYABLE[PROMPT], file_id, default.id, version.version_id
    )


def add(
    engine: Engine,
    principal: Principal,
    file_id: str,
    kernel: dict[str, Any],
    description: str | None,
    commit: bool,
    deploy: bool,
) -> Row:
    """A new version (a draft unless `commit` or `deploy`); with the kernel of one the
    prompt has, that one (committed if asked)."""
    environments.listed(engine, principal)
    with begin_write(engine) as conn:
        _file(conn, principal, file_id)
        ref = FileRef(
            PROMPT,
            id=file_id,
            kernel=kernel,
            version_description=description,
            draft=not (commit or deploy),
        )
        row = files.upsert_in(conn, principal, ref)
        if deploy:
            _deploy(conn, principal, file_id, row)
        return store.version(conn, principal.org_id, file_id, row.version_id)  # type: ignore[return-value]


def edit(
    engine: Engine,
    principal: Principal,
    file_id: str,
    number: int,
    rewrite: Callable[[dict[str, Any]], dict[str, Any]],
    description: str | None = UNSET,
    commit: bool | None = None,
    deploy: bool = False,
) -> Row:
    """Change a version: a draft's kernel (`rewrite` makes the new one of the stored one),
    its description, commit it (`commit`; False asks for a draft), deploy it. Nothing
    changes when any part is refused."""
    environments.listed(engine, principal)
    with begin_write(engine) as conn:
        row = _numbered(conn, principal, file_id, number)
        frozen = readonly(row)
        kernel = rewrite(dict(row.kernel or {}))
        edited = kernel != row.kernel
        if edited:
            if frozen:
                raise Invalid.at(
                    "version",
                    f"version {number} is read-only (committed, deployed or logged): its"
                    " settings cannot change; create a new version instead",
                )
            digest = files.kernel_hash(kernel)
            same = store.version_by_hash(conn, file_id, digest)
            if same is not None:
                raise Conflict(f"version {same.number} of this prompt has these settings")
            store.update_version(
                conn,
                row.version_id,
                {"kernel": kernel, "kernel_hash": digest, "updated_at": utcnow()},
            )
        values: dict[str, Any] = {}
        if description is not UNSET and description != row.version_description:
            values["version_description"] = description
        if commit is False and frozen:
            raise Invalid.at(
                "readonly", f"version {number} is read-only: it cannot be a draft again"
            )
        if commit and row.draft:
            values["draft"] = False
        if values:
            store.update_version(conn, row.version_id, values)
        if edited or values:
            fields = {"fields": sorted({*values, *(["kernel"] if edited else [])})}
            audit.record(conn, principal, "changed", "prompt_version", row.version_id, fields)
        if deploy:
            _deploy(conn, principal, file_id, row)
        changed = store.version(conn, principal.org_id, file_id, row.version_id)
    files.forget_cached()
    return changed  # type: ignore[return-value]


def delete(engine: Engine, principal: Principal, file_id: str) -> None:
    """Delete a prompt: the File, with its versions (its logs stay)."""
    file_edits.delete(engine, principal, file_id, PROMPT)
