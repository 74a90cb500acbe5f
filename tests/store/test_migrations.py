"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from llmtrail.core.keys import authenticate, create_key
from llmtrail.store import search
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
