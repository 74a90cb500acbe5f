"""An index of logs by top-level metadata value, for metadata equality filters

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from llmtrail.store import metadata_index

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_metadata",
        sa.Column("org_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column(
            "log_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_log_metadata_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "key", "value", "timestamp", "log_id", name=op.f("pk_log_metadata")
        ),
        sqlite_with_rowid=False,
    )
    metadata_index.rebuild(op.get_bind())  # the logs already stored


def downgrade() -> None:
    op.drop_table("log_metadata")
