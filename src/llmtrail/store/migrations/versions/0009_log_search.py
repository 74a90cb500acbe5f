"""Text search over logs: an FTS5 trigram table on SQLite, a GIN pg_trgm index on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

from alembic import op

from llmtrail.store import search

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search.install(op.get_bind())  # the logs already stored are indexed too


def downgrade() -> None:
    search.uninstall(op.get_bind())
