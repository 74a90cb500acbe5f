"""Evaluators: what judges a log, one model for both dialects.

An evaluator has a kind (an `llm` judge, `code`, a built-in `rule`, or `human`), a value type
for its scores, and a definition as clients describe it: Keywords AI's `llm_config`,
`code_config`, `rule_config`, `score_config`, `categorical_choices`, `passing_conditions`
(an update merges these objects), or a Humanloop `spec`. `Definition` reads either into
what running it needs.

Every evaluator is also a Humanloop File of type evaluator with the same id, so the
Humanloop dialect lists it and logs judgments against its versions: a change made through
either dialect adds a version whose kernel is the evaluator as Humanloop spells it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row

from llmtrail.core import audit, files, rules
from llmtrail.core.fields import text
from llmtrail.core.filters import parse_value_conditions
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal
from llmtrail.core.named import Named
from llmtrail.core.scoring import VALUE_TYPES, ValueSpec, normalise_value_type
from llmtrail.errors import Conflict, FieldError, Invalid
from llmtrail.store import evaluation as store
from llmtrail.store import files as file_store
from llmtrail.store.database import begin_write
from llmtrail.store.predicates import Group
from llmtrail.store.tables import automations, evaluators

EVALUATORS = Named(evaluators, "Evaluator")
KINDS = ("llm", "code", "rule", "human")
# Humanloop's names: evaluator_type -> kind, return_type -> value type, and back.
HUMANLOOP_KINDS = {"llm": "llm", "python": "code", "human": "human", "external": "human"}
HUMANLOOP_VALUES = {
    "boolean": "boolean",
    "number": "numerical",
    "select": "single_select",
    "multi_select": "multi_select",
    "text": "text",
}
# The parts of a definition an update merges into (objects), rather than replaces.
CONFIG_OBJECTS = ("llm_config", "code_config", "rule_config", "score_config", "configurations")
DEFINITION_FIELDS = (*CONFIG_OBJECTS, "categorical_choices", "passing_conditions", "eval_class")
PASSING_FIELD = "primary_score"  # what `passing_conditions` test: the score's value


@dataclass(frozen=True)
class Definition:
    """What running an evaluator needs, whichever dialect described it."""

    kind: str
    values: ValueSpec
    llm: dict[str, Any] | None = None  # model, template, rubric, temperature, max_tokens
    code: str | None = None
    rule: dict[str, Any] | None = None  # {"rule": name, ...params}
    passing: Group | None = None

    def is_passed(self, value: Any) -> bool | None:
        """Whether a value meets `passing_conditions` (None when there are none)."""
        if self.passing is None or value is None:
            return None
        return _holds(self.passing, value)


def definition_of(row: Row | dict[str, Any]) -> Definition:
    """The runnable form of a stored evaluator."""
    r = row._mapping if isinstance(row, Row) else row
    return _definition(r["kind"], r["value_type"], r["definition"])


def _definition(kind: str, value_type: str, d: dict[str, Any]) -> Definition:
    legacy = d.get("configurations") or {}
    score = d.get("score_config") or {}
    llm_config = {**_legacy_llm(legacy), **(d.get("llm_config") or {})}
    values = ValueSpec(
        value_type,
        minimum=_first(
            score.get("min_score"), llm_config.get("min_score"), legacy.get("min_score")
        ),
        maximum=_first(
            score.get("max_score"), llm_config.get("max_score"), legacy.get("max_score")
        ),
        choices=tuple(_choice_names(d.get("categorical_choices") or score.get("choices") or [])),
    )
    llm = None
    if kind == "llm":
        llm = {
            "model": llm_config.get("model"),
            "template": llm_config.get("evaluator_definition"),
            "rubric": llm_config.get("scoring_rubric"),
            "temperature": llm_config.get("temperature"),
            "max_tokens": llm_config.get("max_tokens"),
        }
    passing = d.get("passing_conditions")
    return Definition(
        kind=kind,
        values=values,
        llm=llm,
        code=(d.get("code_config") or {}).get("eval_code_snippet") if kind == "code" else None,
        rule=d.get("rule_config") if kind == "rule" else None,
        passing=_passing(passing) if passing else None,
    )


def _legacy_llm(legacy: dict[str, Any]) -> dict[str, Any]:
    """Keywords AI's older `configurations` of an LLM evaluator, in `llm_config` terms."""
    options = legacy.get("model_options") or {}
    return {
        k: v
        for k, v in {
            "model": legacy.get("llm_engine"),
            "evaluator_definition": legacy.get("evaluator_definition"),
            "scoring_rubric": legacy.get("scoring_rubric"),
            "temperature": options.get("temperature"),
            "max_tokens": options.get("max_tokens"),
        }.items()
        if v is not None
    }


def _choice_names(choices: list[Any]) -> list[str]:
    """Choices as `[str]`, `[{name}]`, `[{label, value}]` or `[{value}]`: their names."""
    names = []
    for choice in choices:
        if isinstance(choice, dict):
            choice = _first(choice.get("name"), choice.get("value"), choice.get("label"))
        names.append(str(choice))
    return names


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _passing(conditions: Any) -> Group:
    return parse_value_conditions(conditions, ("passing_conditions",))


def _holds(group: Group, value: Any) -> bool:
    """Whether a score value passes a `primary_score` condition tree (left to right)."""
    result: bool | None = None
    for connector, item in group.items:
        holds = _holds(item, value) if isinstance(item, Group) else _compare(item, value)
        if result is None:
            result = holds
        else:
            result = (result or holds) if connector == "OR" else (result and holds)
    return bool(result)


def _compare(condition: Any, value: Any) -> bool:
    op, wanted = condition.operator, condition.values
    if isinstance(value, list):  # multi-select: passes when any chosen value does
        return any(_compare(condition, v) for v in value)
    if op in ("in", "not_in"):
        found = any(value == w or str(value) == str(w) for w in wanted)
        return found if op == "in" else not found
    if op in ("lt", "lte", "gt", "gte") and isinstance(value, int | float):
        target = float(wanted[0])
        return {
            "lt": value < target,
            "lte": value <= target,
            "gt": value > target,
            "gte": value >= target,
        }[op]
    if op == "contains":
        return str(wanted[0]) in str(value)
    return False


# --- validation -----------------------------------------------------------------------------


SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
SLUG_RULE = "letters, digits, '_', '.' and '-' only, 1 to 255"


def named(body: Mapping[str, Any]) -> dict[str, str]:
    """The `name`, `evaluator_slug` and `description` a create or update body gives (those it
    gives), as text: a name not blank, a slug as SLUG allows."""
    errors: list[FieldError] = []
    given = {
        name: text(body, name, blank=name == "description", errors=errors)
        for name in ("name", "evaluator_slug", "description")
    }
    if given["evaluator_slug"] is not None and not SLUG.match(given["evaluator_slug"]):
        errors.append(FieldError(("evaluator_slug",), SLUG_RULE))
    if errors:
        raise Invalid(errors)
    return {name: value for name, value in given.items() if value is not None}


def check(kind: str, value_type: str, definition: dict[str, Any]) -> Definition:
    """The definition, refused with each broken rule named (nothing is stored)."""
    errors: list[FieldError] = []
    if kind not in KINDS:
        errors.append(FieldError(("type",), f"must be one of {', '.join(KINDS)}", "enum"))
    if value_type not in VALUE_TYPES:
        errors.append(
            FieldError(("score_value_type",), f"must be one of {', '.join(VALUE_TYPES)}", "enum")
        )
    for name in CONFIG_OBJECTS:
        if definition.get(name) is not None and not isinstance(definition[name], dict):
            errors.append(FieldError((name,), "must be an object", "type_error"))
    choices = definition.get("categorical_choices")
    if choices is not None and not (
        isinstance(choices, list) and all(isinstance(c, str | dict) for c in choices)
    ):
        errors.append(
            FieldError(
                ("categorical_choices",),
                "must be a list of choices, each a name or an object {name | value | label}",
                "type_error",
            )
        )
    if not isinstance(definition.get("eval_class") or "", str):  # answered as it is kept
        errors.append(FieldError(("eval_class",), "Not a valid string.", "type_error"))
    if errors:
        raise Invalid(errors)
    runnable = _definition(kind, value_type, definition)  # passing_conditions are parsed here
    errors.extend(_missing(runnable))
    low, high = runnable.values.bounds()
    if low is not None and high is not None and low > high:
        errors.append(FieldError(("score_config", "min_score"), "must not exceed max_score"))
    if value_type in ("single_select", "multi_select") and not runnable.values.choices:
        errors.append(
            FieldError(("categorical_choices",), f"a {value_type} evaluator needs its choices")
        )
    if errors:
        raise Invalid(errors)
    return runnable


def _missing(runnable: Definition) -> list[FieldError]:
    """What the evaluator's kind needs and its definition lacks."""
    if runnable.kind == "llm":
        llm = runnable.llm or {}
        needs = (
            (("llm_config", "model"), "an LLM evaluator needs a model", llm.get("model")),
            (
                ("llm_config", "evaluator_definition"),
                "an LLM evaluator needs a prompt template ({{input}}, {{output}}, ...)",
                llm.get("template"),
            ),
        )
        return [FieldError(loc, msg, "missing") for loc, msg, given in needs if not _text(given)]
    if runnable.kind == "code" and "def main" not in (runnable.code or ""):
        message = "a code evaluator needs Python that defines main(eval_inputs)"
        return [FieldError(("code_config", "eval_code_snippet"), message, "missing")]
    if runnable.kind == "rule":
        return _rule_errors(runnable.rule)
    return []


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _rule_errors(rule: dict[str, Any] | None) -> list[FieldError]:
    if not isinstance(rule, dict):
        return [FieldError(("rule_config",), "a rule evaluator needs rule_config", "missing")]
    try:
        rules.parse_rule(rule)
    except Invalid as exc:
        return exc.errors
    return []


# --- the Humanloop spec -------------------------------------------------------------------


def from_spec(spec: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(kind, value type, definition) of a Humanloop evaluator spec; the spec is kept whole
    in the definition, so it is answered as sent."""
    kind = HUMANLOOP_KINDS.get(spec.get("evaluator_type") or "external", "human")
    value_type = HUMANLOOP_VALUES.get(spec.get("return_type") or "number", "numerical")
    limits = spec.get("number_limits") or {}
    definition: dict[str, Any] = {
        "spec": spec,
        "score_config": {"min_score": limits.get("min"), "max_score": limits.get("max")},
        "categorical_choices": [o.get("name") for o in spec.get("options") or [] if o.get("name")],
    }
    if kind == "llm":
        prompt = spec.get("prompt") or {}
        definition["llm_config"] = {
            "model": prompt.get("model"),
            "evaluator_definition": _template_text(prompt.get("template")),
            "temperature": prompt.get("temperature"),
            "max_tokens": prompt.get("max_tokens"),
        }
    elif kind == "code":
        definition["code_config"] = {"eval_code_snippet": spec.get("code")}
    return kind, value_type, definition


def _template_text(template: Any) -> str | None:
    """A Humanloop prompt template (text, or chat messages) as one text."""
    if isinstance(template, list):
        return "\n\n".join(str(m.get("content") or "") for m in template if isinstance(m, dict))
    return template


def to_spec(kind: str, value_type: str, definition: dict[str, Any]) -> dict[str, Any]:
    """The evaluator as Humanloop spells it: its own spec if it came as one."""
    if isinstance(definition.get("spec"), dict):
        return definition["spec"]
    runnable = _definition(kind, value_type, definition)
    return_type = {v: k for k, v in HUMANLOOP_VALUES.items()}.get(value_type, "text")
    if value_type == "percentage":
        return_type = "number"
    spec: dict[str, Any] = {
        "arguments_type": "target_required" if _uses_ideal(runnable) else "target_free",
        "return_type": return_type,
        "evaluator_type": {"llm": "llm", "code": "python", "human": "human"}.get(kind, "external"),
    }
    low, high = runnable.values.bounds()
    if low is not None or high is not None:
        spec["number_limits"] = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    if runnable.values.choices:
        spec["options"] = [{"name": name} for name in runnable.values.choices]
    if runnable.llm:
        spec["prompt"] = {
            k: v
            for k, v in {
                "model": runnable.llm["model"],
                "template": runnable.llm["template"],
                "temperature": runnable.llm["temperature"],
                "max_tokens": runnable.llm["max_tokens"],
            }.items()
            if v is not None
        }
    if runnable.code:
        spec["code"] = runnable.code
    return spec


def _uses_ideal(runnable: Definition) -> bool:
    text = f"{(runnable.llm or {}).get('template') or ''}{runnable.code or ''}{runnable.rule or ''}"
    return "ideal_output" in text or "equals_ideal" in text


# --- storage --------------------------------------------------------------------------------


def slug_for(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-").lower()
    return slug[:200] or "evaluator"


def create(
    engine: Engine,
    principal: Principal,
    *,
    name: str,
    kind: str,
    value_type: str,
    definition: dict[str, Any],
    slug: str | None = None,
    description: str = "",
) -> Row:
    """A new evaluator (and its File); 409 when the slug is taken."""
    value_type = normalise_value_type(value_type)
    check(kind, value_type, definition)
    if slug is not None and not SLUG.match(slug):
        raise Invalid.at("evaluator_slug", SLUG_RULE)
    with begin_write(engine) as conn:
        slug = slug or _free_slug(conn, principal.org_id, slug_for(name))
        if store.by_id_or_slug(conn, evaluators, principal.org_id, slug) is not None:
            raise Conflict(f"an evaluator with evaluator_slug '{slug}' already exists")
        spec = to_spec(kind, value_type, definition)
        version = files.upsert_in(
            conn,
            principal,
            files.FileRef(files.FileType.EVALUATOR, path=f"evaluators/{slug}", kernel=spec),
        )
        now = utcnow()
        store.insert(
            conn,
            evaluators,
            dict(
                id=version.file_id,
                org_id=principal.org_id,
                slug=slug,
                name=name,
                kind=kind,
                value_type=value_type,
                description=description or "",
                definition=definition,
                created_at=now,
                updated_at=now,
            ),
        )
        audit.record(conn, principal, "created", "evaluator", version.file_id)
        return store.by_id_or_slug(conn, evaluators, principal.org_id, version.file_id)  # type: ignore[return-value]


def _free_slug(conn: Connection, org_id: int, base: str) -> str:
    slug, n = base, 1
    while store.by_id_or_slug(conn, evaluators, org_id, slug) is not None:
        n += 1
        slug = f"{base}_{n}"
    return slug


def update(engine: Engine, principal: Principal, key: str, changes: dict[str, Any]) -> Row:
    """Apply a partial update: definition objects merge, other fields replace. A change of
    definition adds a version to the evaluator's File."""
    given = named(changes)
    with begin_write(engine) as conn:
        row = EVALUATORS.find(conn, principal, key)
        definition = dict(row.definition)
        for name in DEFINITION_FIELDS:
            if name not in changes:
                continue
            new = changes[name]
            if name in CONFIG_OBJECTS and isinstance(new, dict):
                new = {**(definition.get(name) or {}), **new}
            definition[name] = new
            definition.pop("spec", None)  # no longer the spec it came as
        kind = changes.get("type", row.kind)
        value_type = normalise_value_type(changes.get("score_value_type", row.value_type))
        check(kind, value_type, definition)
        values: dict[str, Any] = dict(
            kind=kind, value_type=value_type, definition=definition, updated_at=utcnow()
        )
        values |= {name: given[name] for name in ("name", "description") if name in given}
        slug = given.get("evaluator_slug")
        if slug and slug != row.slug:
            if store.by_id_or_slug(conn, evaluators, principal.org_id, slug):
                raise Conflict(f"an evaluator with evaluator_slug '{slug}' already exists")
            values["slug"] = slug
        store.update_row(conn, evaluators, principal.org_id, row.id, **values)
        spec = to_spec(kind, value_type, definition)
        files.upsert_in(
            conn, principal, files.FileRef(files.FileType.EVALUATOR, id=row.id, kernel=spec)
        )
        audit.record(conn, principal, "changed", "evaluator", row.id, {"fields": sorted(changes)})
        return store.by_id_or_slug(conn, evaluators, principal.org_id, row.id)  # type: ignore[return-value]


def delete(engine: Engine, principal: Principal, key: str) -> None:
    """Delete an evaluator and its File. Its past scores stay (named as they were); the
    automations that ran it drop it, and its jobs not yet started are cancelled."""
    with begin_write(engine) as conn:
        row = EVALUATORS.find(conn, principal, key)
        now = utcnow()
        for automation in store.automations_using_evaluator(conn, principal.org_id, row.id):
            remaining = [e for e in automation.evaluator_ids if e != row.id]
            configuration = {**automation.configuration, "evaluator_ids": remaining}
            store.update_row(
                conn,
                automations,
                principal.org_id,
                automation.id,
                evaluator_ids=remaining,
                configuration=configuration,
                updated_at=now,
            )
            audit.record(
                conn,
                principal,
                "changed",
                "automation",
                automation.id,
                {"fields": ["evaluator_ids"]},
            )
        store.cancel_pending(conn, principal.org_id, f"evaluator:{row.id}", now)
        store.cancel_pending_evaluations(conn, principal.org_id, row.id, now)
        store.delete_row(conn, evaluators, principal.org_id, row.id)
        files.delete_in(conn, principal, row.id)
        audit.record(conn, principal, "deleted", "evaluator", row.id)


@dataclass(frozen=True)
class EvaluatorRef:
    """How a request names an evaluator: by a version of its File, or by the File (at its
    newest version); `loc` is the field that named it, for the refusal."""

    loc: tuple[str | int, ...]
    version_id: str | None = None
    file_id: str | None = None


def version_named(conn: Connection, principal: Principal, ref: EvaluatorRef) -> Row:
    """The evaluator File version `ref` names; refused, naming `ref`, when there is none."""
    org_id = principal.org_id
    if ref.version_id is not None:
        row = file_store.versions_by_id(conn, org_id, [ref.version_id]).get(ref.version_id)
    else:
        row = file_store.version(conn, org_id, ref.file_id, None) if ref.file_id else None
    if row is None or row.type != files.FileType.EVALUATOR:
        key = ref.version_id or ref.file_id
        raise Invalid.at(ref.loc, f"no evaluator '{key}'", "not_found")
    return row


def upsert_spec(engine: Engine, principal: Principal, ref: files.FileRef) -> Row:
    """The Humanloop upsert: the File version for the spec, and the evaluator it describes."""
    with begin_write(engine) as conn:
        version = files.upsert_in(conn, principal, ref)
        ensure(conn, principal, version)
        return version


def ensure(conn: Connection, principal: Principal, version: Row) -> Row:
    """The evaluator of an evaluator File at `version`, made or brought up to its spec (an
    evaluator File a Humanloop log created, or one upserted with a new spec). One made
    through the Keywords AI dialect has no spec of its own: its versions hold `to_spec` of
    it, which a version that it is already at must not overwrite (a rule is no human)."""
    spec = version.kernel or {}
    row = store.by_id_or_slug(conn, evaluators, principal.org_id, version.file_id)
    if row is not None and to_spec(row.kind, row.value_type, row.definition) == spec:
        return row
    kind, value_type, definition = from_spec(spec) if spec else ("human", "numerical", {})
    now = utcnow()
    if row is None:
        store.insert(
            conn,
            evaluators,
            dict(
                id=version.file_id,
                org_id=principal.org_id,
                slug=_free_slug(conn, principal.org_id, slug_for(version.path)),
                name=version.name,
                kind=kind,
                value_type=value_type,
                description="",
                definition=definition,
                created_at=now,
                updated_at=now,
            ),
        )
        audit.record(conn, principal, "created", "evaluator", version.file_id)
    elif spec:
        store.update_row(
            conn,
            evaluators,
            principal.org_id,
            row.id,
            kind=kind,
            value_type=value_type,
            definition=definition,
            updated_at=now,
        )
        audit.record(conn, principal, "changed", "evaluator", row.id, {"fields": ["spec"]})
    return store.by_id_or_slug(conn, evaluators, principal.org_id, version.file_id)  # type: ignore[return-value]
