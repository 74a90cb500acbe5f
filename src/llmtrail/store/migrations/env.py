"""Alembic environment: migrations run on the engine handed over by `llmtrail.store.migrate`."""

from alembic import context

from llmtrail.store.tables import metadata_obj

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata_obj,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
