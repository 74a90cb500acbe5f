"""Running evaluators: on a log for an `evaluate` job, or on given inputs for a run.

The slow part (an LLM call, a code evaluator's process) happens in the job's `run` step,
outside any transaction; the score is written in its `commit` step, with the job marked
done, and only if no score of that evaluator on that log exists yet: a job that runs twice
(its worker thought dead) still leaves one score. A provider's 429 or 5xx raises
`Transient`, so the job is retried with backoff; anything else an evaluator does wrong is
its result, an error score that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.config import Settings, load_settings
from llmtrail.core import evaluators, jobs, rules, scores
from llmtrail.core.monitoring import EVALUATE
from llmtrail.core.scoring import EvalInputs, InvalidScore, Outcome
from llmtrail.store import evaluation as store
from llmtrail.store import logs as log_store
from llmtrail.store.tables import automations
from llmtrail.store.tables import evaluators as evaluators_table
from llmtrail.worker.judge import Judge


@cache
def _settings() -> Settings:
    return load_settings()


def run_definition(definition: evaluators.Definition, inputs: EvalInputs) -> Outcome:
    """What the evaluator says about these inputs (raises `Transient` to be retried)."""
    settings = _settings()
    if definition.kind == "llm":
        llm = definition.llm or {}
        return Judge.from_settings(settings).score(
            model=llm["model"],
            template=llm["template"],
            inputs=inputs,
            spec=definition.values,
            rubric=llm.get("rubric"),
            temperature=llm.get("temperature"),
            max_tokens=llm.get("max_tokens"),
        )
    if definition.kind == "code":
        from llmtrail.worker import sandbox  # a process per run: loaded where code is run

        result = sandbox.run_code(
            definition.code or "",
            inputs.as_dict(),
            timeout=settings.code_timeout_seconds,
            memory_mb=settings.code_memory_mb,
            hidden=[settings.data_dir],
        )
        if result.error is not None:
            return Outcome.failed(result.error, latency=result.seconds)
        return _typed(definition, result.value, latency=result.seconds)
    if definition.kind == "rule":
        outcome = rules.evaluate(rules.parse_rule(definition.rule or {}), inputs)
        return outcome if outcome.error else _typed(definition, outcome.value, outcome=outcome)
    return Outcome.failed("a human evaluator is scored by people, not run")


def _typed(
    definition: evaluators.Definition, raw: Any, outcome: Outcome | None = None, **usage: Any
) -> Outcome:
    """The value as the evaluator's type, or an error outcome saying why it is not one."""
    explanation = outcome.explanation if outcome else None
    if isinstance(raw, dict) and "score" in raw:  # code may return {score, explanation}
        explanation = raw.get("explanation", explanation)
        raw = raw["score"]
    try:
        return Outcome(value=definition.values.coerce(raw), explanation=explanation, **usage)
    except InvalidScore as exc:
        return Outcome.failed(f"the evaluator returned {exc}", **usage)


def inputs_of(log: Row | dict[str, Any]) -> EvalInputs:
    """What an evaluator sees of a stored log."""
    r = log._mapping if isinstance(log, Row) else log
    metadata = r["metadata"] or {}
    extra = r["extra"] or {}
    return EvalInputs(
        input=r["input"] if r["input"] is not None else r["prompt_messages"],
        output=r["output"] if r["output"] is not None else r["completion_message"],
        metadata=metadata,
        ideal_output=extra.get("ideal_output", metadata.get("ideal_output")),
        metrics={
            "latency": r["latency"],
            "cost": r["cost"],
            "prompt_tokens": r["prompt_tokens"],
            "completion_tokens": r["completion_tokens"],
            "total_tokens": r["total_request_tokens"],
        },
    )


def _run(engine: Engine, batch: list[Row]) -> list[Any]:
    """Each job's evaluator outcome on its log, what they read read once for the batch;
    None for a job whose evaluator or log is gone by now, `Cancelled` for one whose
    automation was deleted since it was queued (it ran, or waited for a retry, meanwhile)."""
    found = _read(engine, batch)
    results: list[Any] = []
    for job in batch:
        payload = job.payload
        automation_id = payload.get("automation_id")
        evaluator = found.evaluators.get((job.org_id, payload["evaluator_id"]))
        log = found.logs.get((job.org_id, payload["log_unique_id"]))
        if automation_id and (job.org_id, automation_id) not in found.automations:
            results.append(jobs.Cancelled(automation_id))
        elif evaluator is None or log is None or log.id != payload["log_id"]:
            results.append(None)
        else:
            try:
                inputs = inputs_of(log)
                if payload.get("ideal_output") is not None:  # a Datapoint's target
                    inputs = replace(inputs, ideal_output=payload["ideal_output"])
                outcome = run_definition(evaluators.definition_of(evaluator), inputs)
                results.append((evaluator, log, outcome))
            except Exception as exc:  # Transient, or a fault: retried with backoff
                results.append(exc)
    return results


@dataclass
class _Found:
    """What a batch of jobs names, by (organization, id)."""

    evaluators: dict[tuple[int, str], Row] = field(default_factory=dict)
    automations: set[tuple[int, str]] = field(default_factory=set)
    logs: dict[tuple[int, str], Row] = field(default_factory=dict)


def _read(engine: Engine, batch: list[Row]) -> _Found:
    """The batch's evaluators, automations and logs, a query each per organization."""
    found = _Found()
    by_org: dict[int, list[dict[str, Any]]] = {}
    for job in batch:
        by_org.setdefault(job.org_id, []).append(job.payload)
    with engine.connect() as conn:
        for org_id, payloads in by_org.items():
            named = store.many_by_id(
                conn, evaluators_table, org_id, (p["evaluator_id"] for p in payloads)
            )
            found.evaluators |= {(org_id, key): row for key, row in named.items()}
            wanted = (p["automation_id"] for p in payloads if p.get("automation_id"))
            found.automations |= {
                (org_id, key) for key in store.many_by_id(conn, automations, org_id, wanted)
            }
            stored = log_store.get_many(conn, org_id, (p["log_unique_id"] for p in payloads))
            found.logs |= {(org_id, key): row for key, row in stored.items()}
    return found


def _commit(conn: Connection, job: Row, outcome: tuple[Row, Row, Outcome] | None) -> None:
    """The score, unless the evaluator scored the log already (this job ran before, on a
    worker thought dead)."""
    if outcome is None:
        return
    evaluator, log, result = outcome
    source = job.payload.get("source") or f"automation:{job.payload.get('automation_id')}"
    store.insert_scores(conn, [scores.new_row(job.org_id, log, evaluator, result, source=source)])


jobs.register(EVALUATE, commit=_commit, run=_run)
