"""Keywords AI experiments: rows (a test case's variables and the output hoped for) run
through columns (prompt configurations: a model, its parameters, `prompt_messages` whose
`{{variables}}` each row fills), so that columns compare side by side.

`run` marks the cells it runs `running` under a new run id and queues one `experiment_run`
job per (row, column) in the same transaction. The job calls the model through the LLM
provider that Prompt calls and the judge use (`providers.openai_chat`,
`LLMTRAIL_LLM_BASE_URL`) in its `run` step, outside any transaction; its `commit` step
stores the call as a log (in the log list like any other, masked as the organization masks
new logs) and records it in the cell, unless a later run replaced the cell (or its row or
column went) meanwhile: the job is then cancelled and writes nothing. What a retry may cure
(a 429, a 5xx, a timeout) is retried with backoff; on the last attempt, and for anything
else the provider refuses, the cell and its log carry the error.

`run_evals` has evaluators (by id or slug) judge every result as `evaluate` jobs, online
evaluation's (each evaluator judges a log once), and remembers them: a result that lands
later is judged by them too. An experiment reports, per column and evaluator, the
aggregates of an eval report (`dataset_evals.aggregates`) over its results' scores.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table

from llmtrail.bounds import MAX_EXPERIMENT_COLUMNS, MAX_EXPERIMENT_ROWS
from llmtrail.config import Settings, load_settings
from llmtrail.core import audit, dataset_evals, ingest, jobs, prompt_calls, templates
from llmtrail.core.ids import iso, new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.logs import LogData
from llmtrail.core.monitoring import EVALUATE
from llmtrail.core.privacy import Policy, policy_of
from llmtrail.core.scores import value_of
from llmtrail.errors import FieldError, Invalid, NotFound
from llmtrail.providers.openai_chat import ChatClient, Completion, ProviderError
from llmtrail.store import evaluation as evaluation_store
from llmtrail.store import experiments as store
from llmtrail.store import jobs as job_store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import experiment_columns, experiment_rows

RUN = "experiment_run"
READY, RUNNING, COMPLETED, ERROR = "ready", "running", "completed", "error"
NOT_FOUND = "Experiment not found"
PROVIDER = "the LLM provider"


def origin(experiment_id: str) -> str:
    """What an experiment's jobs (its runs and their judgments) are queued by."""
    return f"experiment:{experiment_id}"


def _run_key(result_id: str) -> str:
    return f"{RUN}:{result_id}"


@dataclass(frozen=True)
class Part:
    """Columns or rows: their table, the request field that lists them, their bound, and
    what of one is stored besides its id."""

    table: Table
    field: str
    noun: str
    most: int

    def values(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.table is experiment_columns:
            return {"config": {k: v for k, v in item.items() if k != "id"}}
        return {"input": item.get("input") or {}, "ideal_output": item.get("ideal_output")}


COLUMNS = Part(experiment_columns, "columns", "column", MAX_EXPERIMENT_COLUMNS)
ROWS = Part(experiment_rows, "rows", "row", MAX_EXPERIMENT_ROWS)


# The experiment


def create(
    engine: Engine,
    who: Principal,
    name: str,
    description: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """A new experiment with these columns and rows (each keeps the id it is given)."""
    now = utcnow()
    experiment_id = new_id("exp_")
    with begin_write(engine) as conn:
        store.insert_experiment(
            conn,
            {
                "id": experiment_id,
                "org_id": who.org_id,
                "name": name,
                "description": description,
                "evaluator_ids": [],
                "created_at": now,
                "updated_at": now,
            },
        )
        _add(conn, who, experiment_id, COLUMNS, columns, now)
        _add(conn, who, experiment_id, ROWS, rows, now)
        audit.record(conn, who, "created", "experiment", experiment_id)
        return _view(conn, who, _find(conn, who, experiment_id))


def _find(conn: Connection, who: Principal, experiment_id: str) -> Row:
    row = store.get(conn, who.org_id, experiment_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def get(engine: Engine, who: Principal, experiment_id: str) -> dict[str, Any]:
    """The experiment with its columns, every row with each column's result, and the
    aggregates of its evaluators per column."""
    with engine.connect() as conn:
        return _view(conn, who, _find(conn, who, experiment_id))


def listed(
    engine: Engine, who: Principal, page: int, size: int, name: str | None
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page newest first) of the organization's experiments, each with its
    columns and status but not its rows (`rows_page` reads those)."""
    with engine.connect() as conn:
        total, found = store.page(conn, who.org_id, (page - 1) * size, size, name)
        ids = [row.id for row in found]
        columns = _by_experiment(store.columns_of(conn, ids))
        counts = store.row_counts(conn, ids)
        cells = store.cell_states(conn, ids)
        ended = _ended(conn, who, cells)
        states: dict[str, list[str]] = {}
        for cell in cells:
            states.setdefault(cell.experiment_id, []).append(_state(cell, ended)["status"])
        out = []
        for row in found:
            shown = columns.get(row.id, [])
            wanted = counts.get(row.id, 0) * len(shown)
            status = _status(states.get(row.id, []), wanted)
            out.append(_summary(row, shown, counts.get(row.id, 0), status))
        return total, out


def update(engine: Engine, who: Principal, experiment_id: str, changes: dict[str, Any]) -> dict:
    """A new name or description."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        if changes:
            store.update_experiment(conn, experiment_id, **changes, updated_at=now)
            audit.record(
                conn, who, "changed", "experiment", experiment_id, {"fields": sorted(changes)}
            )
        return _view(conn, who, _find(conn, who, experiment_id))


def delete(engine: Engine, who: Principal, experiment_id: str) -> None:
    """The experiment goes with its columns, rows and results, and the jobs it queued that
    have not started; the logs its runs made stay."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        store.delete_experiment(conn, experiment_id)
        evaluation_store.cancel_pending(conn, who.org_id, origin(experiment_id), now)
        audit.record(conn, who, "deleted", "experiment", experiment_id)


# Columns and rows


def add(
    engine: Engine, who: Principal, experiment_id: str, part: Part, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Add columns or rows (after those it has); returns them as stored."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        added = _add(conn, who, experiment_id, part, items, now)
        store.touch(conn, experiment_id, now)
        audit.record(conn, who, "changed", "experiment", experiment_id, {"fields": [part.field]})
        return [_part(part, row) for row in added]


def _add(
    conn: Connection,
    who: Principal,
    experiment_id: str,
    part: Part,
    items: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Insert columns or rows in the caller's transaction; an id taken (or given twice) and
    one too many are refused, each at its place in the request."""
    given = [item.get("id") for item in items]
    taken = store.existing(conn, part.table, experiment_id, [key for key in given if key])
    errors, seen = [], set()
    for index, key in enumerate(given):
        if key and (key in taken or key in seen):
            errors.append(
                FieldError((part.field, index, "id"), f"the experiment has a {part.noun} '{key}'")
            )
        seen.add(key)
    position = store.next_position(conn, part.table, experiment_id)
    count = _count(conn, part, experiment_id)
    if count + len(items) > part.most:
        errors.append(
            FieldError(
                (part.field,),
                f"an experiment has at most {part.most} {part.field}: it has {count},"
                f" {len(items)} more would make {count + len(items)}",
            )
        )
    if errors:
        raise Invalid(errors)
    rows = [
        {
            "experiment_id": experiment_id,
            "id": item.get("id") or new_id(),
            "org_id": who.org_id,
            "position": position + index,
            **part.values(item),
            "created_at": now,
            "updated_at": now,
        }
        for index, item in enumerate(items)
    ]
    store.insert_parts(conn, part.table, rows)
    return rows


def _count(conn: Connection, part: Part, experiment_id: str) -> int:
    if part is ROWS:
        return store.row_counts(conn, [experiment_id]).get(experiment_id, 0)
    return len(store.columns_of(conn, [experiment_id]))


def change(
    engine: Engine, who: Principal, experiment_id: str, part: Part, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace columns (their configuration) or rows (input and ideal output), named by id;
    their results stay until they run again."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        _known(conn, experiment_id, part, [item.get("id") for item in items], "id")
        for item in items:
            values = part.values(item)
            store.update_part(conn, part.table, experiment_id, item["id"], **values, updated_at=now)
        store.touch(conn, experiment_id, now)
        audit.record(conn, who, "changed", "experiment", experiment_id, {"fields": [part.field]})
        ids = [item["id"] for item in items]
        return [_part(part, r) for r in _parts(conn, part, experiment_id) if r.id in ids]


def _known(
    conn: Connection, experiment_id: str, part: Part, ids: Sequence[str | None], *tail: str
) -> None:
    """Every id names one of the experiment's columns (rows), or each that does not is
    refused at its place."""
    found = store.existing(conn, part.table, experiment_id, [key for key in ids if key])
    errors = [
        FieldError(
            (part.field, index, *tail),
            f"no {part.noun} '{key}' in this experiment"
            if key
            else f"the {part.noun}'s id is required: it names the one to change",
        )
        for index, key in enumerate(ids)
        if key not in found
    ]
    if errors:
        raise Invalid(errors)


def _parts(conn: Connection, part: Part, experiment_id: str) -> list[Row]:
    if part is ROWS:
        return store.rows_of(conn, experiment_id)
    return store.columns_of(conn, [experiment_id])


def remove(engine: Engine, who: Principal, experiment_id: str, part: Part, ids: list[str]) -> int:
    """Remove columns (rows) by id, with their results; their runs still queued are
    cancelled when they start. Every id must be the experiment's."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        _known(conn, experiment_id, part, ids)
        removed = store.delete_parts(conn, part.table, experiment_id, ids)
        store.touch(conn, experiment_id, now)
        audit.record(conn, who, "changed", "experiment", experiment_id, {"fields": [part.field]})
        return removed


def rows_page(
    engine: Engine, who: Principal, experiment_id: str, page: int, size: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page in order) of the experiment's rows, each with its results."""
    with engine.connect() as conn:
        found = _find(conn, who, experiment_id)
        total = store.row_counts(conn, [found.id]).get(found.id, 0)
        rows = store.rows_of(conn, found.id, (page - 1) * size, size)
        columns = store.columns_of(conn, [found.id])
        results = store.results_of(conn, found.id, [r.id for r in rows])
        scores = _scores(conn, who, found, results)
        return total, _rows(columns, rows, results, _ended(conn, who, results), scores)


# Running


def run(
    engine: Engine, who: Principal, experiment_id: str, columns: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Run columns over every row, in the background: all of them, or those given, which
    are stored first (added when new, replaced when their id is the experiment's)."""
    now = utcnow()
    with begin_write(engine) as conn:
        _find(conn, who, experiment_id)
        chosen_ids = None
        if columns:
            chosen_ids = _store_columns(conn, who, experiment_id, columns, now)
        chosen = [
            c
            for c in store.columns_of(conn, [experiment_id])
            if chosen_ids is None or c.id in chosen_ids
        ]
        rows = store.rows_of(conn, experiment_id)
        if not chosen:
            raise Invalid.at("columns", "the experiment has no column to run: add one first")
        if not rows:
            raise Invalid.at("rows", "the experiment has no row to run: add one first")
        cells, queued = [], []
        for row in rows:
            for column in chosen:
                result_id = new_id()
                cells.append(
                    {
                        "experiment_id": experiment_id,
                        "row_id": row.id,
                        "column_id": column.id,
                        "org_id": who.org_id,
                        "id": result_id,
                        "status": RUNNING,
                        "log_id": None,
                        "log_unique_id": None,
                        "output": None,
                        "error": None,
                        "metrics": None,
                        "ran_at": now,
                        "updated_at": now,
                    }
                )
                payload = {
                    "experiment_id": experiment_id,
                    "row_id": row.id,
                    "column_id": column.id,
                    "result_id": result_id,
                    "key_id": who.key_id,
                    "environment": who.environment,
                    "ideal_output": row.ideal_output,
                    "request": request(column.config, row.input),
                }
                queued.append(
                    jobs.NewJob(
                        who.org_id,
                        RUN,
                        payload,
                        origin=origin(experiment_id),
                        dedupe_key=_run_key(result_id),
                    )
                )
        store.start_results(conn, cells)
        jobs.enqueue(conn, queued, now)
        store.touch(conn, experiment_id, now)
        audit.record(conn, who, "changed", "experiment", experiment_id, {"fields": ["results"]})
    return {
        "message": f"Running {len(chosen)} columns over {len(rows)} rows in the background",
        "experiment_id": experiment_id,
        "status": RUNNING,
        "column_ids": [c.id for c in chosen],
        "queued": len(queued),
    }


def _store_columns(
    conn: Connection, who: Principal, experiment_id: str, columns: list[dict[str, Any]], now: Any
) -> list[str]:
    """The columns a run names, stored: replaced when the experiment has their id, added
    (in the order given) when not."""
    have = store.existing(
        conn, experiment_columns, experiment_id, [c.get("id") or "" for c in columns]
    )
    new = [c for c in columns if c.get("id") not in have]
    for column in columns:
        if column.get("id") in have:
            values = COLUMNS.values(column)
            store.update_part(
                conn, experiment_columns, experiment_id, column["id"], **values, updated_at=now
            )
    added = _add(conn, who, experiment_id, COLUMNS, new, now)
    fresh = iter(row["id"] for row in added)
    return [c["id"] if c.get("id") in have else next(fresh) for c in columns]


def request(config: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The chat-completions body of a column over a row: its messages filled with the row's
    variables, its model and parameters in OpenAI's names (`core.prompt_calls`)."""
    kernel = {
        "model": config.get("model"),
        "template": config.get("prompt_messages") or [],
        "temperature": config.get("temperature"),
        "max_tokens": config.get("max_completion_tokens"),
        "top_p": config.get("top_p"),
        "frequency_penalty": config.get("frequency_penalty"),
        "presence_penalty": config.get("presence_penalty"),
        "response_format": config.get("response_format"),
        "reasoning_effort": config.get("reasoning_effort"),
        "tools": [tool.get("function") for tool in config.get("tools") or ()],
    }
    tool_choice = config.get("tool_choice") if kernel["tools"] else None
    return prompt_calls.request(kernel, inputs, None, tool_choice, "column")


def run_evals(engine: Engine, who: Principal, experiment_id: str, keys: list[str]) -> dict:
    """Have these evaluators judge the experiment's results, and those that land later."""
    now = utcnow()
    with begin_write(engine) as conn:
        found = _find(conn, who, experiment_id)
        chosen = dataset_evals.named_evaluators(conn, who, keys, runnable=True)
        results = store.results_of(conn, experiment_id)
        if not results:
            raise Invalid([FieldError((), "the experiment has no results to judge: run it first")])
        ideal = {row.id: row.ideal_output for row in store.rows_of(conn, experiment_id)}
        kept = list(dict.fromkeys([*found.evaluator_ids, *(e.id for e in chosen)]))
        store.update_experiment(conn, experiment_id, evaluator_ids=kept, updated_at=now)
        done = [r for r in results if r.status == COMPLETED and r.log_id is not None]
        queued = [
            _judgment(who.org_id, experiment_id, e.id, r.log_id, r.log_unique_id, ideal[r.row_id])
            for r in done
            for e in chosen
        ]
        jobs.enqueue(conn, queued, now)
        audit.record(conn, who, "changed", "experiment", experiment_id, {"fields": ["evaluators"]})
    return {
        "message": f"Judging {len(done)} results with {len(chosen)} evaluators in the background",
        "experiment_id": experiment_id,
        "evaluators": [e.slug for e in chosen],
        "status": RUNNING,
        "queued": len(queued),
    }


def _judgment(
    org_id: int,
    experiment_id: str,
    evaluator_id: str,
    log_id: int,
    log_unique_id: str,
    ideal_output: str | None,
) -> jobs.NewJob:
    """An `evaluate` job of a result's log, keyed as online evaluation's (judged once); the
    row's ideal output is what the evaluator compares with."""
    payload: dict[str, Any] = {
        "evaluator_id": evaluator_id,
        "log_id": log_id,
        "log_unique_id": log_unique_id,
        "source": origin(experiment_id),
    }
    if ideal_output is not None:
        payload["ideal_output"] = ideal_output
    return jobs.NewJob(
        org_id,
        EVALUATE,
        payload,
        origin=origin(experiment_id),
        dedupe_key=f"{evaluator_id}:{log_id}",
    )


# The `experiment_run` job


@cache
def _settings() -> Settings:
    return load_settings()


@dataclass(frozen=True)
class Called:
    """What the provider said to one cell's request (or why it did not), and when."""

    started: datetime
    ended: datetime
    completion: Completion | None
    error: ProviderError | None
    policy: Policy | None


def _run(engine: Engine, batch: list[Row]) -> list[Any]:
    """Each job's call to the provider; `Cancelled` for a cell run again, or gone, since it
    was queued. A transient failure before the last attempt is retried."""
    with engine.connect() as conn:
        live = store.current(conn, [_cell_key(job) for job in batch])
    policies = {org_id: policy_of(engine, org_id) for org_id in {job.org_id for job in batch}}
    client = ChatClient.from_settings(_settings(), PROVIDER)
    out: list[Any] = []
    for job in batch:
        if _cell_key(job) not in live:
            out.append(jobs.Cancelled(job.payload["result_id"]))
            continue
        started, completion, failed = utcnow(), None, None
        try:
            completion = client.complete(job.payload["request"])
        except ProviderError as exc:
            if exc.transient and job.attempts < job.max_attempts:
                out.append(exc)  # retried with backoff
                continue
            failed = exc
        except Exception as exc:  # a fault: retried with backoff
            out.append(exc)
            continue
        out.append(Called(started, utcnow(), completion, failed, policies[job.org_id]))
    return out


def _cell_key(job: Row) -> tuple[str, str]:
    return job.payload["experiment_id"], job.payload["result_id"]


def _commit(conn: Connection, job: Row, called: Called) -> None:
    """The call as a log, and the cell's result; nothing if the cell was run again (or went)
    since. The experiment's evaluators judge the new log."""
    payload = job.payload
    experiment_id = payload["experiment_id"]
    if not store.current(conn, [_cell_key(job)]):
        return
    who = Principal(job.org_id, payload["key_id"], "", payload["environment"])
    now = utcnow()
    [row] = ingest.new_rows(who, [_log(payload, called)], now, policy=called.policy)
    ingest.store_rows(conn, job.org_id, [row], now)
    store.finish_result(
        conn,
        experiment_id,
        payload["result_id"],
        status=ERROR if row["error_message"] else COMPLETED,
        log_id=row["id"],
        log_unique_id=row["unique_id"],
        output=row["completion_message"],
        error=row["error_message"],
        metrics={
            "prompt_tokens": row["prompt_tokens"],
            "completion_tokens": row["completion_tokens"],
            "total_tokens": row["total_request_tokens"],
            "latency": row["latency"],
            "cost": row["cost"],
        },
        ran_at=called.ended,
        updated_at=now,
    )
    experiment = store.get(conn, job.org_id, experiment_id)
    if experiment is not None and experiment.evaluator_ids and not row["error_message"]:
        queued = [
            _judgment(
                job.org_id, experiment_id, key, row["id"], row["unique_id"], payload["ideal_output"]
            )
            for key in experiment.evaluator_ids
        ]
        jobs.enqueue(conn, queued, now)


def _log(payload: dict[str, Any], called: Called) -> LogData:
    """A cell's call as a chat log: what was sent, what came back (or the error)."""
    request = payload["request"]
    log = LogData(
        log_type="chat",
        log_method="experiment",
        model=request["model"],
        start_time=called.started,
        timestamp=called.ended,
        prompt_messages=request["messages"],
        metadata={
            "experiment_id": payload["experiment_id"],
            "experiment_row_id": payload["row_id"],
            "experiment_column_id": payload["column_id"],
        },
    )
    if called.completion is not None:
        usage = called.completion.usage
        log.completion_message = called.completion.message
        log.output = called.completion.content
        log.prompt_tokens = usage.prompt_tokens
        log.completion_tokens = usage.completion_tokens
        log.prompt_cache_hit_tokens = usage.cached_tokens
        log.reasoning_tokens = usage.reasoning_tokens
        log.latency = called.completion.latency
    if called.error is not None:
        log.error_message = called.error.message
        log.status_code = called.error.status or 502
        log.latency = called.error.latency
    return log


jobs.register(RUN, commit=_commit, run=_run)


# What an experiment looks like


def _view(conn: Connection, who: Principal, experiment: Row) -> dict[str, Any]:
    columns = store.columns_of(conn, [experiment.id])
    rows = store.rows_of(conn, experiment.id)
    results = store.results_of(conn, experiment.id)
    scores = _scores(conn, who, experiment, results)
    shown = _rows(columns, rows, results, _ended(conn, who, results), scores)
    states = [cell["status"] for row in shown for cell in row["results"] if cell is not None]
    status = _status(states, len(rows) * len(columns))
    return {
        **_summary(experiment, columns, len(rows), status),
        "rows": shown,
        "evaluator_ids": experiment.evaluator_ids,
        "aggregates": _aggregates(experiment, columns, results, scores),
    }


def _summary(experiment: Row, columns: list[Row], row_count: int, status: str) -> dict[str, Any]:
    return {
        "id": experiment.id,
        "name": experiment.name,
        "description": experiment.description,
        "status": status,
        "column_count": len(columns),
        "row_count": row_count,
        "columns": [_part(COLUMNS, c) for c in columns],
        "variables": _variables(columns),
        "created_at": iso(experiment.created_at),
        "updated_at": iso(experiment.updated_at),
    }


def _status(states: list[str], cells: int) -> str:
    """Of the experiment (or a row) whose `cells` have these states: running while one
    runs, completed once every one has a result, ready before."""
    if RUNNING in states:
        return RUNNING
    return COMPLETED if cells and len(states) >= cells else READY


def _variables(columns: list[Row]) -> list[str]:
    """The `{{variables}}` the columns' messages name, in the order first named."""
    text = json.dumps([c.config.get("prompt_messages") for c in columns])
    return list(dict.fromkeys(templates.VARIABLE.findall(text)))


def _part(part: Part, row: Row | dict[str, Any]) -> dict[str, Any]:
    r = row._mapping if isinstance(row, Row) else row
    if part is COLUMNS:
        return {"id": r["id"], **r["config"]}
    return {"id": r["id"], "input": r["input"], "ideal_output": r["ideal_output"]}


def _by_experiment(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row.experiment_id, []).append(row)
    return out


def _ended(conn: Connection, who: Principal, results: list[Row]) -> dict[str, str]:
    """The running cells whose job gave up (or was cancelled): their error by run id."""
    keys = [_run_key(r.id) for r in results if r.status == RUNNING]
    found = job_store.ended_by_key(conn, who.org_id, keys)
    return {key.removeprefix(f"{RUN}:"): error for key, error in found.items()}


def _state(result: Row, ended: dict[str, str]) -> dict[str, Any]:
    if result.status == RUNNING and result.id in ended:
        return {"status": ERROR, "error": ended[result.id]}
    return {"status": result.status, "error": result.error}


def _rows(
    columns: list[Row],
    rows: list[Row],
    results: list[Row],
    ended: dict[str, str],
    scores: list[Row],
) -> list[dict[str, Any]]:
    """Each row with, per column in order, its result (None: never run), judged by
    `scores`; a running cell in `ended` failed (`_ended`)."""
    by_log = _by_log(scores)
    cells = {(r.row_id, r.column_id): r for r in results}
    out = []
    for row in rows:
        found = [cells.get((row.id, c.id)) for c in columns]
        shown = [_result(r, ended, by_log) if r is not None else None for r in found]
        states = [cell["status"] for cell in shown if cell is not None]
        out.append({**_part(ROWS, row), "status": _status(states, len(columns)), "results": shown})
    return out


def _scores(conn: Connection, who: Principal, experiment: Row, results: list[Row]) -> list[Row]:
    logs = [r.log_id for r in results if r.log_id is not None]
    return store.scores_of(conn, who.org_id, logs, experiment.evaluator_ids)


def _by_log(scores: list[Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for score in scores:
        out.setdefault(score.log_id, []).append(score)
    return out


def _result(result: Row, ended: dict[str, str], by_log: dict[int, list[Row]]) -> dict[str, Any]:
    judged = by_log.get(result.log_id, []) if result.log_id is not None else []
    return {
        "id": result.id,
        "column_id": result.column_id,
        **_state(result, ended),
        "output": result.output,
        "ran_at": iso(result.ran_at),
        "log_id": result.log_unique_id,
        "llm_inference_metrics": result.metrics,
        "evaluation_result": {s.evaluator_slug: _judged(s) for s in judged} or None,
    }


def _judged(score: Row) -> dict[str, Any]:
    """One evaluator's word on a result; `primary_score` its value as a number (a boolean
    as 1 or 0), when it is one."""
    value = value_of(score) if score.error is None else None
    primary = float(value) if isinstance(value, bool | int | float) else None
    return {
        "evaluator_id": score.evaluator_id,
        "evaluator_name": score.evaluator_name,
        "value_type": score.value_type,
        "value": value,
        "primary_score": primary,
        "is_passed": score.is_passed,
        "explanation": score.explanation,
        "error": score.error,
    }


def _aggregates(
    experiment: Row, columns: list[Row], results: list[Row], scores: list[Row]
) -> list[dict[str, Any]]:
    """Per column: how many results it has to judge, and per evaluator the aggregates of
    an eval report over their scores."""
    by_log = _by_log(scores)
    out = []
    for column in columns:
        done = [
            r
            for r in results
            if r.column_id == column.id and r.status == COMPLETED and r.log_id is not None
        ]
        judged = [s for r in done for s in by_log.get(r.log_id, [])]
        out.append(
            {
                "column_id": column.id,
                "column_name": column.config.get("name"),
                "result_count": len(done),
                "evaluators": dataset_evals.aggregates(experiment.evaluator_ids, judged),
            }
        )
    return out
