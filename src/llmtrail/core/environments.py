"""Humanloop environments: where a version of a File or of a Dataset is deployed. Each
organization has `production` (its default: a File or Dataset is used at the version
deployed there, `used`) and `staging`, made when it first asks for them.

What has versions to deploy is a `Deployable`: the Files of one type (`files.DEPLOYABLE`)
or the Datasets (`datapoints.DEPLOYABLE`); every rule here serves both."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, Table
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.errors import Conflict, NotFound
from llmtrail.store import environments as store
from llmtrail.store.database import begin_write


@dataclass(frozen=True)
class Deployable:
    """The Files of one type, or the Datasets: `find` one by id (404 when it is none of the
    caller's), `version` of it by id (None: it has no such version); `table` holds their
    deployments, `kind` names them in the audit and `noun` in refusals; `deployed`, when
    given, is what deploying does to the version itself."""

    kind: str
    noun: str
    table: Table
    find: Callable[[Connection, Principal, str], Row]
    version: Callable[[Connection, Principal, str, str], Row | None]
    deployed: Callable[[Connection, Row], None] | None = None


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


def used(
    conn: Connection, principal: Principal, what: Deployable, key: str, environment: str | None
) -> str | None:
    """The id of the version a File or Dataset is used at: the one deployed to `environment`
    (404 when there is none), else the one deployed to the default environment; None when
    none is, and none was asked for (the caller takes its newest)."""
    if environment is not None:
        env = _environment(conn, principal, environment)
    else:
        env = store.default(conn, principal.org_id)
    version_id = store.deployed(conn, what.table, key, env.id) if env is not None else None
    if environment is not None and version_id is None:
        raise NotFound(f"No version of this {what.noun} is deployed to '{environment}'")
    return version_id


def where_deployed(conn: Connection, what: Deployable, keys: Iterable[str]) -> dict[str, list[Row]]:
    """Version id -> the environments it is deployed to, for the versions of these Files
    (or Datasets) that are deployed."""
    deployed: dict[str, list[Row]] = {}
    for row in store.of_files(conn, what.table, keys):
        deployed.setdefault(row.version_id, []).append(row)
    return deployed


def refuse_deployed(conn: Connection, what: Deployable, version_id: str) -> None:
    """A deployed version cannot be deleted: the environments that use it would lose it."""
    if store.is_deployed(conn, what.table, version_id):
        raise Conflict("this version is deployed: remove it from its environments first")


def of(
    engine: Engine, principal: Principal, what: Deployable, key: str
) -> list[tuple[Row, str | None]]:
    """Each environment, with the version of the File (or Dataset) deployed to it (None:
    none is)."""
    envs = listed(engine, principal)
    with engine.connect() as conn:
        what.find(conn, principal, key)
        deployed = {row.id: row.version_id for row in store.of_files(conn, what.table, [key])}
    return [(env, deployed.get(env.id)) for env in envs]


def deploy(
    engine: Engine,
    principal: Principal,
    what: Deployable,
    key: str,
    environment: str,
    version_id: str,
) -> Row:
    """Deploy a version of the File (or Dataset) to an environment (by id or name), in place
    of the one deployed there; returns the version."""
    listed(engine, principal)
    with begin_write(engine) as conn:
        return deploy_in(conn, principal, what, key, environment, version_id)


def deploy_in(
    conn: Connection,
    principal: Principal,
    what: Deployable,
    key: str,
    environment: str,
    version_id: str,
) -> Row:
    """`deploy` in the caller's write transaction (the environments made)."""
    what.find(conn, principal, key)
    env = _environment(conn, principal, environment)
    version = what.version(conn, principal, key, version_id)
    if version is None:
        raise NotFound("Version not found")
    store.deploy(conn, what.table, principal.org_id, key, env.id, version_id, utcnow())
    if what.deployed is not None:
        what.deployed(conn, version)
    change = {"environment": env.name, "version_id": version_id}
    audit.record(conn, principal, "changed", f"{what.kind}_deployment", key, change)
    return version


def remove(
    engine: Engine, principal: Principal, what: Deployable, key: str, environment: str
) -> None:
    """Take the version off an environment; 404 when none is deployed there."""
    with begin_write(engine) as conn:
        what.find(conn, principal, key)
        env = _environment(conn, principal, environment)
        if not store.undeploy(conn, what.table, key, env.id):
            raise NotFound(f"No version of this {what.noun} is deployed to '{env.name}'")
        change = {"environment": env.name}
        audit.record(conn, principal, "deleted", f"{what.kind}_deployment", key, change)
