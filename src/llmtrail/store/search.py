"""Text search over logs: a substring of their inputs, output and message contents, in any
case, found through an index of each database's own.

Humanloop's `GET /logs?search=` asks for a substring, so both indexes are of trigrams:
SQLite an FTS5 table with the trigram tokenizer, PostgreSQL a GIN `pg_trgm` index over a
table of each log's searched text, lowered (`log_search`). Each database keeps its index on
every path that writes logs (ingest, updates, deletes, an organization's cascade), the same
way on both: triggers on `logs` queue new and changed logs in `log_search_pending`, and the
worker's indexer (`worker/search_indexer.py`) drains the queue into the index when ingest
pauses. Trigram-indexing a log's text costs many times the row's own insert (SQLite some
50 times; on PostgreSQL two-thirds of a COPY's time went to it), and inside the commit it
would be paid by every request the commit acknowledges. A search reads the index for the
indexed logs and the text of the queued ones, so it finds every committed log whether it
is indexed yet or not. Neither is declared in `tables.py` (an FTS5 table, trigger-kept
tables and their indexes are outside what SQLAlchemy's metadata describes); `UNDECLARED`
names them, for the migrations' check.

What is searched, the same on both: `input` and `output` as JSON text, the `content` of
`completion_message` and of each of `prompt_messages` (not their roles). A chat log's
`input` is its `prompt_messages` and its `output` its `completion_message` (the Keywords AI
dialect stores both forms): the messages are then read once, through `input` and `output`,
since the trigram index costs in proportion to the text it is given (indexing them twice
made SQLite's insert of such a log four times slower than without the index). PostgreSQL
keeps the text apart from the log because a trigram index only finds candidates: each is
checked against its text, and making that text from the JSON columns cost some 100 µs a
log (a rare phrase over 200,000 logs took 50 ms, most of it rechecking).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean

TABLE = "log_search"
PENDING = f"{TABLE}_pending"  # the logs not in the trigram index yet, or changed since
INDEX = "ix_logs_search"
# The FTS5 table, the tables it keeps its index in, its queue, and PostgreSQL's index.
UNDECLARED = frozenset(
    {TABLE, *(f"{TABLE}_{s}" for s in ("data", "idx", "docsize", "config")), PENDING, INDEX}
)
SHORTEST = 3  # a trigram index finds nothing shorter

_SQLITE_TEXT = (
    "coalesce({t}.input, '') || char(10) || coalesce({t}.output, '') || char(10)"
    " || CASE WHEN {t}.output IS {t}.completion_message THEN ''"
    " ELSE coalesce(json_extract({t}.completion_message, '$.content'), '') END || char(10)"
    " || CASE WHEN {t}.input IS {t}.prompt_messages THEN ''"
    " ELSE coalesce((SELECT group_concat(json_extract(m.value, '$.content'), char(10))"
    " FROM json_each({t}.prompt_messages) AS m), '') END"
)
_PG_TEXT = (
    "lower(coalesce({t}.input::text, '') || ' ' || coalesce({t}.output::text, '')"
    " || ' ' || CASE WHEN {t}.output IS NOT DISTINCT FROM {t}.completion_message THEN ''"
    " ELSE coalesce(jsonb_path_query_array({t}.completion_message, '$.content')::text, '') END"
    " || ' ' || CASE WHEN {t}.input IS NOT DISTINCT FROM {t}.prompt_messages THEN ''"
    " ELSE coalesce(jsonb_path_query_array({t}.prompt_messages, '$[*].content')::text, '') END)"
)
_COLUMNS = "input, output, completion_message, prompt_messages"


_TRIGGERS = ("insert", "delete", "update")


def _sqlite_triggers() -> list[str]:
    """A new log is only queued (its id into PENDING), not indexed: trigram-indexing 2 KB of
    text costs some 50 times the row's own insert, and it would be paid inside the commit
    that every waiting request is acknowledged by. `drain` indexes the queue later.
    A delete or an update takes an indexed log's old text out of the index (a contentless
    FTS5 table must be given exactly the text it was given), and queues the new one."""
    old = _SQLITE_TEXT.format(t="old")
    indexed = f"NOT EXISTS (SELECT 1 FROM {PENDING} WHERE log_id = old.id)"
    forget = (
        f"INSERT INTO {TABLE}({TABLE}, rowid, body) SELECT 'delete', old.id, {old} WHERE {indexed};"
    )
    return [
        f"CREATE TABLE IF NOT EXISTS {PENDING} (log_id INTEGER PRIMARY KEY)",
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON logs"
        f" BEGIN INSERT INTO {PENDING}(log_id) VALUES (new.id); END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON logs"
        f" BEGIN {forget} DELETE FROM {PENDING} WHERE log_id = old.id; END",
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF {_COLUMNS} ON logs"
        f" BEGIN {forget} INSERT OR IGNORE INTO {PENDING}(log_id) VALUES (new.id); END",
    ]


# PostgreSQL's trigger functions, by name: what each runs (a trigger runs no SQL of its own).
_PG_FUNCTIONS = {
    "added": f"INSERT INTO {PENDING}(log_id) SELECT id FROM added",
    "changed": f"INSERT INTO {PENDING}(log_id) VALUES (NEW.id) ON CONFLICT DO NOTHING",
    "gone": f"DELETE FROM {TABLE} WHERE log_id IN (SELECT id FROM gone);"
    f" DELETE FROM {PENDING} WHERE log_id IN (SELECT id FROM gone)",
}


def _pg_triggers() -> list[str]:
    """PostgreSQL: a statement's new logs queued in one INSERT from its transition table (a
    COPY of a thousand logs is one statement), a changed log queued again (its indexed text
    is stale until `drain` replaces it, and a search reads a queued log by its own text),
    the deleted logs gone from both."""
    return [
        f"CREATE TABLE IF NOT EXISTS {PENDING} (log_id bigint PRIMARY KEY)",
        *(
            f"CREATE OR REPLACE FUNCTION {TABLE}_{name}() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN {body}; RETURN NULL; END $$"
            for name, body in _PG_FUNCTIONS.items()
        ),
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON logs REFERENCING NEW TABLE AS added"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_added()",
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF {_COLUMNS} ON logs"
        f" FOR EACH ROW EXECUTE FUNCTION {TABLE}_changed()",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON logs REFERENCING OLD TABLE AS gone"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_gone()",
    ]


def install(conn: Connection) -> None:
    """Create the index, over the logs already stored (the migrations, `bench`)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, content='', tokenize='trigram')"
        )
        retrigger(conn)
        conn.exec_driver_sql(f"INSERT INTO {PENDING}(log_id) SELECT id FROM logs")
        drain(conn, limit=None)
        return
    for statement in (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE TABLE {TABLE} (log_id bigint PRIMARY KEY, body text NOT NULL)",
        f"INSERT INTO {TABLE}(log_id, body) SELECT id, {_PG_TEXT.format(t='logs')} FROM logs",
        f"CREATE INDEX {INDEX} ON {TABLE} USING gin (body gin_trgm_ops)",
    ):
        conn.exec_driver_sql(statement)
    retrigger(conn)


def _drop_triggers(conn: Connection) -> None:
    on = "" if conn.dialect.name == "sqlite" else " ON logs"  # PostgreSQL's are per table
    for trigger in _TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}{on}")


def retrigger(conn: Connection) -> None:
    """(Re)create the queue and the triggers that keep it."""
    _drop_triggers(conn)
    for statement in _sqlite_triggers() if conn.dialect.name == "sqlite" else _pg_triggers():
        conn.exec_driver_sql(statement)


def uninstall(conn: Connection) -> None:
    _drop_triggers(conn)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {PENDING}")
    if conn.dialect.name == "postgresql":
        for function in _PG_FUNCTIONS:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TABLE}_{function}()")
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {INDEX}")  # before 0020: on logs


def indexed_apart(conn: Connection) -> bool:
    """PostgreSQL: whether the searched text is kept in its own table (0020), not indexed
    as an expression over logs (0009)."""
    return conn.exec_driver_sql(f"SELECT to_regclass('{TABLE}')").scalar() is not None


def backlog(conn: Connection) -> tuple[int, int | None]:
    """How many logs wait to be indexed, and the newest of them."""
    count, newest = conn.exec_driver_sql(f"SELECT count(*), max(log_id) FROM {PENDING}").one()
    return int(count), newest


def drain(conn: Connection, limit: int | None) -> int:
    """Index the oldest `limit` queued logs (all when None), in the caller's write
    transaction; returns how many. A log deleted meanwhile left the queue with it.

    SQLite: the transaction holds the write lock, so both statements see the same queue.
    PostgreSQL: the chosen entries are taken out of the queue and locked in one statement
    (SKIP LOCKED: workers draining side by side take different logs), and a changed log's
    stale text is replaced."""
    chosen = f"SELECT log_id FROM {PENDING} ORDER BY log_id" + (
        "" if limit is None else f" LIMIT {int(limit)}"
    )
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(
            f"WITH chosen AS (DELETE FROM {PENDING} WHERE log_id IN ({chosen} FOR UPDATE SKIP"
            f" LOCKED) RETURNING log_id) INSERT INTO {TABLE}(log_id, body)"
            f" SELECT id, {_PG_TEXT.format(t='logs')} FROM logs"
            f" WHERE id IN (SELECT log_id FROM chosen)"
            " ON CONFLICT (log_id) DO UPDATE SET body = excluded.body"
        ).rowcount
    conn.exec_driver_sql(
        f"INSERT INTO {TABLE}(rowid, body) SELECT id, {_SQLITE_TEXT.format(t='logs')}"
        f" FROM logs WHERE id IN ({chosen})"
    )
    return conn.exec_driver_sql(f"DELETE FROM {PENDING} WHERE log_id IN ({chosen})").rowcount


class matches(ColumnElement[bool]):
    """The logs whose searched text contains `text`, in any case.

    SQLite plans without statistics, so the caller says which way round: `lead`, the
    matches are looked up one by one (few of them, or a count); otherwise the logs are read
    in the statement's order and each is tested against the matches, found once (many
    matches, and a page that ends after its first rows). PostgreSQL's planner knows."""

    type = Boolean()
    inherit_cache = False  # the statement's shape depends on the text's length
    _is_implicitly_boolean = True  # a condition itself: never compared with 1 (SQLite)

    def __init__(self, text: str, lead: bool = True) -> None:
        self.text = text
        self.lead = lead


def like_escaped(text: str, escape: str = "/") -> str:
    """`text` as a LIKE pattern matches it literally, with `escape` as the escape character."""
    for special in (escape, "%", "_"):
        text = text.replace(special, escape + special)
    return text


@compiles(matches, "sqlite")
def _sqlite(element: matches, compiler: Any, **kw: Any) -> str:
    def contains(table: str) -> str:
        # LIKE is case-sensitive here (`store/database.py`); lower() folds ASCII, as far
        # as SQLite without ICU goes (the trigram index folds all of Unicode).
        like = f"%{like_escaped(element.text.lower())}%"
        pattern = compiler.process(bindparam("search", like, unique=True), **kw)
        return f"lower({_SQLITE_TEXT.format(t=table)}) LIKE {pattern} ESCAPE '/'"

    if len(element.text) < SHORTEST:
        return contains("logs")
    # The indexed logs through the index, the queued ones by their text, in one IN that
    # SQLite answers by rowid (an OR of the two would read every log). The queue is read
    # first (CROSS JOIN fixes SQLite's join order): the planner, knowing neither table's
    # size, would otherwise scan every log and match its text. Parameters are bound in the
    # order the SQL names them: SQLite's are positional.
    phrase = '"' + element.text.replace('"', '""') + '"'
    found = compiler.process(bindparam("search", phrase, unique=True), **kw)
    queued = (
        f"SELECT q.log_id FROM {PENDING} AS q CROSS JOIN logs AS queued ON queued.id = q.log_id"
        f" WHERE {contains('queued')}"
    )
    tested = "logs.id" if element.lead else "+logs.id"  # unary +: no lookup by this IN
    return f"{tested} IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH {found} UNION ALL {queued})"


def _pg_queued(log_id: str) -> str:
    """PostgreSQL: whether the log `log_id` names waits in the queue."""
    return f"EXISTS (SELECT 1 FROM {PENDING} AS q WHERE q.log_id = {log_id})"


@compiles(matches, "postgresql")
def _postgresql(element: matches, compiler: Any, **kw: Any) -> str:
    pattern = f"%{like_escaped(element.text.lower())}%"
    found = compiler.process(bindparam("search", pattern, unique=True), **kw)
    if len(element.text) < SHORTEST:  # no trigram to look up: each log's text, one by one
        indexed = f"(SELECT s.body FROM {TABLE} AS s WHERE s.log_id = logs.id)"
        text = f"CASE WHEN {_pg_queued('logs.id')} THEN {_PG_TEXT.format(t='logs')}"
        return f"{text} ELSE {indexed} END LIKE {found} ESCAPE '/'"
    # A queued log is read by its own text (its indexed text, if any, is stale), the queue
    # first and each of its logs by id: a join left to the planner could walk every log.
    own = f"(SELECT {_PG_TEXT.format(t='queued')} FROM logs AS queued WHERE queued.id = q.log_id)"
    return (
        f"logs.id IN (SELECT s.log_id FROM {TABLE} AS s WHERE s.body LIKE {found} ESCAPE '/'"
        f" AND NOT {_pg_queued('s.log_id')}"
        f" UNION ALL SELECT q.log_id FROM {PENDING} AS q WHERE {own} LIKE {found} ESCAPE '/')"
    )
