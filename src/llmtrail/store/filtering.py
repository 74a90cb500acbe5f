"""Compiling the filter tree (`store.predicates`) into SQL over `logs`.

Metadata values need care to mean the same on SQLite and PostgreSQL: a value compares as its
JSON spelling (`true`, `5`, `"prod"` -> `prod`), comparisons with numbers compare numbers, and
a log without the key never matches. Three small SQL constructs, compiled per dialect, do that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    String,
    Table,
    and_,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from llmtrail.store import metadata_index
from llmtrail.store.evaluation import scored_by
from llmtrail.store.predicates import NEGATED_MATCHES, Condition, Group
from llmtrail.store.tables import logs, scores


class _JsonKey(FunctionElement[Any]):
    """`column`'s value at top-level `key`. Carries the key and its SQLite JSON path as binds."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], key: str) -> None:
        path = '$."' + key.replace('"', '\\"') + '"'
        super().__init__(column, literal(key, String()), literal(path, String()))


class json_text(_JsonKey):
    type = String()
    inherit_cache = True


class json_number(_JsonKey):
    type = Float()
    inherit_cache = True


class json_has_key(_JsonKey):
    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition itself: never compared with 1 (SQLite)


def _parts(element: _JsonKey, compiler: Any, **kw: Any) -> tuple[str, str, str]:
    column, key, path = element.clauses
    return (
        compiler.process(column, **kw),
        compiler.process(key, **kw),
        compiler.process(path, **kw),
    )


@compiles(json_text, "sqlite")
def _text_sqlite(element: json_text, compiler: Any, **kw: Any) -> str:
    col, _, path = _parts(element, compiler, **kw)
    return (
        f"CASE json_type({col}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({col}, {path}) AS TEXT) END"
    )


@compiles(json_text, "postgresql")
def _text_pg(element: json_text, compiler: Any, **kw: Any) -> str:
    col, key, _ = _parts(element, compiler, **kw)
    return f"({col} ->> {key})"


@compiles(json_number, "sqlite")
def _number_sqlite(element: json_number, compiler: Any, **kw: Any) -> str:
    col, _, path = _parts(element, compiler, **kw)
    return (
        f"CASE WHEN json_type({col}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({col}, {path}) END"
    )


@compiles(json_number, "postgresql")
def _number_pg(element: json_number, compiler: Any, **kw: Any) -> str:
    col, key, _ = _parts(element, compiler, **kw)
    return (
        f"CASE WHEN jsonb_typeof({col} -> {key}) = 'number' "
        f"THEN CAST({col} ->> {key} AS DOUBLE PRECISION) END"
    )


@compiles(json_has_key, "sqlite")
def _has_key_sqlite(element: json_has_key, compiler: Any, **kw: Any) -> str:
    col, _, path = _parts(element, compiler, **kw)
    return f"(json_type({col}, {path}) IS NOT NULL)"


@compiles(json_has_key, "postgresql")
def _has_key_pg(element: json_has_key, compiler: Any, **kw: Any) -> str:
    col, key, _ = _parts(element, compiler, **kw)
    return f"({col} ? {key})"


def compile_filter(group: Group, org_id: int, table: Table = logs) -> ColumnElement[bool] | None:
    """The WHERE clause for a filter tree over one organization's logs, or over a table of
    copies of logs with the same columns (`dataset_logs`, whose score filters ask about the
    logs they were copied from); None when it has no conditions."""
    expr: ColumnElement[bool] | None = None
    for connector, item in group.items:
        if isinstance(item, Condition):
            clause = _condition(item, org_id, table)
        else:
            clause = compile_filter(item, org_id, table)
        if clause is None:
            continue
        if expr is None:
            expr = clause
        else:
            expr = or_(expr, clause) if connector == "OR" else and_(expr, clause)
    return expr


def _condition(cond: Condition, org_id: int, table: Table) -> ColumnElement[bool]:
    if cond.field == "scores":
        return _scored(cond, org_id, logs.c.id if table is logs else table.c.source_log_id)
    if table is logs and metadata_index.answers(cond):
        return metadata_index.matching(org_id, cond.key, cond.values)
    if cond.key is None:
        column: ColumnElement[Any] = table.c[cond.field]
        if cond.field == "metadata":
            return _map(column, cond)
        # A negation also matches logs where the field is missing, as Django's exclude does.
        return _match(column, cond, or_missing=column.is_(None))
    if cond.operator == "isnull":
        value = json_text(table.c[cond.field], cond.key)
        return value.is_(None) if cond.values[0] else value.is_not(None)
    present = json_has_key(table.c[cond.field], cond.key)
    if cond.operator == "empty":
        value = json_text(table.c[cond.field], cond.key)
        return and_(present, or_(value.is_(None), value == ""))
    of = json_number if cond.numeric else json_text
    # json_text is NULL for a missing key, so a negation never matches such a log.
    return _match(of(table.c[cond.field], cond.key), cond, or_missing=None)


def _scored(cond: Condition, org_id: int, log_key: ColumnElement[Any]) -> ColumnElement[bool]:
    """Logs (whose key is `log_key`) the evaluator `cond.key` scored with a value that
    passes; `isnull` asks for logs it has not scored. A negation never matches an unscored
    log."""
    mine = scored_by(org_id, cond.key or "")
    if cond.operator == "isnull":
        has = log_key.in_(select(scores.c.log_id).where(mine))
        return ~has if cond.values[0] else has
    booleans = all(isinstance(v, bool) for v in cond.values)
    column = scores.c.boolean_value if booleans else scores.c.numerical_value
    positive = Condition("scores", "in", cond.values) if cond.operator == "not_in" else cond
    matched = log_key.in_(select(scores.c.log_id).where(mine, _match(column, positive, None)))
    if cond.operator != "not_in":
        return matched
    unscored = log_key.in_(select(scores.c.log_id).where(mine))
    return and_(unscored, ~matched)


def _map(column: ColumnElement[Any], cond: Condition) -> ColumnElement[bool]:
    if cond.operator == "isnull":
        return column.is_(None) if cond.values[0] else column.is_not(None)
    return or_(*(json_has_key(column, key) for key in cond.values))


def _match(
    column: ColumnElement[Any], cond: Condition, or_missing: ColumnElement[bool] | None
) -> ColumnElement[bool]:
    op, values = cond.operator, cond.values
    if op in NEGATED_MATCHES or op == "not_in":
        positive = Condition(cond.field, NEGATED_MATCHES.get(op, "in"), values, cond.key)
        negated = ~_match(column, positive, None)
        return negated if or_missing is None else or_(or_missing, negated)
    if op == "in":
        return column == values[0] if len(values) == 1 else column.in_(values)
    if op == "isnull":
        return column.is_(None) if values[0] else column.is_not(None)
    if op == "empty":
        return or_(column.is_(None), column == "")
    if op == "not_empty":
        return and_(column.is_not(None), column != "")
    value = values[0]
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    if op == "gt":
        return column > value
    if op == "gte":
        return column >= value
    if op == "iexact":
        return func.lower(column) == value.lower()
    if op == "contains":
        return column.contains(value, autoescape=True)
    if op == "icontains":
        return column.icontains(value, autoescape=True)
    if op == "startswith":
        return column.startswith(value, autoescape=True)
    if op == "endswith":
        return column.endswith(value, autoescape=True)
    if op == "regex":
        return column.regexp_match(value)
    if op == "words":
        words = value.split()
        return and_(*(column.icontains(w, autoescape=True) for w in words)) if words else false()
    raise AssertionError(f"operator {op} passed parsing but has no SQL")
