"""Scores: what an evaluator said about a log. One per (evaluator, log), whoever wrote it:
an automation's job, a person through the API, a Humanloop evaluator log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import evaluators
from llmtrail.core.fields import text
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.scoring import InvalidScore, Outcome
from llmtrail.errors import Conflict, FieldError, Invalid, NotFound
from llmtrail.store import evaluation as store
from llmtrail.store import logs as log_store
from llmtrail.store.database import begin_write
from llmtrail.store.tables import evaluators as evaluators_table

DUPLICATE = "A score already exists for this evaluator in this log."
# Where each value type keeps its value.
VALUE_COLUMNS = {
    "numerical": "numerical_value",
    "percentage": "numerical_value",
    "boolean": "boolean_value",
    "single_select": "categorical_value",
    "multi_select": "categorical_value",
    "json": "json_value",
    "text": "string_value",
}
VALUE_FIELDS = (
    "numerical_value",
    "string_value",
    "boolean_value",
    "categorical_value",
    "json_value",
)


def value_of(score: Row | dict[str, Any]) -> Any:
    """A stored score's value, as its type keeps it (a single select as its one choice)."""
    s = score._mapping if isinstance(score, Row) else score
    value = s[VALUE_COLUMNS.get(s["value_type"], "json_value")]
    if s["value_type"] == "single_select" and isinstance(value, list):
        return value[0] if value else None
    return value


def columns_for(value_type: str, value: Any) -> dict[str, Any]:
    """The value columns of a score of this type holding `value` (the others null)."""
    columns = dict.fromkeys(VALUE_FIELDS)
    if value is not None:
        if value_type == "single_select":
            value = [value]
        columns[VALUE_COLUMNS.get(value_type, "json_value")] = value
    return columns


def new_row(
    org_id: int,
    log: Row | dict[str, Any],
    evaluator: Row,
    outcome: Outcome,
    *,
    source: str,
    source_log_id: str | None = None,
) -> dict[str, Any]:
    """The `scores` row for an outcome of `evaluator` on `log` (with its pass or fail)."""
    l_ = log._mapping if isinstance(log, Row) else log
    definition = evaluators.definition_of(evaluator)
    now = utcnow()
    return {
        "id": new_id("sc_"),
        "org_id": org_id,
        "log_id": l_["id"],
        "log_unique_id": l_["unique_id"],
        "evaluator_id": evaluator.id,
        "evaluator_slug": evaluator.slug,
        "evaluator_name": evaluator.name,
        "value_type": evaluator.value_type,
        **columns_for(evaluator.value_type, outcome.value),
        "is_passed": None if outcome.error else definition.is_passed(outcome.value),
        "explanation": outcome.explanation,
        "error": outcome.error,
        "source": source,
        "source_log_id": source_log_id,
        "environment": l_["environment"],
        "cost": outcome.cost,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "latency": outcome.latency,
        "created_at": now,
        "updated_at": now,
    }


def scores_of(engine: Engine, principal: Principal, log_ids: Sequence[int]) -> dict[int, list[Row]]:
    """The scores of a page of logs (by primary key), in one query."""
    if not log_ids:
        return {}
    with engine.connect() as conn:
        return store.scores_of(conn, principal.org_id, log_ids)


def given_value(evaluator: Row, values: dict[str, Any], loc: tuple[str, ...] = ()) -> Any:
    """The value a person or client gives a score in the value columns, checked against the
    evaluator's type (the column its type keeps, or any one column)."""
    column = VALUE_COLUMNS.get(evaluator.value_type, "json_value")
    given = {k: v for k, v in values.items() if k in VALUE_FIELDS and v is not None}
    raw = given.get(column, next(iter(given.values()), None))
    if raw is None:
        raise Invalid.at(
            (*loc, column), f"a {evaluator.value_type} score needs {column}", "missing"
        )
    if evaluator.value_type == "single_select" and isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    try:
        return evaluators.definition_of(evaluator).values.coerce(raw)
    except InvalidScore as exc:
        raise Invalid.at((*loc, column), str(exc)) from None


def create(
    engine: Engine, principal: Principal, log_key: str, body: dict[str, Any], source: str = "api"
) -> Row:
    """A score written through the API; 409 when the evaluator already scored the log."""
    evaluator_key = body.get("evaluator_id") or body.get("evaluator_slug")
    if not isinstance(evaluator_key, str) or not evaluator_key:
        raise Invalid.at("evaluator_id", "an evaluator_id or evaluator_slug is required", "missing")
    explanation = text(body, "explanation")
    with begin_write(engine) as conn:
        log = _log(conn, principal, log_key)
        evaluator = store.by_id_or_slug(conn, evaluators_table, principal.org_id, evaluator_key)
        if evaluator is None:
            raise Invalid.at("evaluator_id", f"no evaluator '{evaluator_key}'", "not_found")
        outcome = Outcome(value=given_value(evaluator, body), explanation=explanation)
        row = new_row(principal.org_id, log, evaluator, outcome, source=source)
        if not store.add_score(conn, row):
            raise Conflict(DUPLICATE)
        return store.score(conn, principal.org_id, row["id"])  # type: ignore[return-value]


def _log(conn: Connection, principal: Principal, log_key: str) -> Row:
    log = log_store.get_by_unique_id(conn, principal.org_id, log_key)
    if log is None:
        raise NotFound("Log not found")
    return log


def get(engine: Engine, principal: Principal, score_id: str, log_key: str | None = None) -> Row:
    with engine.connect() as conn:
        row = store.score(conn, principal.org_id, score_id)
    if row is None or (log_key is not None and row.log_unique_id != log_key):
        raise NotFound("Score not found")
    return row


def listed(
    engine: Engine,
    principal: Principal,
    page: int,
    page_size: int,
    *,
    log_key: str | None = None,
    evaluator_key: str | None = None,
) -> tuple[int, list[Row]]:
    with engine.connect() as conn:
        log_id = _log(conn, principal, log_key).id if log_key is not None else None
        evaluator_id = None
        if evaluator_key:
            found = store.by_id_or_slug(conn, evaluators_table, principal.org_id, evaluator_key)
            evaluator_id = found.id if found is not None else evaluator_key
        return store.score_page(
            conn,
            principal.org_id,
            (page - 1) * page_size,
            page_size,
            log_id=log_id,
            evaluator_id=evaluator_id,
        )


def update(
    engine: Engine,
    principal: Principal,
    score_id: str,
    changes: dict[str, Any],
    log_key: str | None = None,
) -> Row:
    """Change a score's value or explanation (a person correcting a judgment)."""
    unknown = [k for k in changes if k not in (*VALUE_FIELDS, "explanation")]
    if unknown:
        raise Invalid(
            [
                FieldError((k,), "only the value fields and explanation of a score change")
                for k in unknown
            ]
        )
    explanation = text(changes, "explanation")
    with begin_write(engine) as conn:
        row = store.score(conn, principal.org_id, score_id)
        if row is None or (log_key is not None and row.log_unique_id != log_key):
            raise NotFound("Score not found")
        values: dict[str, Any] = {"updated_at": utcnow()}
        if any(k in VALUE_FIELDS for k in changes):
            evaluator = store.by_id_or_slug(
                conn, evaluators_table, principal.org_id, row.evaluator_id
            )
            if evaluator is None:
                raise Invalid.at(
                    "evaluator_id", "the evaluator was deleted: its scores are kept as they are"
                )
            value = given_value(evaluator, changes)
            values |= columns_for(row.value_type, value)
            values["is_passed"] = evaluators.definition_of(evaluator).is_passed(value)
            values["error"] = None
        if "explanation" in changes:
            values["explanation"] = explanation
        store.update_score(conn, principal.org_id, score_id, **values)
        return store.score(conn, principal.org_id, score_id)  # type: ignore[return-value]


def delete(engine: Engine, principal: Principal, score_id: str, log_key: str | None = None) -> None:
    with begin_write(engine) as conn:
        row = store.score(conn, principal.org_id, score_id)
        if row is None or (log_key is not None and row.log_unique_id != log_key):
            raise NotFound("Score not found")
        store.delete_score(conn, principal.org_id, score_id)
