"""Humanloop Evaluations: a File judged by a set of Evaluators, Run by Run.

A Run snapshots a Dataset version (how many Datapoints it holds) and the evaluated File
version. Its Logs are the File's own Logs, attached when they are posted with `run_id` (in
the writer transaction that stores them, `RunLogs`), or later (`add_logs`, or existing Logs
of the version made from the Dataset's Datapoints). So a judgment of a Run Log is that Log's
score, whoever gave it: the server runs the Evaluators that run by themselves (llm, code,
rule) as `evaluate` jobs, queued in the transaction where a Run Log is complete (a
`LogsCompleted` subscriber, as online evaluation's in `core/monitoring.py`, or the change
that attaches complete Logs); an external Evaluator's judgments come as Evaluator Logs
(`core/judgments.py`), a human's from people.

A Run is `pending` until it has a Log and `running` after; it is `completed` when it says so
(`update_run`), or, over a Dataset, once every Datapoint has a Log and every Log a score of
every Evaluator that is not human (a job that gave up counts as one): that is what the
SDK's `evals.run` waits for. `cancelled` Runs stay so. Stats are computed per Run and
Evaluator in SQL (`store.hl_evaluations.aggregates`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select
from sqlalchemy.exc import IntegrityError

from llmtrail.core import audit, datapoints, events, files, jobs
from llmtrail.core.dataset_evals import distribution
from llmtrail.core.files import FileType
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.monitoring import EVALUATE
from llmtrail.errors import Conflict, FieldError, Invalid, NotFound
from llmtrail.store import dataset_versions as dataset_version_store
from llmtrail.store import evaluation as evaluation_store
from llmtrail.store import files as file_store
from llmtrail.store import hl_evaluations as store
from llmtrail.store import jobs as job_store
from llmtrail.store import logs as log_store
from llmtrail.store.database import begin_write
from llmtrail.store.writer import After, Submission, WriteTx

PENDING, RUNNING, COMPLETED, CANCELLED = "pending", "running", "completed", "cancelled"
STATUSES = (PENDING, RUNNING, COMPLETED, CANCELLED)
SERVER_KINDS = ("llm", "code", "rule")  # the kinds the server runs
NOT_FOUND = "Evaluation not found"
RUN_NOT_FOUND = "Run not found"


def origin(run_id: str) -> str:
    """What a Run's `evaluate` jobs are queued by (`jobs.origin`)."""
    return f"evaluation-run:{run_id}"


@dataclass(frozen=True)
class Ref:
    """How a request names a File or a version: by version id, File id or path (`loc` is
    the field that did, for the refusal); an Evaluator may say whether it is orchestrated."""

    loc: tuple[str | int, ...]
    version_id: str | None = None
    file_id: str | None = None
    path: str | None = None
    environment: str | None = None
    orchestrated: bool | None = None


# Evaluations


def create(
    engine: Engine, who: Principal, file: Ref | None, name: str | None, chosen: list[Ref]
) -> Row:
    """A new Evaluation of the File with these Evaluators; a name the File's Evaluations use
    already is 409 (the SDK then looks for it by name)."""
    if file is None or not (file.file_id or file.path):
        raise Invalid.at("file", "the File to evaluate is required: its `id` or `path`", "missing")
    evaluated = _file_version(engine, who, file, None)
    versions = _evaluator_versions(engine, who, chosen)
    now = utcnow()
    taken = Conflict(f"An Evaluation named '{name}' exists for this File already")
    try:
        with begin_write(engine) as conn:
            if name is not None and store.name_taken(conn, evaluated.file_id, name):
                raise taken
            return _insert(conn, who, evaluated.file_id, name, versions, now)
    except IntegrityError:  # made meanwhile by another request
        raise taken from None


def _insert(
    conn: Connection,
    who: Principal,
    file_id: str,
    name: str | None,
    versions: list[tuple[Ref, Row]],
    now: datetime,
) -> Row:
    """The Evaluation's rows, in the caller's transaction."""
    evaluation_id = new_id("evr_")
    store.insert_evaluation(
        conn,
        {
            "id": evaluation_id,
            "org_id": who.org_id,
            "file_id": file_id,
            "name": name,
            "created_at": now,
            "updated_at": now,
        },
    )
    store.add_evaluators(conn, _evaluator_rows(evaluation_id, versions, now))
    audit.record(conn, who, "created", "evaluation", evaluation_id)
    return _find(conn, who, evaluation_id)


def _file_version(engine: Engine, who: Principal, ref: Ref, type: FileType | None) -> Row:
    """The File version `ref` names (by path or File id: its current version); refused at
    `ref.loc` when there is none (or it is of another type)."""
    try:
        if ref.version_id is not None:
            with engine.connect() as conn:
                found = file_store.versions_by_id(conn, who.org_id, [ref.version_id])
            version = found.get(ref.version_id)
            if version is None:
                raise NotFound("no such version")
        elif ref.file_id is not None:
            version = files.get(engine, who, ref.file_id, None, None, ref.environment)
        elif ref.path is not None:
            version = files.by_path(engine, who, ref.path, ref.environment)
        else:
            raise Invalid.at(ref.loc, "name it by `version_id`, `id` or `path`", "missing")
    except NotFound:
        key = ref.version_id or ref.file_id or ref.path
        what = type.value if type else "File"
        raise Invalid.at(ref.loc, f"no {what} '{key}'", "not_found") from None
    if type is not None and version.type != type:
        raise Invalid.at(ref.loc, f"'{version.path}' is a {version.type}, not a {type.value}")
    return version


def _evaluator_versions(engine: Engine, who: Principal, chosen: list[Ref]) -> list[tuple[Ref, Row]]:
    """Each Evaluator named, at the version named, every unknown one refused together."""
    found, errors = [], []
    for ref in chosen:
        try:
            found.append((ref, _file_version(engine, who, ref, FileType.EVALUATOR)))
        except Invalid as exc:
            errors += exc.errors
    if errors:
        raise Invalid(errors)
    return found


def _evaluator_rows(
    evaluation_id: str, versions: list[tuple[Ref, Row]], now: datetime, after: int = 0
) -> list[dict[str, Any]]:
    """The rows of the Evaluators named, each once, numbered after the `after` it has."""
    rows: dict[str, dict[str, Any]] = {}
    for ref, version in versions:
        rows.setdefault(
            version.file_id,
            {
                "evaluation_id": evaluation_id,
                "evaluator_id": version.file_id,
                "version_id": version.version_id,
                "orchestrated": ref.orchestrated,  # None: decided by its kind
                "position": after + len(rows),
                "added_at": now,
            },
        )
    return list(rows.values())


def _find(conn: Connection, who: Principal, evaluation_id: str) -> Row:
    row = store.get_evaluation(conn, who.org_id, evaluation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def get(engine: Engine, who: Principal, evaluation_id: str) -> Row:
    with engine.connect() as conn:
        return _find(conn, who, evaluation_id)


def listed(
    engine: Engine, who: Principal, file_id: str, page: int, size: int
) -> tuple[int, list[Row]]:
    """(total, one page newest first) of the File's Evaluations."""
    with engine.connect() as conn:
        return store.evaluations_page(conn, who.org_id, file_id, (page - 1) * size, size)


@dataclass(frozen=True)
class Described:
    """What an Evaluation answer nests: its Evaluators (version, orchestrated, added) and
    how many Runs it shows, per Evaluation."""

    evaluators: dict[str, list[Row]] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)

    def orchestrated(self, row: Row) -> bool:
        return _orchestrated(row)


def describe(engine: Engine, rows: Sequence[Row]) -> Described:
    ids = [r.id for r in rows]
    with engine.connect() as conn:
        found: dict[str, list[Row]] = {key: [] for key in ids}
        for row in store.evaluators_of(conn, ids):
            found[row.evaluation_id].append(row)
        return Described(found, store.run_counts(conn, ids))


def _present(rows: list[Row]) -> list[Row]:
    """The Evaluators not deleted since they were added."""
    return [row for row in rows if row.kind is not None]


def _orchestrated(row: Row) -> bool:
    """Whether the server runs the Evaluator: as asked, else by its kind."""
    if row.orchestrated is not None:
        return bool(row.orchestrated)
    return row.kind in SERVER_KINDS


def _awaited(row: Row) -> bool:
    """Whether a Run waits for the Evaluator's judgments to complete: every Evaluator but
    a human one (people judge in their own time)."""
    if row.kind is None:  # deleted since
        return False
    spec = (row.definition or {}).get("spec") or {}
    return row.kind in SERVER_KINDS or spec.get("evaluator_type") == "external"


def delete(engine: Engine, who: Principal, evaluation_id: str) -> None:
    """The Evaluation goes, with the Runs no other Evaluation shows; their Logs stay."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        for run_id in store.delete_evaluation(conn, evaluation_id):
            evaluation_store.cancel_pending(conn, who.org_id, origin(run_id), now)
        audit.record(conn, who, "deleted", "evaluation", evaluation_id)


def add_evaluators(engine: Engine, who: Principal, evaluation_id: str, chosen: list[Ref]) -> Row:
    """Add Evaluators (one it has keeps its version); the server-run ones also judge the
    Logs its Runs hold already."""
    versions = _evaluator_versions(engine, who, chosen)
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        after = len(store.evaluators_of(conn, [evaluation_id]))
        store.add_evaluators(conn, _evaluator_rows(evaluation_id, versions, now, after))
        store.touch(conn, evaluation_id, now)
        _queue_runs(conn, who.org_id, [r.id for r in store.runs_of(conn, evaluation_id)], now)
        audit.record(conn, who, "changed", "evaluation", evaluation_id, {"fields": ["evaluators"]})
        return _find(conn, who, evaluation_id)


def remove_evaluator(engine: Engine, who: Principal, evaluation_id: str, key: str) -> Row:
    """Remove the Evaluator named by its version id (or File id); its scores stay on the
    Logs, out of this Evaluation's stats."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        if not store.remove_evaluator(conn, evaluation_id, key):
            raise NotFound("Evaluator not found in this Evaluation")
        store.touch(conn, evaluation_id, now)
        audit.record(conn, who, "changed", "evaluation", evaluation_id, {"fields": ["evaluators"]})
        return _find(conn, who, evaluation_id)


# Runs


def create_run(
    engine: Engine,
    who: Principal,
    evaluation_id: str,
    dataset: Ref | None,
    version: Ref | None,
    orchestrated: bool | None,
    use_existing_logs: bool | None,
) -> Row:
    """A new Run in the Evaluation, over a Dataset version (its Datapoints counted now) and a
    version of the Evaluation's File. Its Logs are posted by the caller: the server does not
    call models to make them, so `orchestrated` true is refused. `use_existing_logs` attaches
    the Logs of the version made from the Dataset's Datapoints already."""
    if orchestrated:
        raise Invalid.at(
            "orchestrated",
            "Runs whose Logs the server generates are not supported: send `orchestrated`"
            " false and log to the Run (`run_id`)",
        )
    if use_existing_logs and (dataset is None or version is None):
        raise Invalid.at("use_existing_logs", "needs both `dataset` and `version`")
    with engine.connect() as conn:
        evaluation = _find(conn, who, evaluation_id)
    snapshot = _dataset(engine, who, dataset) if dataset is not None else None
    evaluated = _file_version(engine, who, version, None) if version is not None else None
    if evaluated is not None and evaluated.file_id != evaluation.file_id:
        raise Invalid.at(("version",), "is a version of another File than the Evaluation's")
    now = utcnow()
    run_id = new_id("run_")
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        store.insert_run(
            conn,
            {
                "id": run_id,
                "org_id": who.org_id,
                "file_id": evaluation.file_id,
                "version_id": evaluated.version_id if evaluated is not None else None,
                "dataset_id": snapshot.dataset.id if snapshot is not None else None,
                "dataset_version_id": snapshot.id if snapshot is not None else None,
                "datapoint_count": snapshot.count if snapshot is not None else 0,
                "orchestrated": False,
                "status": PENDING,
                "created_at": now,
                "updated_at": now,
            },
        )
        store.add_member(
            conn,
            {"evaluation_id": evaluation_id, "run_id": run_id, "control": False, "added_at": now},
        )
        store.touch(conn, evaluation_id, now)
        if use_existing_logs and snapshot is not None and evaluated is not None:
            points = [row.unique_id for row in datapoints.rows(engine, snapshot)]
            found = store.logs_of_version(conn, who.org_id, evaluated.version_id, points)
            attach(conn, who.org_id, run_id, [(r.id, r.unique_id, r.datapoint_id) for r in found])
        audit.record(
            conn, who, "created", "evaluation_run", run_id, {"evaluation_id": evaluation_id}
        )
        return _run_of(conn, who, evaluation_id, run_id)


def _dataset(engine: Engine, who: Principal, ref: Ref) -> datapoints.Version:
    """The Dataset version `ref` names (by path or id: the one deployed to its `environment`,
    else to the default one, else its newest); refused at `ref.loc`."""
    dataset_id, version_id = ref.file_id, ref.version_id
    try:
        with engine.connect() as conn:
            if version_id is not None:
                found = store.dataset_version(conn, who.org_id, version_id)
                if found is not None:
                    dataset_id = found.dataset_id
                elif version_id.endswith(datapoints.DRAFT):  # a Dataset with no version yet
                    dataset_id = "ds_" + version_id.removeprefix("dsv_")[: -len(datapoints.DRAFT)]
                else:
                    raise NotFound("no such version")
            elif ref.path is not None:
                row = dataset_version_store.find_by_path(conn, who.org_id, ref.path)
                if row is None:
                    raise NotFound("no such path")
                dataset_id = row.id
        if dataset_id is None:
            raise Invalid.at(ref.loc, "name it by `version_id`, `id` or `path`", "missing")
        return datapoints.get(engine, who, dataset_id, version_id, ref.environment)
    except NotFound:
        key = ref.version_id or ref.file_id or ref.path
        raise Invalid.at(ref.loc, f"no Dataset '{key}'", "not_found") from None


def _run_row(conn: Connection, evaluation_id: str, run_id: str) -> Row:
    for row in store.runs_of(conn, evaluation_id):
        if row.id == run_id:
            return row
    raise NotFound(RUN_NOT_FOUND)


def _run_of(conn: Connection, who: Principal, evaluation_id: str, run_id: str) -> Row:
    _find(conn, who, evaluation_id)
    return _run_row(conn, evaluation_id, run_id)


def runs(engine: Engine, who: Principal, evaluation_id: str) -> list[Row]:
    """The Runs the Evaluation shows, newest first."""
    with engine.connect() as conn:
        _find(conn, who, evaluation_id)
        return store.runs_of(conn, evaluation_id)


def add_existing_run(engine: Engine, who: Principal, evaluation_id: str, run_id: str) -> Row:
    """Show a Run of another Evaluation in this one too, to compare with its own."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        if store.get_run(conn, who.org_id, run_id) is None:
            raise NotFound(RUN_NOT_FOUND)
        store.add_member(
            conn,
            {"evaluation_id": evaluation_id, "run_id": run_id, "control": False, "added_at": now},
        )
        store.touch(conn, evaluation_id, now)
        # Evaluators of this Evaluation the Run's Logs have not met yet judge them now.
        _queue_runs(conn, who.org_id, [run_id], now)
        return _run_row(conn, evaluation_id, run_id)


def remove_run(engine: Engine, who: Principal, evaluation_id: str, run_id: str) -> None:
    """The Evaluation no longer shows the Run; a Run no Evaluation shows is deleted (its
    Logs stay)."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, evaluation_id)
        if not store.remove_member(conn, evaluation_id, run_id):
            raise NotFound(RUN_NOT_FOUND)
        if not store.shown_anywhere(conn, run_id):
            store.delete_runs(conn, [run_id])
            evaluation_store.cancel_pending(conn, who.org_id, origin(run_id), now)
        store.touch(conn, evaluation_id, now)


def update_run(
    engine: Engine,
    who: Principal,
    evaluation_id: str,
    run_id: str,
    control: bool | None,
    status: str | None,
) -> Row:
    """Make the Run the control (or not), and cancel it or mark it completed: only a Run that
    is pending or running changes status."""
    if status is not None and status not in (COMPLETED, CANCELLED):
        raise Invalid.at("status", "a Run can only be set `completed` or `cancelled`")
    now = utcnow()
    with begin_write(engine) as conn:
        row = _run_of(conn, who, evaluation_id, run_id)
        if status is not None and status != row.status:
            current = states(conn, who, evaluation_id, [row])[run_id].status
            if current not in (PENDING, RUNNING):
                raise Invalid.at(
                    "status", f"the Run is {current}: only a pending or running Run changes status"
                )
            store.update_run(conn, run_id, status=status, updated_at=now)
            if status == CANCELLED:
                evaluation_store.cancel_pending(conn, who.org_id, origin(run_id), now)
        if control is True:
            store.set_control(conn, evaluation_id, run_id)
        elif control is False and row.control:
            store.set_control(conn, evaluation_id, "")
        return _run_row(conn, evaluation_id, run_id)


def add_logs(engine: Engine, who: Principal, evaluation_id: str, run_id: str, log_ids: Any) -> Row:
    """Attach stored Logs to the Run (each once), their Datapoint read from their
    `source_datapoint_id`; the server-run Evaluators judge them."""
    if not isinstance(log_ids, list) or not all(isinstance(i, str) and i for i in log_ids):
        raise Invalid.at("log_ids", "must be a list of Log ids")
    with begin_write(engine) as conn:
        row = _run_of(conn, who, evaluation_id, run_id)
        found = log_store.get_many(conn, who.org_id, log_ids)
        missing = [
            FieldError(("log_ids", i), f"no Log '{key}'", "not_found")
            for i, key in enumerate(log_ids)
            if key not in found
        ]
        if missing:
            raise Invalid(missing)
        picked = [
            (log.id, log.unique_id, (log.extra or {}).get("source_datapoint_id"))
            for log in found.values()
        ]
        attach(conn, who.org_id, run_id, picked)
        return _run_row(conn, evaluation_id, row.id)


def attach(
    conn: Connection,
    org_id: int,
    run_id: str,
    picked: Sequence[tuple[int, str, str | None]],
    *,
    queue: bool = True,
) -> None:
    """Attach Logs (key, id, Datapoint) to a Run in the caller's transaction: the Run is
    running, and (`queue`) its complete Logs are judged (`_queue_runs`); one still
    incomplete is when it completes (`queue_run_evaluations`)."""
    if not picked:
        return
    now = utcnow()
    store.add_run_logs(
        conn,
        [
            {
                "run_id": run_id,
                "log_id": key,
                "org_id": org_id,
                "log_unique_id": unique_id,
                "datapoint_id": datapoint_id,
                "added_at": now,
            }
            for key, unique_id, datapoint_id in picked
        ],
    )
    store.start_runs(conn, [run_id], now)
    if queue:
        _queue_runs(conn, org_id, [run_id], now, [key for key, _, _ in picked])


def _queue_runs(
    conn: Connection,
    org_id: int,
    run_ids: list[str],
    now: datetime,
    log_ids: Sequence[int] = (),
) -> None:
    """Queue the judgments of these Runs' complete Logs (these ones only, if given)."""
    if run_ids:
        read = lambda query: conn.execute(query).all()  # noqa: E731
        logs = store.complete_run_logs(run_ids, log_ids)
        jobs.enqueue(conn, _judgments(read, org_id, logs), now)


def queue_run_evaluations(tx: events.HandlerTx, event: events.LogsCompleted) -> None:
    """Run Logs that became complete (stored so, with their Run, or marked so later) are
    judged, in the transaction that completes them. An organization with no open Run
    (every one but those using Evaluations) costs one indexed lookup."""
    if not tx.read(store.any_open_run(event.org_id)):
        return
    new = _judgments(tx.read, event.org_id, store.complete_run_logs(log_ids=event.log_ids))
    if new:
        tx.enqueue(new)


def _judgments(read: Callable[[Select], list[Row]], org_id: int, logs: Select) -> list[jobs.NewJob]:
    """The `evaluate` jobs of these Run Logs: one per server-run Evaluator of every
    Evaluation showing its Run, keyed as online evaluation's (never queued twice); a
    Datapoint's target output is what the Evaluator compares with."""
    attached = read(logs)
    if not attached:
        return []
    run_ids = sorted({a.run_id for a in attached})
    chosen: dict[str, set[str]] = {}
    for row in read(store.runs_evaluators(run_ids)):
        if _orchestrated(row) and row.kind in SERVER_KINDS:
            chosen.setdefault(row.run_id, set()).add(row.evaluator_id)
    if not chosen:
        return []
    points = sorted({a.datapoint_id for a in attached if a.datapoint_id})
    targets: dict[tuple[str, str], Any] = {}
    for row in read(store.runs_datapoints(run_ids, points)) if points else []:
        target = datapoints.datapoint(row).target
        if isinstance(target, dict) and "output" in target:
            target = target["output"]
        targets[(row.run_id, row.unique_id)] = target
    new = []
    for a in attached:
        for evaluator_id in sorted(chosen.get(a.run_id, ())):
            payload: dict[str, Any] = {
                "evaluator_id": evaluator_id,
                "log_id": a.log_id,
                "log_unique_id": a.log_unique_id,
                "source": f"evaluation:{a.run_id}",
            }
            target = targets.get((a.run_id, a.datapoint_id))
            if target is not None:
                payload["ideal_output"] = target
            new.append(
                jobs.NewJob(
                    org_id,
                    EVALUATE,
                    payload,
                    origin=origin(a.run_id),
                    dedupe_key=f"{evaluator_id}:{a.log_id}",
                )
            )
    return new


@dataclass(frozen=True)
class RunLogs:
    """What a Log posted with `run_id` also does in the transaction that stores it
    (`ingest.write_logs(then=...)`): it joins the Run (`attach`), then `then` runs. Plain
    data, as it crosses to the writer process."""

    org_id: int
    run_id: str
    datapoint_id: str | None
    then: After | None = None

    def __call__(self, tx: WriteTx, submission: Submission) -> None:
        rows = [row for _, stored in submission.inserts for row in stored]
        if store.get_run(tx.conn, self.org_id, self.run_id) is not None:
            picked = [(row["id"], row["unique_id"], self.datapoint_id) for row in rows]
            # Judged once complete: the `LogsCompleted` of these Logs, dispatched before the
            # commit, finds them in their Run (`queue_run_evaluations`).
            attach(tx.conn, self.org_id, self.run_id, picked, queue=False)
        if self.then is not None:
            self.then(tx, submission)


def check_run(engine: Engine, who: Principal, run_id: str) -> None:
    """A Log may name only a Run of its organization."""
    with engine.connect() as conn:
        if store.get_run(conn, who.org_id, run_id) is None:
            raise Invalid.at("run_id", f"no Run '{run_id}'", "not_found")


# What Runs add up to


@dataclass(frozen=True)
class EvaluatorStats:
    """One Evaluator's judgments of one Run's Logs."""

    evaluator_id: str
    version_id: str
    value_type: str | None
    total: int = 0  # scores, errors and nulls included
    judgments: int = 0
    errors: int = 0
    nulls: int = 0
    mean: float | None = None
    sum: float | None = None
    std: float | None = None
    percentiles: dict[str, float] = field(default_factory=dict)
    trues: int = 0
    falses: int = 0
    options: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunState:
    run: Row
    status: str
    logs: int
    datapoints: int
    evaluators: list[EvaluatorStats]

    @property
    def expected(self) -> int:
        """Judgments it waits for (Logs times awaited Evaluators), once it has every Log."""
        return max(self.logs, self.run.datapoint_count)


PERCENTILES = (25, 50, 75, 90, 95, 99)


def states(
    conn: Connection, who: Principal, evaluation_id: str, runs: Sequence[Row]
) -> dict[str, RunState]:
    """Each Run's status and per-Evaluator stats in this Evaluation."""
    chosen = _present(store.evaluators_of(conn, [evaluation_id]))
    run_ids = [r.id for r in runs]
    evaluator_ids = [e.evaluator_id for e in chosen]
    counts = store.log_counts(conn, run_ids)
    found = {(a.run_id, a.evaluator_id): a for a in store.aggregates(conn, run_ids, evaluator_ids)}
    numbers = _grouped(store.values(conn, run_ids, _of_type(chosen, NUMERIC), "numerical_value"))
    options = _grouped(store.values(conn, run_ids, _of_type(chosen, SELECT), "categorical_value"))
    ended = job_store.ended_early(conn, who.org_id, [origin(r) for r in run_ids])
    awaited = [e.evaluator_id for e in chosen if _awaited(e)]
    out = {}
    for run_row in runs:
        logs, points = counts.get(run_row.id, (0, 0))
        per = [
            _evaluator_stats(
                e, found.get((run_row.id, e.evaluator_id)), numbers, options, run_row.id
            )
            for e in chosen
        ]
        judged = sum(min(s.total, logs) for s in per if s.evaluator_id in awaited)
        judged += ended.get(origin(run_row.id), 0)
        status = run_row.status
        if status in (PENDING, RUNNING):
            status = RUNNING if logs else PENDING
            has_all = run_row.dataset_id is not None and points >= run_row.datapoint_count
            if has_all and (logs or not run_row.datapoint_count) and judged >= logs * len(awaited):
                status = COMPLETED
        out[run_row.id] = RunState(run_row, status, logs, points, per)
    return out


NUMERIC = ("numerical", "percentage")
BOOLEAN = ("boolean",)
SELECT = ("single_select", "multi_select")


def kind_of(value_type: str | None) -> str:
    """Which stats an Evaluator's value type has: numeric, boolean, select or text."""
    if value_type in NUMERIC:
        return "numeric"
    if value_type in BOOLEAN:
        return "boolean"
    if value_type in SELECT:
        return "select"
    return "text"


def _of_type(chosen: list[Row], types: tuple[str, ...]) -> list[str]:
    return [e.evaluator_id for e in chosen if e.value_type in types]


def _grouped(rows: list[Row]) -> dict[tuple[str, str], list[Any]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        out.setdefault((row.run_id, row.evaluator_id), []).append(row.value)
    return out


def _evaluator_stats(
    evaluator: Row,
    found: Row | None,
    numbers: dict[tuple[str, str], list[Any]],
    options: dict[tuple[str, str], list[Any]],
    run_id: str,
) -> EvaluatorStats:
    base = EvaluatorStats(evaluator.evaluator_id, evaluator.version_id, evaluator.value_type)
    if found is None:
        return base
    judgments = int(found.judgments or 0)
    std = None
    if found.mean is not None and found.mean_square is not None:
        std = math.sqrt(max(float(found.mean_square) - float(found.mean) ** 2, 0.0))
    values = [float(v) for v in numbers.get((run_id, evaluator.evaluator_id), [])]
    chosen = distribution(options.get((run_id, evaluator.evaluator_id), []))
    return EvaluatorStats(
        evaluator.evaluator_id,
        evaluator.version_id,
        evaluator.value_type,
        total=int(found.total),
        judgments=judgments,
        errors=int(found.errors),
        nulls=int(found.total) - int(found.errors) - judgments,
        mean=float(found.mean) if found.mean is not None else None,
        sum=float(found.sum) if found.sum is not None else None,
        std=std,
        percentiles={str(p): _percentile(values, p) for p in PERCENTILES} if values else {},
        trues=int(found.trues or 0),
        falses=int(found.falses or 0),
        options=dict(sorted(chosen.items())),
    )


def _percentile(ordered: list[float], p: int) -> float:
    """Linear interpolation between the closest ranks."""
    at = (len(ordered) - 1) * p / 100
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def stats(engine: Engine, who: Principal, evaluation_id: str) -> tuple[list[Row], list[RunState]]:
    """The Evaluation's Evaluators and its Runs' states, newest first."""
    with engine.connect() as conn:
        _find(conn, who, evaluation_id)
        rows = store.runs_of(conn, evaluation_id)
        found = states(conn, who, evaluation_id, rows)
        return _present(store.evaluators_of(conn, [evaluation_id])), [found[r.id] for r in rows]


def run_states(
    engine: Engine, who: Principal, evaluation_id: str, rows: Sequence[Row]
) -> dict[str, RunState]:
    with engine.connect() as conn:
        return states(conn, who, evaluation_id, rows)


def overall(found: Sequence[RunState]) -> str:
    """An Evaluation's status from its Runs': running while any is, completed when every
    one not cancelled is, pending with none started."""
    statuses = {s.status for s in found}
    if RUNNING in statuses or (PENDING in statuses and COMPLETED in statuses):
        return RUNNING
    if PENDING in statuses or not statuses:
        return PENDING
    return COMPLETED if COMPLETED in statuses else CANCELLED


@dataclass(frozen=True)
class RunLog:
    run_id: str
    log_unique_id: str
    datapoint: Row | None


def logs_page(
    engine: Engine,
    who: Principal,
    evaluation_id: str,
    run_ids: list[str] | None,
    page: int,
    size: int,
) -> tuple[int, list[RunLog]]:
    """(total, one page) of the Logs of the Evaluation's Runs (these ones only, if given),
    each with the Datapoint it was made from."""
    with engine.connect() as conn:
        _find(conn, who, evaluation_id)
        rows = store.runs_of(conn, evaluation_id)
        chosen = [r for r in rows if not run_ids or r.id in run_ids]
        if not chosen:
            return 0, []
        total, found = store.run_logs_page(conn, [r.id for r in chosen], (page - 1) * size, size)
        datasets = {r.id: r.dataset_id for r in chosen}
        points: dict[tuple[str, str], Row] = {}
        for dataset_id in {datasets[f.run_id] for f in found if datasets[f.run_id]}:
            wanted = [
                f.datapoint_id for f in found if datasets[f.run_id] == dataset_id and f.datapoint_id
            ]
            for key, row in store.datapoint_rows(conn, dataset_id, wanted).items():
                points[(dataset_id, key)] = row
    return total, [
        RunLog(f.run_id, f.log_unique_id, points.get((datasets[f.run_id], f.datapoint_id)))
        for f in found
    ]


events.subscribe(events.LogsCompleted, queue_run_evaluations, budget=0.1, gate=store.any_open_run)
