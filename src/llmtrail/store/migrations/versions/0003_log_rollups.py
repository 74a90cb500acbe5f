"""Hourly rollups of the logs, for list totals and summaries without reading every log

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = {
    "n": sa.BigInteger(),
    "cost": sa.Float(),
    "tokens": sa.BigInteger(),
    "prompt_tokens": sa.BigInteger(),
    "completion_tokens": sa.BigInteger(),
    "latency_sum": sa.Float(),
    "latency_n": sa.BigInteger(),
    "tps_sum": sa.Float(),
    "tps_n": sa.BigInteger(),
    "ttft_sum": sa.Float(),
    "ttft_n": sa.BigInteger(),
}


def upgrade() -> None:
    op.create_table(
        "log_rollups",
        sa.Column("org_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in MEASURES.items()),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_log_rollups_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "hour", "environment", "model", "slot", name=op.f("pk_log_rollups")
        ),
    )
    # The logs already stored are rolled up by 0012, with the columns the code now writes.


def downgrade() -> None:
    op.drop_table("log_rollups")
