"""Humanloop Datasets: Files of Datapoints, versioned, over the dataset tables both dialects
share (`core.datasets` describes the model).

A Datapoint is a dataset row seen as Humanloop sees it: `inputs` (the row's `input`, each
value as text), `messages` (its `prompt_messages`) and `target` (its `target`; for a copy of
a log that has none, `{"output": <the log's output>}`). Its id is a digest of that content,
so identical Datapoints are one: adding one the version holds changes nothing, and a
Datapoint is removed by sending it again (a row copied from a log keeps the log's id, and
is matched by its content all the same). `{"_dedupe_id": ...}` in `inputs` makes a
duplicate on purpose.

Every upsert commits a new version, numbered after the newest: `set` holds exactly the
Datapoints sent, `add` those of the base version and the ones sent, `remove` those of the
base version but the ones sent. The base is the version `version_id` names (or the one
deployed to `environment`), or else the dataset as it is now (which is its newest version,
plus what the Keywords AI dialect has changed since). A dataset that has no version yet (one
made by the Keywords AI dialect) reads as its current rows, under the id `draft_id` gives it.

A version is deployed to environments as a File's is (`core.environments`); a read that names
no version gets the one deployed to the default environment, else the newest. A version can
be named, described and deleted: the others keep their Datapoints (`delete_version`).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, Row

from llmtrail.core import audit, environments
from llmtrail.core import datasets as core_datasets
from llmtrail.core.fields import name_in
from llmtrail.core.file_edits import moved_path
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData
from llmtrail.errors import Conflict, Invalid, NotFound
from llmtrail.store import dataset_versions as store
from llmtrail.store import datasets as store_datasets
from llmtrail.store.database import begin_write
from llmtrail.store.tables import dataset_deployments, dataset_logs

Action = Literal["set", "add", "remove"]
DRAFT = "_draft"
CHUNK = 500  # ids in one IN (...): under every driver's bound-parameter limit


@dataclass(frozen=True)
class Datapoint:
    inputs: dict[str, str] | None = None
    messages: list[Any] | None = None
    target: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        """A digest of the content: identical Datapoints have one id."""
        content = orjson.dumps([self.inputs, self.messages, self.target], option=_CANONICAL)
        return "dp_" + hashlib.sha256(content).hexdigest()[:32]


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def datapoint(row: Any) -> Datapoint:
    """A dataset row as a Datapoint."""
    target = row.target
    if target is None and row.output is not None:
        target = {"output": row.output}
    messages = row.prompt_messages if isinstance(row.prompt_messages, list) else None
    return Datapoint(_inputs(row.input), messages, target if isinstance(target, dict) else None)


def _inputs(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return {"input": _text(value)}
    return {str(k): _text(v) for k, v in value.items()}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def draft_id(dataset_id: str) -> str:
    """The version id of a dataset that has no version yet: its current rows."""
    return "dsv_" + dataset_id.removeprefix("ds_") + DRAFT


@dataclass(frozen=True)
class Version:
    """A dataset at one version (`version` None: a dataset with none yet, as it is now), and
    the environments that version is deployed to."""

    dataset: Row
    version: Row | None
    count: int
    environments: tuple[Row, ...] = ()

    @property
    def id(self) -> str:
        return self.version.id if self.version is not None else draft_id(self.dataset.id)

    def where(self) -> ColumnElement[bool]:
        return _rows_of(self.dataset.id, self.version)


def _rows_of(dataset_id: str, version: Row | None) -> ColumnElement[bool]:
    if version is None:
        return store_datasets.current(dataset_id)
    return store_datasets.in_version(dataset_id, version.number)


def _version(conn: Connection, dataset: Row, version_id: str | None) -> Row | None:
    """The version `version_id` names (404 if none), else the dataset's newest."""
    if version_id is None or version_id == draft_id(dataset.id):
        return store.newest(conn, [dataset.id]).get(dataset.id) if version_id is None else None
    found = store.find_version(conn, dataset.id, version_id)
    if found is None:
        raise NotFound("Version not found")
    return found


def _stored(conn: Connection, dataset: Row, version_id: str) -> Row:
    """A committed version of the dataset (a draft is none): 404 when there is none."""
    found = store.find_version(conn, dataset.id, version_id)
    if found is None:
        raise NotFound("Version not found")
    return found


def _version_of(conn: Connection, who: Principal, dataset_id: str, version_id: str) -> Row | None:
    return store.find_version(conn, dataset_id, version_id)


DEPLOYABLE = environments.Deployable(
    "dataset", "Dataset", dataset_deployments, core_datasets.find, _version_of
)


def _used(
    conn: Connection, who: Principal, dataset: Row, version_id: str | None, environment: str | None
) -> Row | None:
    """The version a read names: `version_id`, else the one deployed to `environment` (404
    when none is), else the one deployed to the default environment, else the newest."""
    if version_id is None:
        version_id = environments.used(conn, who, DEPLOYABLE, dataset.id, environment)
    return _version(conn, dataset, version_id)


def _at(conn: Connection, dataset: Row, version: Row | None) -> Version:
    count = store.count(conn, _rows_of(dataset.id, version))
    if version is None:
        return Version(dataset, version, count)
    deployed = environments.where_deployed(conn, DEPLOYABLE, [dataset.id]).get(version.id, [])
    return Version(dataset, version, count, tuple(deployed))


def get(
    engine: Engine,
    who: Principal,
    dataset_id: str,
    version_id: str | None,
    environment: str | None = None,
) -> Version:
    """The dataset at `version_id`, or at the version deployed to `environment`, or else at
    the one deployed to the default environment, or its newest."""
    with engine.connect() as conn:
        dataset = core_datasets.find(conn, who, dataset_id)
        return _at(conn, dataset, _used(conn, who, dataset, version_id, environment))


def rows(engine: Engine, version: Version, offset: int = 0, limit: int | None = None) -> list[Row]:
    """The rows of a version, in the order they were added."""
    with engine.connect() as conn:
        return store.rows(conn, version.where(), offset, limit)


def listed(
    engine: Engine,
    who: Principal,
    *,
    page: int,
    size: int,
    name: str | None,
    sort_by: str,
    descending: bool,
) -> tuple[int, list[Version]]:
    """A page of the organization's datasets, each at its newest version."""
    with engine.connect() as conn:
        total, found = store.datasets_page(
            conn, who.org_id, name, sort_by, descending, (page - 1) * size, size
        )
        newest = store.newest(conn, [row.id for row in found])
        return total, [_at(conn, row, newest.get(row.id)) for row in found]


def versions(engine: Engine, who: Principal, dataset_id: str) -> list[Version]:
    """Every version of a dataset, oldest first (a dataset with none: its draft)."""
    with engine.connect() as conn:
        dataset = core_datasets.find(conn, who, dataset_id)
        found = store_datasets.versions(conn, dataset.id) or [None]
        return [_at(conn, dataset, version) for version in found]


@dataclass(frozen=True)
class Upsert:
    """What `POST /v5/datasets` asks: which dataset, which Datapoints, and how."""

    datapoints: Sequence[Datapoint]
    id: str | None = None
    path: str | None = None
    action: Action = "set"
    version_id: str | None = None
    environment: str | None = None
    version_name: str | None = None
    version_description: str | None = None


def upsert(engine: Engine, who: Principal, request: Upsert) -> Version:
    """Create the dataset at `path` if there is none, then commit its new version."""
    dataset_id = _dataset_for(engine, who, request)
    now = utcnow()
    with begin_write(engine) as conn:
        store.lock(conn, dataset_id)
        dataset = core_datasets.find(conn, who, dataset_id)
        if request.version_name and store.name_taken(conn, dataset_id, request.version_name):
            raise Conflict(f"a version named '{request.version_name}' already exists")
        named = request.version_id is not None or request.environment is not None
        base = _used(conn, who, dataset, request.version_id, request.environment) if named else None
        held = [(datapoint(row).id, row) for row in store.rows(conn, _rows_of(dataset_id, base))]
        first = {key: row for key, row in reversed(held)}
        sent = {point.id: point for point in request.datapoints}
        new = [point for key, point in sent.items() if key not in first]
        if request.action == "remove":
            kept, new = [row for key, row in held if key not in sent], []
        elif request.action == "add":
            kept = [row for _, row in held]
        else:
            kept = [first[key] for key in sent if key in first]
        number = store_datasets.latest(conn, dataset_id) + 1
        _become(conn, dataset_id, kept, number, now)
        core_datasets.add_rows(conn, who, dataset_id, [_as_log(point) for point in new])
        core_datasets.commit_version(
            conn, who, dataset_id, request.version_name, request.version_description
        )
        store_datasets.update_dataset(conn, who.org_id, dataset_id, updated_at=now)
        changes = {"version": number, "action": request.action}
        audit.record(conn, who, "changed", "dataset", dataset_id, changes)
        return _at(conn, core_datasets.find(conn, who, dataset_id), _version(conn, dataset, None))


def describe_version(
    engine: Engine, who: Principal, dataset_id: str, version_id: str, changes: dict[str, Any]
) -> Version:
    """A version with a new `version_name` and/or `version_description` (None unsets); 409
    when another version of the dataset has the name."""
    with begin_write(engine) as conn:
        dataset = core_datasets.find(conn, who, dataset_id)
        _stored(conn, dataset, version_id)
        name = changes.get("version_name")
        if name is not None and store.name_taken(conn, dataset_id, name, besides=version_id):
            raise Conflict(f"a version named '{name}' already exists")
        if changes:
            store.update_version(conn, version_id, changes)
            fields = {"fields": sorted(changes)}
            audit.record(conn, who, "changed", "dataset_version", version_id, fields)
        return _at(conn, dataset, _stored(conn, dataset, version_id))


def delete_version(engine: Engine, who: Principal, dataset_id: str, version_id: str) -> None:
    """Delete one version; every other keeps its Datapoints and the dataset as it is now
    does not change (`store.drop_version`: deleting the newest leaves its Datapoints there,
    uncommitted), and a dataset left with none reads as its current rows. 409 while it is
    deployed, or while an Evaluation Run is over it (the Run reads its Datapoints)."""
    with begin_write(engine) as conn:
        store.lock(conn, dataset_id)
        dataset = core_datasets.find(conn, who, dataset_id)
        version = _stored(conn, dataset, version_id)
        environments.refuse_deployed(conn, DEPLOYABLE, version_id)
        runs = store.runs_over(conn, who.org_id, version_id)
        if runs:
            raise Conflict(
                f"Evaluation Run '{runs[0]}' is over this version: remove it from its"
                " Evaluations first"
            )
        store.drop_version(conn, version)
        store_datasets.update_dataset(conn, who.org_id, dataset_id, updated_at=utcnow())
        audit.record(conn, who, "deleted", "dataset_version", version_id)


def move(
    engine: Engine, who: Principal, dataset_id: str, path: str | None, name: str | None
) -> Version:
    """A dataset moved to `path` (its name the path's last part) or renamed in place, as a
    File is; at its newest version. 409 when another dataset has the path."""
    with begin_write(engine) as conn:
        dataset = core_datasets.find(conn, who, dataset_id)
        new_path = moved_path(dataset.path, path, name)
        if new_path != dataset.path:
            if store.find_by_path(conn, who.org_id, new_path) is not None:
                raise Conflict(f"a dataset at '{new_path}' already exists")
            values = {"path": new_path, "name": posixpath.basename(new_path)}
            store_datasets.update_dataset(
                conn, who.org_id, dataset_id, **values, updated_at=utcnow()
            )
            audit.record(conn, who, "changed", "dataset", dataset_id, {"fields": ["path"]})
            dataset = core_datasets.find(conn, who, dataset_id)
        return _at(conn, dataset, _version(conn, dataset, None))


def _dataset_for(engine: Engine, who: Principal, request: Upsert) -> str:
    """The id of the dataset `id` or `path` names; one is created at a new `path`."""
    if request.id is not None:
        return request.id
    if not request.path or not request.path.strip("/"):
        raise Invalid.at("path", "a Dataset `path` or `id` is required", "missing")
    path = request.path.strip("/")
    with engine.connect() as conn:
        found = store.find_by_path(conn, who.org_id, path)
    if found is not None:
        return found.id
    name = name_in(path)
    return core_datasets.create(engine, who, name=name, type="llm", path=path).id


def _become(conn: Connection, dataset_id: str, kept: Iterable[Row], number: int, now: Any) -> None:
    """Make the dataset's current rows exactly `kept` (rows of some version): take out the
    current rows not among them, and bring back, as copies, those no longer current."""
    keep = {row.id: row for row in kept}
    current = set(store_datasets.current_ids(conn, dataset_id))
    gone = [key for key in current if key not in keep]
    for start in range(0, len(gone), CHUNK):
        core_datasets.remove_rows(
            conn, dataset_id, dataset_logs.c.id.in_(gone[start : start + CHUNK])
        )
    back = [
        {**_copied(row), "added_in": number, "removed_in": None, "updated_at": now}
        for key, row in keep.items()
        if key not in current
    ]
    store_datasets.insert_rows(conn, back)


def _copied(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k != "id"}


def _as_log(point: Datapoint) -> tuple[LogData, Any]:
    """A Datapoint as a dataset log made directly, and its target."""
    log = LogData(unique_id=point.id, input=point.inputs, prompt_messages=point.messages)
    return log, point.target


def parse_csv_rows(records: Iterable[Mapping[str, str]]) -> list[Datapoint]:
    """Datapoints of an uploaded CSV: each column an input, but `messages` (a JSON list) and
    `target` (a JSON object), which are the Datapoint's own; an empty cell is no input."""
    points = []
    for number, record in enumerate(records, start=2):  # line 1 is the header
        inputs, messages, target = {}, None, None
        for column, cell in record.items():
            if column in ("messages", "target"):
                if cell:
                    parsed = _json_cell(cell, number, column)
                    kind = list if column == "messages" else dict
                    if not isinstance(parsed, kind):
                        rule = "a JSON list" if kind is list else "a JSON object"
                        raise Invalid.at(("file", f"line {number}", column), f"must be {rule}")
                    messages, target = (parsed, target) if kind is list else (messages, parsed)
            elif column and cell:
                inputs[column] = cell
        points.append(Datapoint(inputs or None, messages, target))
    return points


def _json_cell(cell: str, number: int, column: str) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        raise Invalid.at(("file", f"line {number}", column), "is not valid JSON") from None
