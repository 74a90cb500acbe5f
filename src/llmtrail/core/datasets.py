"""Datasets: frozen snapshots of logs, the raw material of evaluation and fine-tuning, one
model for both dialects.

The model, for whoever builds on it (tables in `store/tables.py`, SQL in `store/datasets.py`):

- A **dataset** (`datasets`) belongs to an organization: `id` (`ds_...`, the same id in both
  dialects), `name`, `description`, `type` (`sampling` or `llm`), `path` (unique in the
  organization: where the Humanloop dialect files it as a Dataset File), `status` (`ready`,
  `loading` while a background job fills it, `failed` when that job gave up) with
  `running_status` (`pending`, `running`, `completed`, `failed`) and `running_progress`
  (percent) showing that job.
- A **dataset log** (`dataset_logs`) is a row of the dataset. Added from a log, it is a copy
  of every column of the log taken when it was added (`SNAPSHOT_COLUMNS`), keeping the log's
  `unique_id` as its own id and the log's key in `source_log_id`: later edits to the log, or
  its deletion, do not change it. Created directly (a Keywords AI dataset log, a Humanloop
  datapoint), it has no source; `input`, `output`, `prompt_messages`, `completion_message`,
  `metadata` and `target` (Humanloop's expected output) hold what was given. The dataset holds
  one current row per unique_id, so adding a log twice does not duplicate it.
- **Versions** (`dataset_versions`): committed states numbered 1, 2, ... per dataset, with a
  `version_name`. A row carries `added_in`, the number of the first version holding it, and
  `removed_in`, the first that no longer does (null: it is still current). Version N holds
  the rows with `added_in <= N` and no `removed_in`, or one above N. Changes made since the
  newest version (number `latest`) are `latest + 1`: the next version to be committed holds
  them. Removing a row no version holds deletes it; removing one a version holds marks it
  `removed_in = latest + 1`; changing one a version holds replaces it by a new row
  (copy-on-write), so a committed version never changes. A dataset with no versions (the
  Keywords AI dialect has none) is edited in place. Humanloop's `action` maps onto this:
  `add` inserts rows, `remove` removes the rows given, `set` removes every current row not
  given and adds those given; then a version row `latest + 1` commits the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import audit
from llmtrail.core.fields import text
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.errors import Conflict, FieldError, Invalid, NotFound
from llmtrail.store import datasets as store
from llmtrail.store.database import begin_write
from llmtrail.store.filtering import compile_filter
from llmtrail.store.predicates import Group
from llmtrail.store.tables import SNAPSHOT_COLUMNS, dataset_logs

TYPES = ("sampling", "llm")
READY, LOADING = "ready", "loading"
PENDING, RUNNING, COMPLETED, FAILED = "pending", "running", "completed", "failed"
NOT_FOUND = "Dataset not found"


@dataclass(frozen=True)
class Window:
    """Which logs fill a dataset: a time window, filters (raw, as sent) and a share in percent."""

    start_time: datetime
    end_time: datetime
    filters: dict[str, Any]
    sampling: float


def find(conn: Connection, who: Principal, dataset_id: str) -> Row:
    row = store.get(conn, who.org_id, dataset_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def get(engine: Engine, who: Principal, dataset_id: str) -> Row:
    with engine.connect() as conn:
        return find(conn, who, dataset_id)


def log_counts(engine: Engine, rows: list[Row]) -> dict[str, int]:
    with engine.connect() as conn:
        return store.counts(conn, [row.id for row in rows])


def listed(
    engine: Engine, who: Principal, page: int, page_size: int, sort_by: str = "-created_at"
) -> tuple[int, list[Row]]:
    sort = sort_by.lstrip("-")
    if sort not in store.SORTS:
        raise Invalid.at("sort_by", f"must be one of {', '.join(store.SORTS)}, '-' for descending")
    with engine.connect() as conn:
        return store.page(
            conn, who.org_id, (page - 1) * page_size, page_size, sort, sort_by.startswith("-")
        )


def described(body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The `name`, `description` and `type` a create or patch body gives, checked."""
    errors: list[FieldError] = []
    given: dict[str, Any] = {
        "name": text(body, "name", blank=False, errors=errors),
        "description": text(body, "description", errors=errors),
    }
    if creating and given["name"] is None and not errors:
        errors.append(FieldError(("name",), "This field is required.", "missing"))
    if body.get("type") is not None:
        if body["type"] not in TYPES:
            errors.append(FieldError(("type",), f"must be one of {', '.join(TYPES)}", "enum"))
        given["type"] = body["type"]
    if errors:
        raise Invalid(errors)
    return {k: v for k, v in given.items() if v is not None}


def create(
    engine: Engine,
    who: Principal,
    *,
    name: str,
    description: str = "",
    type: str = "sampling",
    path: str | None = None,
    fill: Window | None = None,
) -> Row:
    """A new dataset, empty, or filled in the background from the logs of `fill` (its
    status `loading` until the job is done). `path` defaults to the name (made unique)."""
    from llmtrail.core import dataset_jobs  # the job kind names this module's rules

    now = utcnow()
    dataset_id = new_id("ds_")
    with begin_write(engine) as conn:
        if path is None:
            path = name if not store.path_taken(conn, who.org_id, name) else f"{name} {dataset_id}"
        elif store.path_taken(conn, who.org_id, path):
            raise Conflict(f"a dataset at '{path}' already exists")
        row = {
            "id": dataset_id,
            "org_id": who.org_id,
            "name": name,
            "description": description,
            "type": type,
            # Empty: nothing to run, so its run is complete (the SDK's Dataset needs a state).
            "status": READY if fill is None else LOADING,
            "running_status": COMPLETED if fill is None else PENDING,
            "running_progress": 100.0 if fill is None else 0.0,
            "running_at": None if fill is None else now,
            "path": path,
            "initial_log_filters": fill.filters if fill is not None else None,
            "start_time": fill.start_time if fill is not None else None,
            "end_time": fill.end_time if fill is not None else None,
            "created_at": now,
            "updated_at": now,
        }
        store.insert_dataset(conn, row)
        if fill is not None:
            dataset_jobs.queue_add(conn, who, dataset_id, fill, now)
        audit.record(conn, who, "created", "dataset", dataset_id)
        return find(conn, who, dataset_id)


def update(engine: Engine, who: Principal, dataset_id: str, changes: dict[str, Any]) -> Row:
    """Rename or describe a dataset (`described` checked the changes)."""
    with begin_write(engine) as conn:
        find(conn, who, dataset_id)
        if changes:
            store.update_dataset(conn, who.org_id, dataset_id, **changes, updated_at=utcnow())
            audit.record(conn, who, "changed", "dataset", dataset_id, {"fields": sorted(changes)})
        return find(conn, who, dataset_id)


def delete(engine: Engine, who: Principal, dataset_id: str) -> None:
    """The dataset, its logs, versions and evaluation runs."""
    with begin_write(engine) as conn:
        if not store.delete_dataset(conn, who.org_id, dataset_id):
            raise NotFound(NOT_FOUND)
        audit.record(conn, who, "deleted", "dataset", dataset_id)


def add_logs(engine: Engine, who: Principal, dataset_id: str, window: Window) -> None:
    """Copy the logs of `window` into the dataset, in the background (`dataset_jobs`)."""
    from llmtrail.core import dataset_jobs

    with begin_write(engine) as conn:
        find(conn, who, dataset_id)
        dataset_jobs.queue_add(conn, who, dataset_id, window, utcnow())
        audit.record(conn, who, "changed", "dataset", dataset_id, {"logs": "added"})


# --- dataset logs ---------------------------------------------------------------------------

LOG_NOT_FOUND = "Log not found in the dataset"
# What a patch or replace of a dataset log may set (`parameters` live in `extra`).
EDITABLE = ("input", "output", "prompt_messages", "completion_message", "model", "metadata")
EDITABLE_ALL = (*EDITABLE, "target", "extra")


def dataset_filters(raw: Any) -> dict[str, Any]:
    """Filters of a dataset log list in the §5.1 form; the §5.4 form is also read:
    `{"model": "gpt-4", "metadata.user_id": "u", "created_at": {"gte": ..., "lte": ...}}`."""
    if not isinstance(raw, dict):
        raise Invalid.at("filters", "must be an object of field: condition")
    out: dict[str, Any] = {}
    for name, spec in raw.items():
        field_name = f"metadata__{name[9:]}" if name.startswith("metadata.") else name
        as_sent = isinstance(spec, dict) and ("operator" in spec or "value" in spec)
        if name == "filter_bundle" or isinstance(spec, list) or as_sent:
            out[field_name] = spec
        elif isinstance(spec, dict):
            out[field_name] = [{"operator": op, "value": value} for op, value in spec.items()]
        else:
            out[field_name] = {"operator": "", "value": [spec]}
    return out


def _filter(who: Principal, filters: Group | None) -> Any:
    return None if filters is None else compile_filter(filters, who.org_id, dataset_logs)


def create_log(
    engine: Engine, who: Principal, dataset_id: str, log: LogData, target: Any = None
) -> Row:
    """A dataset log made from what was given, not copied from a log (no source)."""
    now = utcnow()
    row = to_row(finalize(log, now), who, now)
    with begin_write(engine) as conn:
        find(conn, who, dataset_id)
        if store.get_log(conn, dataset_id, row["unique_id"]) is not None:
            raise Conflict(f"the dataset already holds a log with id '{row['unique_id']}'")
        [key] = store.insert_rows(
            conn,
            [
                {
                    **{name: row[name] for name in SNAPSHOT_COLUMNS},
                    "org_id": who.org_id,
                    "dataset_id": dataset_id,
                    "source_log_id": None,
                    "added_in": store.latest(conn, dataset_id) + 1,
                    "added_at": now,
                    "updated_at": now,
                    "target": target,
                }
            ],
        )
        audit.record(conn, who, "changed", "dataset", dataset_id, {"logs": "created"})
        return store.by_ids(conn, [key])[0]


def _find_log(conn: Connection, who: Principal, dataset_id: str, unique_id: str) -> Row:
    find(conn, who, dataset_id)
    row = store.get_log(conn, dataset_id, unique_id)
    if row is None:
        raise NotFound(LOG_NOT_FOUND)
    return row


def get_log(engine: Engine, who: Principal, dataset_id: str, unique_id: str) -> Row:
    with engine.connect() as conn:
        return _find_log(conn, who, dataset_id, unique_id)


def list_logs(
    engine: Engine,
    who: Principal,
    dataset_id: str,
    filters: Group | None,
    page: int,
    page_size: int,
    sort_by: str = "unique_id",
) -> tuple[int, list[Row]]:
    sort = sort_by.lstrip("-")
    if sort not in store.LOG_SORTS:
        raise Invalid.at("sort_by", f"must be one of {', '.join(store.LOG_SORTS)}")
    with engine.connect() as conn:
        find(conn, who, dataset_id)
        return store.logs_page(
            conn,
            dataset_id,
            _filter(who, filters),
            (page - 1) * page_size,
            page_size,
            sort,
            sort_by.startswith("-"),
        )


def change_log(
    engine: Engine, who: Principal, dataset_id: str, unique_id: str, values: dict[str, Any]
) -> Row:
    """Set these columns (`EDITABLE_ALL`) of a dataset log. A row a version holds is kept for
    that version and replaced, for the dataset's current state, by a changed copy."""
    now = utcnow()
    with begin_write(engine) as conn:
        row = _find_log(conn, who, dataset_id, unique_id)
        latest = store.latest(conn, dataset_id)
        if row.added_in > latest:
            store.update_log(conn, row.id, **values, updated_at=now)
            key = row.id
        else:
            store.update_log(conn, row.id, removed_in=latest + 1)
            copy = {k: v for k, v in row._mapping.items() if k not in ("id", "removed_in")}
            [key] = store.insert_rows(
                conn, [{**copy, **values, "added_in": latest + 1, "updated_at": now}]
            )
        audit.record(conn, who, "changed", "dataset", dataset_id, {"logs": "changed"})
        return store.by_ids(conn, [key])[0]


def delete_log(engine: Engine, who: Principal, dataset_id: str, unique_id: str) -> None:
    with begin_write(engine) as conn:
        row = _find_log(conn, who, dataset_id, unique_id)
        store.remove(conn, dataset_id, dataset_logs.c.id == row.id, store.latest(conn, dataset_id))
        audit.record(conn, who, "changed", "dataset", dataset_id, {"logs": "removed"})


def remove_logs(engine: Engine, who: Principal, dataset_id: str, filters: Group | None) -> int:
    """Take the logs that pass `filters` (None: every log) out of the dataset; how many."""
    with begin_write(engine) as conn:
        find(conn, who, dataset_id)
        removed = store.remove(
            conn, dataset_id, _filter(who, filters), store.latest(conn, dataset_id)
        )
        audit.record(conn, who, "changed", "dataset", dataset_id, {"logs": "removed"})
        return removed


# --- versions -------------------------------------------------------------------------------


def commit_version(
    conn: Connection,
    who: Principal,
    dataset_id: str,
    version_name: str | None = None,
    version_description: str | None = None,
) -> Row:
    """Commit the dataset's current state as its next version, in the caller's transaction
    (after the changes it commits): the rows changed since the newest version are its."""
    find(conn, who, dataset_id)
    number = store.latest(conn, dataset_id) + 1
    store.insert_version(
        conn,
        {
            "id": new_id("dsv_"),
            "org_id": who.org_id,
            "dataset_id": dataset_id,
            "number": number,
            "version_name": version_name,
            "version_description": version_description,
            "created_at": utcnow(),
        },
    )
    return store.versions(conn, dataset_id)[-1]


def version_logs(engine: Engine, who: Principal, dataset_id: str, number: int) -> list[Row]:
    """The rows version `number` of the dataset holds (its current rows past the newest)."""
    with engine.connect() as conn:
        find(conn, who, dataset_id)
        return store.version_rows(conn, dataset_id, number)
