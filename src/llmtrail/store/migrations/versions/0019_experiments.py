"""Keywords AI experiments: their columns (prompt configurations), rows (inputs) and the
result of each column over each row

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Id = sa.String(length=128)


def _owned(table: str, parent: str, key: str) -> list[sa.ForeignKeyConstraint]:
    """The foreign keys every experiment table has: its organization and (`parent`) owner."""
    return [
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f(f"fk_{table}_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            [key], [f"{parent}.id"], name=op.f(f"fk_{table}_{key}_{parent}"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", Id, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evaluator_ids", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_experiments_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_index(
        op.f("ix_experiments_org_id_created_at"),
        "experiments",
        ["org_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "experiment_columns",
        sa.Column("experiment_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned("experiment_columns", "experiments", "experiment_id"),
        sa.PrimaryKeyConstraint("experiment_id", "id", name=op.f("pk_experiment_columns")),
    )
    op.create_table(
        "experiment_rows",
        sa.Column("experiment_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("input", Json, nullable=False),
        sa.Column("ideal_output", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned("experiment_rows", "experiments", "experiment_id"),
        sa.PrimaryKeyConstraint("experiment_id", "id", name=op.f("pk_experiment_rows")),
    )
    op.create_table(
        "experiment_results",
        sa.Column("experiment_id", Id, nullable=False),
        sa.Column("row_id", Id, nullable=False),
        sa.Column("column_id", Id, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("log_unique_id", Id, nullable=True),
        sa.Column("output", Json, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("metrics", Json, nullable=True),
        sa.Column("ran_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned("experiment_results", "experiments", "experiment_id"),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["logs.id"],
            name=op.f("fk_experiment_results_log_id_logs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "row_id", "column_id", name=op.f("pk_experiment_results")
        ),
    )
    op.create_index(
        op.f("ix_experiment_results_log_id"), "experiment_results", ["log_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_experiment_results_log_id"), table_name="experiment_results")
    op.drop_table("experiment_results")
    op.drop_table("experiment_rows")
    op.drop_table("experiment_columns")
    op.drop_index(op.f("ix_experiments_org_id_created_at"), table_name="experiments")
    op.drop_table("experiments")
