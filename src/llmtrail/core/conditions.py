"""Conditions: which logs an automation evaluates (Keywords AI §2.4, §5.3).

A condition's policy is `{"rules": [{field, operator, value}], "connector": "AND"|"OR"}` with
word operators (`equals`, `greater_than_or_equal`, ...) and `metadata.<key>` fields. It is
translated into the filter language of the log list and parsed by the same parser, into the
same tree, compiled by the same SQL: a condition selects exactly the logs the equivalent
list filter does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row

from llmtrail.core import audit
from llmtrail.core.fields import text
from llmtrail.core.filters import parse_filters
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.named import Named
from llmtrail.errors import Conflict, FieldError, Invalid
from llmtrail.store import evaluation as store
from llmtrail.store.database import begin_write
from llmtrail.store.predicates import Group
from llmtrail.store.tables import conditions

CONDITIONS = Named(conditions, "Condition")
SINGLE_LOG = "single_log"
# The word operators of a policy, as the filter language spells them.
OPERATORS = {
    "equals": "equals",
    "not_equals": "not_equals",
    "greater_than": "gt",
    "less_than": "lt",
    "greater_than_or_equal": "gte",
    "less_than_or_equal": "lte",
    "contains": "contains",
    "not_contains": "not_contains",
    "in": "in",
    "not_in": "not_in",
}
CONNECTORS = ("AND", "OR")


def to_filters(policy: Any) -> Group:
    """The filter tree of a policy; each broken rule refused under `condition_policy`."""
    if not isinstance(policy, dict) or not isinstance(policy.get("rules"), list):
        raise Invalid.at(
            "condition_policy", "must be {rules: [{field, operator, value}], connector}"
        )
    connector = str(policy.get("connector", "AND")).upper()
    if connector not in CONNECTORS:
        raise Invalid.at("condition_policy", "connector must be 'AND' or 'OR'")
    errors: list[FieldError] = []
    filters: dict[str, list[dict[str, Any]]] = {}
    for rule in policy["rules"]:
        if not isinstance(rule, dict) or not isinstance(rule.get("field"), str):
            errors.append(
                FieldError(("condition_policy",), "each rule is {field, operator, value}")
            )
            continue
        field, operator = rule["field"], rule.get("operator")
        if operator not in OPERATORS:
            errors.append(
                FieldError(
                    ("condition_policy",), f"Invalid operator '{operator}' for field '{field}'"
                )
            )
            continue
        name = "metadata__" + field[len("metadata.") :] if field.startswith("metadata.") else field
        spec = {"operator": OPERATORS[operator], "value": rule.get("value"), "connector": connector}
        filters.setdefault(name, []).append(spec)
    if errors:
        raise Invalid(errors)
    try:
        return parse_filters(filters, ("condition_policy",))
    except Invalid as exc:  # named as the policy names the rule: its field and the reason
        raise Invalid([FieldError(("condition_policy",), _reason(e)) for e in exc.errors]) from None


def _reason(error: FieldError) -> str:
    field = next((str(p) for p in error.loc[1:] if isinstance(p, str)), "")
    field = "metadata." + field[len("metadata__") :] if field.startswith("metadata__") else field
    return f"{error.msg} (field '{field}')" if field else error.msg


def _checked(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The columns a create (or partial update) body sets, each rule checked."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, column in (("name", "name"), ("condition_slug", "slug")):
        value = body.get(name)
        if value is None and not partial:
            errors.append(FieldError((name,), "This field is required.", "missing"))
        elif value is not None:
            if not isinstance(value, str) or not value.strip():
                errors.append(FieldError((name,), "must be a non-empty string"))
            else:
                values[column] = value
    if "description" in body:
        values["description"] = text(body, "description", errors=errors) or ""
    if body.get("condition_type") is not None or not partial:
        kind = body.get("condition_type")
        if kind is None:
            errors.append(FieldError(("condition_type",), "This field is required.", "missing"))
        elif kind != SINGLE_LOG:
            raise Invalid.at(
                "condition_type",
                "Condition type must be 'single_log' for online evaluation automations",
                status=422,
            )
        values["condition_type"] = SINGLE_LOG
    if "condition_policy" in body or not partial:
        if body.get("condition_policy") is None:
            errors.append(FieldError(("condition_policy",), "This field is required.", "missing"))
        else:
            to_filters(body["condition_policy"])
            values["policy"] = body["condition_policy"]
    if errors:
        raise Invalid(errors)
    return values


def create(engine: Engine, principal: Principal, body: dict[str, Any]) -> Row:
    values = _checked(body, partial=False)
    now = utcnow()
    with begin_write(engine) as conn:
        if store.by_id_or_slug(conn, conditions, principal.org_id, values["slug"]) is not None:
            raise Invalid.at("condition_slug", "condition with this condition slug already exists.")
        row_id = new_id("cond_")
        store.insert(
            conn,
            conditions,
            {
                "description": "",
                **values,
                "id": row_id,
                "org_id": principal.org_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        audit.record(conn, principal, "created", "condition", row_id)
        return store.by_id_or_slug(conn, conditions, principal.org_id, row_id)  # type: ignore[return-value]


def update(engine: Engine, principal: Principal, key: str, body: dict[str, Any]) -> Row:
    values = _checked(body, partial=True)
    with begin_write(engine) as conn:
        row = CONDITIONS.find(conn, principal, key)
        slug = values.get("slug")
        if (
            slug
            and slug != row.slug
            and store.by_id_or_slug(conn, conditions, principal.org_id, slug)
        ):
            raise Invalid.at("condition_slug", "condition with this condition slug already exists.")
        store.update_row(conn, conditions, principal.org_id, row.id, **values, updated_at=utcnow())
        audit.record(conn, principal, "changed", "condition", row.id, {"fields": sorted(body)})
        return store.by_id_or_slug(conn, conditions, principal.org_id, row.id)  # type: ignore[return-value]


def delete(engine: Engine, principal: Principal, key: str) -> None:
    """Delete a condition no automation uses (409 naming those that do)."""
    with begin_write(engine) as conn:
        row = CONDITIONS.find(conn, principal, key)
        users = store.users_of_condition(conn, principal.org_id, row.id)
        if users:
            raise Conflict(f"the condition is used by automations: {', '.join(users)}")
        store.delete_row(conn, conditions, principal.org_id, row.id)
        audit.record(conn, principal, "deleted", "condition", row.id)
