"""Text search over logs: a substring of their inputs, output and message contents, in any
case, found through an index of each database's own.

Humanloop's `GET /logs?search=` asks for a substring, so both indexes are of trigrams:
SQLite an FTS5 table with the trigram tokenizer, PostgreSQL a GIN `pg_trgm` index. Each
database keeps its index on every path that writes logs (ingest, updates, deletes, an
organization's cascade): SQLite by triggers on `logs`, PostgreSQL as an expression index.
Neither is declared in `tables.py` (an FTS5 table and an expression index are outside what
SQLAlchemy's metadata describes); `UNDECLARED` names them, for the migrations' check.

What is searched, the same on both: `input` and `output` as JSON text, the `content` of
`completion_message` and of each of `prompt_messages` (not their roles).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean

TABLE = "log_search"
INDEX = "ix_logs_search"
# The FTS5 table, the tables it keeps its index in, and PostgreSQL's index.
UNDECLARED = frozenset(
    {TABLE, *(f"{TABLE}_{s}" for s in ("data", "idx", "docsize", "config")), INDEX}
)
SHORTEST = 3  # a trigram index finds nothing shorter

_SQLITE_TEXT = (
    "coalesce({t}.input, '') || char(10) || coalesce({t}.output, '') || char(10)"
    " || coalesce(json_extract({t}.completion_message, '$.content'), '') || char(10)"
    " || coalesce((SELECT group_concat(json_extract(m.value, '$.content'), char(10))"
    " FROM json_each({t}.prompt_messages) AS m), '')"
)
# Immutable functions only, spelled exactly as the index is, so the planner matches it.
_PG_TEXT = (
    "lower(coalesce(logs.input::text, '') || ' ' || coalesce(logs.output::text, '')"
    " || ' ' || coalesce(jsonb_path_query_array(logs.completion_message, '$.content')::text, '')"
    " || ' ' || coalesce(jsonb_path_query_array(logs.prompt_messages, '$[*].content')::text, ''))"
)
_COLUMNS = "input, output, completion_message, prompt_messages"


def _sqlite_ddl() -> list[str]:
    new, old = _SQLITE_TEXT.format(t="new"), _SQLITE_TEXT.format(t="old")
    forget = f"INSERT INTO {TABLE}({TABLE}, rowid, body) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {TABLE}(rowid, body) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, content='', tokenize='trigram')",
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON logs BEGIN {learn} END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON logs BEGIN {forget} END",
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF {_COLUMNS} ON logs"
        f" BEGIN {forget} {learn} END",
        f"INSERT INTO {TABLE}(rowid, body) SELECT id, {_SQLITE_TEXT.format(t='logs')} FROM logs",
    ]


def install(conn: Connection) -> None:
    """Create the index, over the logs already stored (the migration)."""
    if conn.dialect.name == "sqlite":
        statements = _sqlite_ddl()
    else:
        statements = [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX {INDEX} ON logs USING gin (({_PG_TEXT}) gin_trgm_ops)",
        ]
    for statement in statements:
        conn.exec_driver_sql(statement)


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
    else:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {INDEX}")


class matches(ColumnElement[bool]):
    """The logs whose searched text contains `text`, in any case."""

    type = Boolean()
    inherit_cache = False  # the statement's shape depends on the text's length

    def __init__(self, text: str) -> None:
        self.text = text


def _escaped(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@compiles(matches, "sqlite")
def _sqlite(element: matches, compiler: Any, **kw: Any) -> str:
    if len(element.text) >= SHORTEST:
        phrase = '"' + element.text.replace('"', '""') + '"'
        found = compiler.process(bindparam("search", phrase, unique=True), **kw)
        return f"logs.id IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH {found})"
    like = f"%{_escaped(element.text)}%"
    pattern = compiler.process(bindparam("search", like, unique=True), **kw)
    return f"({_SQLITE_TEXT.format(t='logs')}) LIKE {pattern} ESCAPE '/'"


@compiles(matches, "postgresql")
def _postgresql(element: matches, compiler: Any, **kw: Any) -> str:
    pattern = f"%{_escaped(element.text.lower())}%"
    found = compiler.process(bindparam("search", pattern, unique=True), **kw)
    return f"{_PG_TEXT} LIKE {found} ESCAPE '/'"
