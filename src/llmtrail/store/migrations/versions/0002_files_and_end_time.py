"""Humanloop Files and their versions; logs.end_time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("logs") as batch:
        batch.add_column(sa.Column("end_time", sa.DateTime(), nullable=True))
    op.create_table(
        "files",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_files_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("org_id", "path", name=op.f("uq_files_org_id_path")),
    )
    op.create_table(
        "file_versions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("file_id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kernel", Json, nullable=False),
        sa.Column("kernel_hash", sa.String(length=64), nullable=False),
        sa.Column("version_name", sa.String(length=255), nullable=True),
        sa.Column("version_description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("log_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_file_versions_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_file_versions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_versions")),
        sa.UniqueConstraint(
            "file_id", "kernel_hash", name=op.f("uq_file_versions_file_id_kernel_hash")
        ),
    )
    op.create_index(
        op.f("ix_file_versions_file_id_created_at"),
        "file_versions",
        ["file_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("file_versions")
    op.drop_table("files")
    with op.batch_alter_table("logs") as batch:
        batch.drop_column("end_time")
