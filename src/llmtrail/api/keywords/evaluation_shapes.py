"""Keywords AI wire shapes of evaluators, scores, conditions and automations (§2, §3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row

from llmtrail.core import evaluators, scores
from llmtrail.core.ids import iso
from llmtrail.core.scoring import Outcome

# An evaluator's definition fields answered as they were sent (objects default to {}).
DEFINITION_OBJECTS = ("configurations", "score_config", "llm_config", "code_config", "rule_config")


def evaluator_object(row: Row) -> dict[str, Any]:
    d = row.definition
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "evaluator_slug": row.slug,
        "slug": row.slug,  # the name the keywordsai SDK reads
        "type": row.kind,
        "score_value_type": row.value_type,
        "eval_class": d.get("eval_class") or "",
        "description": row.description,
        "categorical_choices": d.get("categorical_choices") or [],
        "passing_conditions": d.get("passing_conditions") or {},
        "custom_required_fields": [],
        "starred": False,
        "tags": [],
        "organization": row.org_id,
        "created_by": None,
        "updated_by": None,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
    for name in DEFINITION_OBJECTS:
        out[name] = d.get(name) or {}
    return out


def _score_values(value_type: str, s: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "score_value_type": value_type,
        **{name: s[name] for name in scores.VALUE_FIELDS},
        "is_passed": s["is_passed"],
        "explanation": s["explanation"],
    }


def score_object(row: Row) -> dict[str, Any]:
    """A score as `/api/scores/` answers it."""
    s = row._mapping
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "type": row.value_type,
        "environment": row.environment,
        **_score_values(row.value_type, s),
        "error": row.error,
        "cost": row.cost,
        "evaluator_id": row.evaluator_id,
        "evaluator_slug": row.evaluator_slug,
        "evaluator_name": row.evaluator_name,
        "log_id": row.log_unique_id,
        "dataset_id": None,
        "source": row.source,
    }


def log_scores(rows: Iterable[Row]) -> dict[str, dict[str, Any]]:
    """A log's `scores`: by evaluator id, what each said."""
    return {
        row.evaluator_id: {
            "id": row.id,
            "evaluator_id": row.evaluator_id,
            "evaluator_slug": row.evaluator_slug,
            "evaluator_name": row.evaluator_name,
            **_score_values(row.value_type, row._mapping),
        }
        for row in rows
    }


def run_object(evaluator: Row, outcome: Outcome) -> dict[str, Any]:
    """What `POST /api/evaluators/{id}/run/` answers: the score, not stored."""
    definition = evaluators.definition_of(evaluator)
    values = scores.columns_for(evaluator.value_type, outcome.value)
    return {
        "evaluator_id": evaluator.id,
        "evaluator_slug": evaluator.slug,
        "score": outcome.value,
        "score_value_type": evaluator.value_type,
        **values,
        "is_passed": None if outcome.error else definition.is_passed(outcome.value),
        "explanation": outcome.explanation,
        "error": outcome.error,
        "cost": outcome.cost,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "latency": outcome.latency,
    }


def condition_object(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "condition_slug": row.slug,
        "condition_type": row.condition_type,
        "description": row.description,
        "condition_policy": row.policy,
        "unique_organization_id": str(row.org_id),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def automation_object(
    row: Row, conditions: Mapping[str, Row], evaluator_rows: Mapping[str, Row]
) -> dict[str, Any]:
    """The automation as seed 003 answers it, with its condition and evaluators' details."""
    condition = conditions.get(row.condition_id) if row.condition_id else None
    return {
        "id": row.id,
        "automation_slug": row.slug,
        "name": row.name,
        "automation_type": row.automation_type,
        "condition": {
            "id": condition.id,
            "condition_slug": condition.slug,
            "name": condition.name,
            "condition_type": condition.condition_type,
        }
        if condition is not None
        else None,
        "evaluator_ids": list(row.evaluator_ids),
        "evaluator_details": [
            {
                "id": e.id,
                "name": e.name,
                "evaluator_slug": e.slug,
                "eval_class": e.definition.get("eval_class") or "keywordsai_custom_evaluator",
            }
            for e in (evaluator_rows.get(i) for i in row.evaluator_ids)
            if e is not None
        ],
        "is_enabled": row.is_enabled,
        "configuration": row.configuration,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def job_object(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "origin": row.origin,
        "state": row.state,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "payload": row.payload,
        "last_error": row.last_error,
        "run_after": iso(row.run_after),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
