"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from llmtrail.store import search
from llmtrail.store.tables import metadata_obj


def declared(name: str | None, type_: str, _parents: dict) -> bool:
    """What the tables declare: not the search index (`store.search`)."""
    return name not in search.UNDECLARED


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": declared})
        differences = compare_metadata(context, metadata_obj)
    assert differences == []
