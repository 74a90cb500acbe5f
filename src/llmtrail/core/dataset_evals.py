"""Evaluation runs over a dataset ("eval reports"): evaluators, named by slug or id, judge
every log the dataset holds when the run is created, one `dataset_evaluate` job per log and
evaluator (`worker/dataset_evaluate.py`, which runs them as online evaluation does).

A run's results are its own (`dataset_eval_results`), not scores on logs: a dataset log is a
copy, and two runs over the same dataset stay side by side. A run is `completed` once every
(log, evaluator) has a result (an evaluator's error is a result too), `failed` when a job
gave up or was cancelled (its evaluator or log was deleted), `running` until then.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import audit, datasets, jobs
from llmtrail.core.evaluators import EVALUATORS
from llmtrail.core.ids import iso, new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.scores import value_of
from llmtrail.errors import FieldError, Invalid, NotFound
from llmtrail.store import dataset_evals as store
from llmtrail.store import datasets as dataset_store
from llmtrail.store.database import begin_write

EVALUATE_DATASET = "dataset_evaluate"
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
NOT_FOUND = "Eval report not found"


def origin(report_id: str) -> str:
    """What the run's jobs are queued by (`jobs.origin`)."""
    return f"eval-report:{report_id}"


def create(engine: Engine, who: Principal, dataset_id: str, evaluator_slugs: Any) -> dict[str, Any]:
    """A run of these evaluators over the dataset's logs, queued in the transaction that
    records it."""
    if not (
        isinstance(evaluator_slugs, list)
        and evaluator_slugs
        and all(isinstance(s, str) and s for s in evaluator_slugs)
    ):
        raise Invalid.at("evaluator_slugs", "must be a non-empty list of evaluator slugs")
    now = utcnow()
    with begin_write(engine) as conn:
        datasets.find(conn, who, dataset_id)
        chosen = named_evaluators(conn, who, evaluator_slugs)
        rows = dataset_store.current_ids(conn, dataset_id)
        report_id = new_id("er_")
        store.insert_report(
            conn,
            {
                "id": report_id,
                "org_id": who.org_id,
                "dataset_id": dataset_id,
                "evaluator_ids": [e.id for e in chosen],
                "evaluator_slugs": [e.slug for e in chosen],
                "status": RUNNING,
                "log_count": len(rows),
                "created_at": now,
                "updated_at": now,
            },
        )
        jobs.enqueue(
            conn,
            [
                jobs.NewJob(
                    org_id=who.org_id,
                    kind=EVALUATE_DATASET,
                    payload={
                        "report_id": report_id,
                        "evaluator_id": evaluator.id,
                        "dataset_log_id": row,
                    },
                    origin=origin(report_id),
                    dedupe_key=f"{EVALUATE_DATASET}:{report_id}:{evaluator.id}:{row}",
                )
                for row in rows
                for evaluator in chosen
            ],
            now,
        )
        audit.record(conn, who, "created", "eval_report", report_id, {"dataset_id": dataset_id})
        return _with_state(conn, who, [_find(conn, who, dataset_id, report_id)])[0]


def named_evaluators(
    conn: Connection, who: Principal, keys: list[str], *, runnable: bool = False
) -> list[Row]:
    """The evaluators named (by slug or id), each once, in the order given; every unknown
    one refused at its place in `evaluator_slugs`, and (`runnable`) every human one, which
    people score and the server does not run."""
    found: dict[str, Row] = {}
    errors = []
    for index, key in enumerate(keys):
        try:
            row = EVALUATORS.find(conn, who, key)
        except NotFound:
            errors.append(FieldError(("evaluator_slugs", index), f"no evaluator '{key}'"))
            continue
        if runnable and row.kind == "human":
            message = f"'{key}' is a human evaluator: people score it, the server does not run it"
            errors.append(FieldError(("evaluator_slugs", index), message))
            continue
        found.setdefault(row.id, row)
    if errors:
        raise Invalid(errors)
    return list(found.values())


def _find(conn: Connection, who: Principal, dataset_id: str, report_id: str) -> Row:
    row = store.get_report(conn, who.org_id, dataset_id, report_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def listed(
    engine: Engine, who: Principal, dataset_id: str, page: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page newest first) of the dataset's runs, each with its state."""
    with engine.connect() as conn:
        datasets.find(conn, who, dataset_id)
        total, rows = store.page(conn, who.org_id, dataset_id, (page - 1) * page_size, page_size)
        return total, _with_state(conn, who, rows)


def _with_state(conn: Connection, who: Principal, rows: list[Row]) -> list[dict[str, Any]]:
    stored = store.result_counts(conn, [r.id for r in rows])
    gave_up = store.ended_early(conn, who.org_id, [origin(r.id) for r in rows])
    out = []
    for row in rows:
        expected = row.log_count * len(row.evaluator_ids)
        done = stored.get(row.id, 0)
        state = COMPLETED if done >= expected else FAILED if origin(row.id) in gave_up else RUNNING
        out.append(
            {
                "id": row.id,
                "dataset_id": row.dataset_id,
                "status": state,
                "evaluator_slugs": row.evaluator_slugs,
                "evaluator_ids": row.evaluator_ids,
                "log_count": row.log_count,
                "result_count": done,
                "expected_count": expected,
                "created_at": iso(row.created_at),
                "updated_at": iso(row.updated_at),
            }
        )
    return out


def report(engine: Engine, who: Principal, dataset_id: str, report_id: str) -> dict[str, Any]:
    """A run with its state and, per evaluator, its aggregates."""
    with engine.connect() as conn:
        datasets.find(conn, who, dataset_id)
        row = _find(conn, who, dataset_id, report_id)
        [found] = _with_state(conn, who, [row])
        results = store.results(conn, report_id)
    return {**found, "aggregates": aggregates(row.evaluator_ids, results)}


def aggregates(evaluator_ids: list[str], results: list[Row]) -> list[dict[str, Any]]:
    """Per evaluator, in the run's order: how many results and errors, the mean (of numbers;
    of booleans, the share true), the pass rate (the share passing its `passing_conditions`,
    or true, for a boolean evaluator without any), and the distribution of its values."""
    by_evaluator: dict[str, list[Row]] = {key: [] for key in evaluator_ids}
    for result in results:
        by_evaluator.setdefault(result.evaluator_id, []).append(result)
    return [_aggregate(key, rows) for key, rows in by_evaluator.items()]


def _aggregate(evaluator_id: str, rows: list[Row]) -> dict[str, Any]:
    scored = [r for r in rows if r.error is None]
    values = [value_of(r) for r in scored]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    passed = [
        r.is_passed if r.is_passed is not None else r.boolean_value
        for r in scored
        if r.is_passed is not None or r.boolean_value is not None
    ]
    first = rows[0] if rows else None
    return {
        "evaluator_id": evaluator_id,
        "evaluator_slug": first.evaluator_slug if first else None,
        "evaluator_name": first.evaluator_name if first else None,
        "value_type": first.value_type if first else None,
        "count": len(rows),
        "error_count": len(rows) - len(scored),
        "mean": sum(numbers) / len(numbers) if numbers else None,
        "pass_rate": sum(passed) / len(passed) if passed else None,
        "distribution": dict(sorted(distribution(values).items())),
    }


def distribution(values: list[Any]) -> Counter[str]:
    """How many times each value came up (each choice of a multi-select); text and JSON
    values are not counted."""
    counts: Counter[str] = Counter()
    for value in values:
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, bool):
                counts["true" if one else "false"] += 1
            elif isinstance(one, int | float):
                counts[str(int(one)) if float(one).is_integer() else str(one)] += 1
            elif isinstance(one, str) and isinstance(value, list):
                counts[one] += 1
    return counts


def compare(engine: Engine, who: Principal, dataset_id: str, a: str, b: str) -> dict[str, Any]:
    """Two runs side by side: each with its aggregates, and per evaluator either ran, the
    change in mean and pass rate from `a` to `b` and how many logs got another value."""
    first, second = report(engine, who, dataset_id, a), report(engine, who, dataset_id, b)
    with engine.connect() as conn:
        values = {key: _values(store.results(conn, key)) for key in (a, b)}
    of_a = {agg["evaluator_id"]: agg for agg in first["aggregates"]}
    of_b = {agg["evaluator_id"]: agg for agg in second["aggregates"]}
    evaluators = []
    for key in dict.fromkeys([*of_a, *of_b]):
        left, right = of_a.get(key), of_b.get(key)
        both = values[a].get(key, {}).keys() & values[b].get(key, {}).keys()
        evaluators.append(
            {
                "evaluator_id": key,
                "evaluator_slug": (left or right or {}).get("evaluator_slug"),
                "a": left,
                "b": right,
                "mean_delta": _delta(left, right, "mean"),
                "pass_rate_delta": _delta(left, right, "pass_rate"),
                "changed_logs": sum(values[a][key][k] != values[b][key][k] for k in both),
            }
        )
    return {"a": first, "b": second, "evaluators": evaluators}


def _values(results: list[Row]) -> dict[str, dict[str, Any]]:
    """evaluator id -> log id -> value (the error, for an error result)."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        out.setdefault(r.evaluator_id, {})[r.log_unique_id] = (
            value_of(r) if r.error is None else ("error", r.error)
        )
    return out


def _delta(left: dict[str, Any] | None, right: dict[str, Any] | None, name: str) -> float | None:
    if left is None or right is None or left[name] is None or right[name] is None:
        return None
    return right[name] - left[name]
