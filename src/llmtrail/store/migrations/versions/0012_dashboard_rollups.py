"""Rollups for the dashboard: failures per hour, sums by model, customer and log type, and
latency histograms, so a week's dashboard reads rollup rows instead of a week of logs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from llmtrail.store import rollups

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _org_and_hour(table: str) -> list[Any]:
    return [
        sa.Column("org_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f(f"fk_{table}_org_id_organizations"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("log_rollups") as batch:
        batch.add_column(sa.Column("errors", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "log_facet_rollups",
        *_org_and_hour("log_facet_rollups"),
        sa.Column("facet", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("latency_n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "hour", "facet", "value", "slot", name=op.f("pk_log_facet_rollups")
        ),
    )
    op.create_table(
        "log_latency_rollups",
        *_org_and_hour("log_latency_rollups"),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "hour", "bucket", "slot", name=op.f("pk_log_latency_rollups")
        ),
    )
    rollups.rebuild(op.get_bind())  # the logs already stored, into every rollup


def downgrade() -> None:
    op.drop_table("log_latency_rollups")
    op.drop_table("log_facet_rollups")
    with op.batch_alter_table("log_rollups") as batch:
        batch.drop_column("errors")
