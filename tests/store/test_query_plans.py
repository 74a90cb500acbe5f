"""The hot pages reach `logs` through an index, never a full-table scan (checked with EXPLAIN).

The statements are the ones the real read functions send, captured from the engine, then
explained on the same connection. On PostgreSQL sequential scans are priced out
(`enable_seqscan=off`), so a Seq Scan in the plan means no index could serve the query.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from llmtrail.core import annotations, dashboard, queries, scores, traces
from llmtrail.core.filters import parse_filters
from llmtrail.core.ids import utcnow
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData, finalize, to_row
from llmtrail.store import dashboard as store_dashboard
from llmtrail.store import driver, rollups, search
from llmtrail.store.driver import insert_rows
from llmtrail.store.tables import logs
from tests.helpers import in_writer


@pytest.fixture
def principal(engine: Engine) -> Principal:
    _, key = create_key(engine, org=f"plans-{uuid.uuid4().hex[:8]}")
    found = authenticate(engine, key)
    assert found is not None
    return found


@contextmanager
def captured(engine: Engine, table: str = "logs") -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if f" {table}" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return [row[-1] for row in rows]
        conn.exec_driver_sql("SET enable_seqscan = off")
        return [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]


# The tables that grow with traffic: no hot page may read one of them whole (`queued` is
# the search's name for logs waiting for SQLite's index, `store/search.py`).
LARGE = ("logs", "scores", "queued")


def full_scans(engine: Engine, lines: list[str]) -> list[str]:
    if engine.dialect.name == "sqlite":
        return [line for line in lines if any(f"SCAN {t}" in line for t in LARGE)]
    return [line for line in lines if any(f"Seq Scan on {t}" in line for t in LARGE)]


def week(**filters: Any) -> queries.LogQuery:
    now = utcnow()
    group = parse_filters(filters) if filters else parse_filters({})
    return queries.LogQuery(filters=group, start_time=now - timedelta(days=7), end_time=now)


HOT_PAGES: dict[str, Callable[[Engine, Principal], Any]] = {
    "list newest 100": lambda e, p: queries.list_logs(e, p, week()),
    "list a page after a cursor": lambda e, p: queries.list_logs(
        e, p, replace(week(), page=2, after=queries.Cursor(1, "-timestamp", utcnow(), 10**9))
    ),
    "list by model": lambda e, p: queries.list_logs(
        e, p, week(model={"operator": "", "value": "gpt-4o"})
    ),
    "list by metadata key": lambda e, p: queries.list_logs(
        e, p, week(metadata__tenant={"operator": "", "value": "acme"})
    ),
    "list by score": lambda e, p: queries.list_logs(
        e, p, week(scores__rating={"operator": "gte", "value": 4})
    ),
    "list by customer": lambda e, p: queries.list_logs(
        e, p, week(customer_identifier={"operator": "", "value": "c-1"})
    ),
    "summary": lambda e, p: queries.summarize(e, p, week()),
    "get one": lambda e, p: _missing_ok(lambda: queries.get_log(e, p, "nope")),
    "trace": lambda e, p: _missing_ok(lambda: traces.subtree(e, p, "nope")),
    "file logs": lambda e, p: queries.file_logs(e, p, queries.FileLogQuery(file_id="fl_x")),
    "batch update lookup": lambda e, p: _missing_ok(
        lambda: in_writer(
            e,
            lambda w: annotations.annotate(
                w, p, [annotations.Annotation("nope", {"note": "x"})], "t"
            ),
        )
    ),
}


def _missing_ok(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as exc:  # the plan is what matters here, not the empty answer
        if type(exc).__name__ not in ("NotFound", "Invalid"):
            raise


@pytest.mark.parametrize("page", list(HOT_PAGES))
def test_hot_pages_use_an_index(engine: Engine, principal: Principal, page: str) -> None:
    with captured(engine) as statements:
        HOT_PAGES[page](engine, principal)
    assert statements, "the page queried logs"
    for statement, parameters in statements:
        lines = plan(engine, statement, parameters)
        assert not full_scans(engine, lines), f"{page}: {statement}\n" + "\n".join(lines)


def test_a_pages_scores_are_looked_up_by_log(engine: Engine, principal: Principal) -> None:
    """Not by walking the organization's scores: an index on (org, ...) is no full scan,
    yet it read 50,000 scores for a page of 50 logs at a million."""
    with captured(engine, "scores") as statements:
        scores.scores_of(engine, principal, list(range(1, 51)))
    [(statement, parameters)] = statements
    lines = "\n".join(plan(engine, statement, parameters))
    assert "log_id" in lines and "org_id_evaluator_id" not in lines, lines


def seed_file(engine: Engine, principal: Principal, file_id: str, count: int) -> None:
    """`count` logs of a File, one of them about a refund policy (PostgreSQL: with fresh
    statistics)."""
    now = utcnow()
    made = (LogData(unique_id=f"{file_id}-{n}", file_id=file_id) for n in range(count))
    batch = [to_row(finalize(log, now), principal, now) for log in made]
    for n, row in enumerate(batch):
        row["output"] = f"answer {n}"
    batch[0]["output"] = "our refund policy"
    with engine.begin() as conn:
        insert_rows(conn, logs, batch)
        if engine.dialect.name == "postgresql":  # indexed, as autovacuum leaves GIN's list
            search.drain(conn, None)
            conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{search.INDEX}')")
            conn.exec_driver_sql("ANALYZE")
        else:  # SQLite plans without statistics, as llmtrail leaves it; half indexed so far
            search.drain(conn, count // 2)


@pytest.mark.parametrize("text", ["refund policy", "an"])
def test_search_reads_the_search_index(engine: Engine, principal: Principal, text: str) -> None:
    """`search=` in one File of thousands of logs finds them through the trigram index
    (`store.search`); a text shorter than a trigram reads the File's logs, by their index."""
    file_id = f"pr_{uuid.uuid4().hex[:8]}"
    seed_file(engine, principal, file_id, 3000)
    query = queries.FileLogQuery(file_id=file_id, search=text)
    with captured(engine) as statements:
        total, _ = queries.file_logs(engine, principal, query)
    assert total == (1 if len(text) >= 3 else 2999)
    sqlite = engine.dialect.name == "sqlite"
    index = "log_search VIRTUAL TABLE INDEX" if sqlite else "ix_logs_search"
    for statement, parameters in statements:
        lines = plan(engine, statement, parameters)
        assert not full_scans(engine, lines), f"{statement}\n" + "\n".join(lines)
        if len(text) >= 3:
            assert any(index in line for line in lines), f"{statement}\n" + "\n".join(lines)
        if sqlite and len(text) >= 3:  # the matches lead: no File's log is tried one by one
            led = [line for line in lines if "SEARCH logs" in line and re.search(r"\bid=\?", line)]
            assert led, f"{statement}\n" + "\n".join(lines)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_common_texts_page_is_read_from_the_files_newest_logs(
    engine: Engine, principal: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `SEARCH_LEADS_UP_TO` matches, SQLite reads the page down the File's index, each
    log tested against the matches, instead of sorting every match: the same page."""
    file_id = f"pr_{uuid.uuid4().hex[:8]}"
    seed_file(engine, principal, file_id, 3000)  # each says "answer {n}"
    query = queries.FileLogQuery(file_id=file_id, search="answer", size=10)
    led_total, led = queries.file_logs(engine, principal, query)
    monkeypatch.setattr(queries, "SEARCH_LEADS_UP_TO", 100)
    with captured(engine) as statements:
        total, walked = queries.file_logs(engine, principal, query)
    assert total == led_total == 2999
    assert [r.id for r in walked] == [r.id for r in led]
    page = plan(engine, *statements[-1])
    assert not any("TEMP B-TREE" in line for line in page), "\n".join(page)


def test_a_dashboard_breakdown_reads_only_its_own_facet(
    engine: Engine, principal: Principal
) -> None:
    """The breakdowns' rollup rows are found by facet, then hour: a breakdown by model does
    not walk the week's rows of every customer (a million logs: 15 ms against under 1)."""
    with captured(engine, "log_facet_rollups") as statements:
        dashboard.overview(engine, principal, "7d")
    assert len(statements) == len(store_dashboard.BREAKDOWNS)
    for statement, parameters in statements:
        lines = plan(engine, statement, parameters)
        found = [line for line in lines if "SEARCH" in line or "Index Cond" in line]
        assert found, f"{statement}\n" + "\n".join(lines)
        conditions = [line[line.index("(") :] for line in found]  # past the table's name
        assert all(c.index("facet") < c.index("hour") for c in conditions), "\n".join(lines)


def test_a_commits_rollups_find_its_logs_by_primary_key(
    engine: Engine, principal: Principal
) -> None:
    """Each commit adds its logs to the rollups by id: the logs are looked up by key, not
    found by walking an index of every log (PostgreSQL did so on a store never analyzed, 2-4
    ms a commit at 5,000 logs; the writer's first statistics pass now comes at 1,000 rows,
    as here)."""
    now = utcnow()
    rows = [
        to_row(finalize(LogData(model="m", output=str(n)), now), principal, now)
        for n in range(2000)
    ]
    with engine.begin() as conn:
        insert_rows(conn, logs, rows)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE logs")
    ids = [row["id"] for row in rows[-3:]]
    for statement in rollups._STORED[engine.dialect.name]:
        binder = driver._compiled(statement, engine.dialect)
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
            cursor = driver._cursor(conn)
            if postgresql:  # as the other plans here: an index, if any can serve
                cursor.execute("SET enable_seqscan = off")
            cursor.execute(explain + binder.sql, binder({"ids": ids, "slot": 0}))
            lines = [str(row[0] if postgresql else row[-1]) for row in cursor]
            raw.rollback()
        on_logs = [line for line in lines if " logs " in f"{line} " or "on logs" in line]
        assert on_logs, "\n".join(lines)
        by_key = ("INTEGER PRIMARY KEY", "logs_pkey", "pk_logs")
        assert all(any(k in line for k in by_key) for line in on_logs), "\n".join(lines)
