"""SQLite's search index off the commit path: new and changed logs are queued by triggers
and indexed by the worker, instead of trigram-indexed inside every commit

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

from alembic import op

from llmtrail.store import search

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # what is indexed stays; the queue starts empty
        search.retrigger(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("0016 has no downgrade: the triggers before it index in the commit")
