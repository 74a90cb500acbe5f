"""PostgreSQL's search text kept in a table of its own, kept by triggers, so a trigram
match is checked against plain text instead of text made again from the JSON columns

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:40:00
"""

from collections.abc import Sequence

from alembic import op

from llmtrail.store import search

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    # A database made since keeps its text apart already (0009 installs what is current).
    if conn.dialect.name == "postgresql" and not search.indexed_apart(conn):
        search.uninstall(conn)
        search.install(conn)


def downgrade() -> None:
    raise NotImplementedError("0020 has no downgrade: the expression index before it is gone")
