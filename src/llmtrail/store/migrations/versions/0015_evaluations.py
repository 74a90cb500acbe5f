"""Humanloop Evaluations: their Evaluators, Runs, the Evaluations showing each Run and its Logs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=128), nullable=True),
        sa.Column("version_id", sa.String(length=128), nullable=True),
        sa.Column("dataset_id", sa.String(length=128), nullable=True),
        sa.Column("dataset_version_id", sa.String(length=128), nullable=True),
        sa.Column("datapoint_count", sa.Integer(), nullable=False),
        sa.Column("orchestrated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluation_runs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(
        op.f("ix_evaluation_runs_org_id_status"),
        "evaluation_runs",
        ["org_id", "status"],
        unique=False,
    )
    op.create_table(
        "evaluation_run_logs",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("log_unique_id", sa.String(length=128), nullable=False),
        sa.Column("datapoint_id", sa.String(length=128), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["logs.id"],
            name=op.f("fk_evaluation_run_logs_log_id_logs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluation_run_logs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_evaluation_run_logs_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "log_id", name=op.f("pk_evaluation_run_logs")),
    )
    with op.batch_alter_table("evaluation_run_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_run_logs_log_id"), ["log_id"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_evaluations_file_id_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("file_id", "name", name=op.f("uq_evaluations_file_id_name")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluations_org_id_file_id_created_at"),
            ["org_id", "file_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "evaluation_evaluators",
        sa.Column("evaluation_id", sa.String(length=128), nullable=False),
        sa.Column("evaluator_id", sa.String(length=128), nullable=False),
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("orchestrated", sa.Boolean(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_evaluators_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "evaluation_id", "evaluator_id", name=op.f("pk_evaluation_evaluators")
        ),
    )
    op.create_table(
        "evaluation_run_members",
        sa.Column("evaluation_id", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_run_members_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_evaluation_run_members_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "run_id", name=op.f("pk_evaluation_run_members")),
    )
    with op.batch_alter_table("evaluation_run_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_run_members_run_id"), ["run_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_run_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_run_members_run_id"))

    op.drop_table("evaluation_run_members")
    op.drop_table("evaluation_evaluators")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_org_id_file_id_created_at"))

    op.drop_table("evaluations")
    with op.batch_alter_table("evaluation_run_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_run_logs_log_id"))

    op.drop_table("evaluation_run_logs")
    op.drop_index(op.f("ix_evaluation_runs_org_id_status"), table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
