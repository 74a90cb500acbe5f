"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from llmtrail.core.ids import utcnow
from llmtrail.core.keys import authenticate, create_key
from llmtrail.store import dashboard, rollups, search
from llmtrail.store.database import make_engine
from llmtrail.store.migrate import upgrade
from llmtrail.store.tables import logs, metadata_obj
from tests.conftest import new_database
from tests.store.conftest import row


def declared(name: str | None, type_: str, _parents: dict) -> bool:
    """What the tables declare: not the search index (`store.search`)."""
    return name not in search.UNDECLARED


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": declared})
        differences = compare_metadata(context, metadata_obj)
    assert differences == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_search_text_moves_out_of_logs(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """0020 on a database whose search index is 0009's expression over `logs`: the stored
    logs' text is copied into `log_search`, found there, and kept for new logs."""
    with new_database("postgresql", tmp_path_factory) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0019")
            with engine.begin() as conn:  # as 0009 left it before 0020 existed
                search.uninstall(conn)
                old = search._PG_TEXT.format(t="logs")
                conn.exec_driver_sql(
                    f"CREATE INDEX {search.INDEX} ON logs USING gin (({old}) gin_trgm_ops)"
                )
            _, key = create_key(engine, org=f"s-{uuid.uuid4().hex[:8]}")
            org = authenticate(engine, key).org_id
            with engine.begin() as conn:
                conn.execute(insert(logs).values({**row(org), "output": '"an old parcel"'}))
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(insert(logs).values({**row(org), "output": '"a new parcel"'}))
            query = select(logs.c.output).where(logs.c.org_id == org, search.matches("PARCEL"))
            with engine.connect() as conn:
                assert sorted(conn.scalars(query)) == ['"a new parcel"', '"an old parcel"']
                assert search.indexed_apart(conn)
        finally:
            engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_facet_rollups_rekeyed_facet_first_keep_their_sums(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """0021 on a store with facet rollups: the dashboard's breakdowns read the same sums
    after it, and the writer's upserts still add to the rows it kept."""
    with new_database(kind, tmp_path_factory) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0020")
            _, key = create_key(engine, org=f"f-{uuid.uuid4().hex[:8]}")
            org = authenticate(engine, key).org_id
            stored = [{**row(org), "model": m, "cost": 0.5} for m in ("a", "a", "b")]
            with engine.begin() as conn:
                conn.execute(insert(logs), stored)
                rollups.rebuild(conn)
            start, end = rollups.hour_of(utcnow()), rollups.hour_of(utcnow()) + rollups.HOUR

            def by_model() -> list[tuple]:
                with engine.connect() as conn:
                    found = dashboard.breakdown(conn, org, start, end, "model", 10)
                    return [(r.value, r.n, r.cost) for r in found]

            before = by_model()
            upgrade(engine)
            assert by_model() == before == [("a", 2, 1.0), ("b", 1, 0.5)]
            with engine.begin() as conn:
                again = conn.execute(select(logs).where(logs.c.org_id == org, logs.c.model == "b"))
                rollups.add(conn, org, rollups.deltas(again.all()))
            assert by_model() == [("a", 2, 1.0), ("b", 2, 1.0)]
        finally:
            engine.dispose()
