"""PostgreSQL's search index off the commit path, as SQLite's is since 0016: new and changed
logs are queued by the triggers and indexed by the worker (trigram-indexing their text was
two-thirds of a bulk COPY's time)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 02:20:00
"""

from collections.abc import Sequence

from alembic import op

from llmtrail.store import search

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # what is indexed stays; the queue starts empty
        search.retrigger(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("0022 has no downgrade: the triggers before it index in the commit")
