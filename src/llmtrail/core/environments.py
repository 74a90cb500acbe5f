"""Humanloop environments: where a File version is deployed. Each organization has
`production` (its default: a File is used at the version deployed there, `files._current`)
and `staging`, made when it first asks for them."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit
from llmtrail.core.files import FileType
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import NotFound
from llmtrail.store import environments as store
from llmtrail.store import files as file_store
from llmtrail.store.database import begin_write


def listed(engine: Engine, principal: Principal) -> list[Row]:
    """The organization's environments, made with the defaults at the first call."""
    with engine.connect() as conn:
        found = store.listed(conn, principal.org_id)
    if found:
        return found
    now = utcnow()
    rows = [
        dict(id=new_id("env_"), org_id=principal.org_id, name=name, tag=tag, created_at=now)
        for name, tag in store.DEFAULTS
    ]
    try:
        with begin_write(engine) as conn:
            store.insert(conn, rows)
    except IntegrityError:
        pass  # a concurrent first call made them
    with engine.connect() as conn:
        return store.listed(conn, principal.org_id)


def _environment(conn: Connection, principal: Principal, key: str) -> Row:
    env = store.by_key(conn, principal.org_id, key)
    if env is None:
        raise NotFound(f"Environment '{key}' not found")
    return env


def _file(conn: Connection, principal: Principal, file_id: str, type: FileType) -> Row:
    file = file_store.file_by(conn, principal.org_id, file_id=file_id)
    if file is None or file.type != type.value:
        raise NotFound("File not found")
    return file


def of_file(
    engine: Engine, principal: Principal, file_id: str, type: FileType
) -> list[tuple[Row, str | None]]:
    """Each environment, with the version of the File deployed to it (None: none is)."""
    envs = listed(engine, principal)
    with engine.connect() as conn:
        _file(conn, principal, file_id, type)
        deployed = {row.id: row.version_id for row in store.of_files(conn, [file_id])}
    return [(env, deployed.get(env.id)) for env in envs]


def deploy(
    engine: Engine,
    principal: Principal,
    file_id: str,
    type: FileType,
    environment: str,
    version_id: str,
) -> Row:
    """Deploy a version of the File to an environment (by id or name), in place of the one
    deployed there; returns the version."""
    listed(engine, principal)
    with begin_write(engine) as conn:
        return deploy_in(conn, principal, file_id, type, environment, version_id)


def deploy_in(
    conn: Connection,
    principal: Principal,
    file_id: str,
    type: FileType,
    environment: str,
    version_id: str,
) -> Row:
    """`deploy` in the caller's write transaction (the environments made). A deployed draft
    is committed: what went live stays as it was (`core.prompt_versions`)."""
    _file(conn, principal, file_id, type)
    env = _environment(conn, principal, environment)
    version = file_store.version(conn, principal.org_id, file_id, version_id)
    if version is None:
        raise NotFound("Version not found")
    store.deploy(conn, principal.org_id, file_id, env.id, version_id, utcnow())
    if version.draft:
        file_store.update_version(conn, version_id, {"draft": False})
    change = {"environment": env.name, "version_id": version_id}
    audit.record(conn, principal, "changed", f"{type.value}_deployment", file_id, change)
    return version


def remove(
    engine: Engine, principal: Principal, file_id: str, type: FileType, environment: str
) -> None:
    """Take the File's version off an environment; 404 when none is deployed there."""
    with begin_write(engine) as conn:
        _file(conn, principal, file_id, type)
        env = _environment(conn, principal, environment)
        if not store.undeploy(conn, file_id, env.id):
            raise NotFound(f"No version of this File is deployed to '{env.name}'")
        change = {"environment": env.name}
        audit.record(conn, principal, "deleted", f"{type.value}_deployment", file_id, change)
