"""Datasets: frozen copies of logs, their versions, and evaluation runs over them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("running_status", sa.String(length=16), nullable=True),
        sa.Column("running_progress", sa.Float(), nullable=True),
        sa.Column("running_at", sa.DateTime(), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("initial_log_filters", Json, nullable=True),
        sa.Column("start_time", sa.DateTime(), nullable=True),
        sa.Column("end_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_datasets_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("org_id", "path", name=op.f("uq_datasets_org_id_path")),
    )
    op.create_index(
        op.f("ix_datasets_org_id_created_at"), "datasets", ["org_id", "created_at"], unique=False
    )
    op.create_table(
        "dataset_eval_reports",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=128), nullable=False),
        sa.Column("evaluator_ids", Json, nullable=False),
        sa.Column("evaluator_slugs", Json, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("log_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_eval_reports_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_dataset_eval_reports_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_eval_reports")),
    )
    op.create_index(
        op.f("ix_dataset_eval_reports_dataset_id_created_at"),
        "dataset_eval_reports",
        ["dataset_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "dataset_logs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=128), nullable=False),
        sa.Column("source_log_id", BigId, nullable=True),
        sa.Column("added_in", sa.Integer(), nullable=False),
        sa.Column("removed_in", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("target", Json, nullable=True),
        sa.Column("unique_id", sa.String(length=128), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("log_type", sa.String(length=32), nullable=False),
        sa.Column("log_method", sa.String(length=32), nullable=True),
        sa.Column("log_status", sa.String(length=16), nullable=True),
        sa.Column("file_id", sa.String(length=128), nullable=True),
        sa.Column("version_id", sa.String(length=128), nullable=True),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("start_time", sa.DateTime(), nullable=True),
        sa.Column("end_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("total_request_tokens", sa.Integer(), nullable=True),
        sa.Column("prompt_cache_hit_tokens", sa.Integer(), nullable=True),
        sa.Column("prompt_cache_creation_tokens", sa.Integer(), nullable=True),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("prompt_cost", sa.Float(), nullable=True),
        sa.Column("completion_cost", sa.Float(), nullable=True),
        sa.Column("latency", sa.Float(), nullable=True),
        sa.Column("time_to_first_token", sa.Float(), nullable=True),
        sa.Column("tokens_per_second", sa.Float(), nullable=True),
        sa.Column("routing_time", sa.Float(), nullable=True),
        sa.Column("customer_identifier", sa.String(length=255), nullable=True),
        sa.Column("customer_email", sa.String(length=255), nullable=True),
        sa.Column("customer_name", sa.String(length=255), nullable=True),
        sa.Column("thread_identifier", sa.String(length=255), nullable=True),
        sa.Column("session_identifier", sa.String(length=255), nullable=True),
        sa.Column("custom_identifier", sa.String(length=255), nullable=True),
        sa.Column("group_identifier", sa.String(length=255), nullable=True),
        sa.Column("evaluation_identifier", sa.String(length=255), nullable=True),
        sa.Column("prompt_id", sa.String(length=255), nullable=True),
        sa.Column("prompt_name", sa.String(length=255), nullable=True),
        sa.Column("trace_unique_id", sa.String(length=128), nullable=True),
        sa.Column("span_unique_id", sa.String(length=128), nullable=True),
        sa.Column("span_parent_id", sa.String(length=128), nullable=True),
        sa.Column("span_name", sa.String(length=255), nullable=True),
        sa.Column("span_workflow_name", sa.String(length=255), nullable=True),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("positive_feedback", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("blurred", sa.Boolean(), nullable=False),
        sa.Column("input", Json, nullable=True),
        sa.Column("output", Json, nullable=True),
        sa.Column("prompt_messages", Json, nullable=True),
        sa.Column("completion_message", Json, nullable=True),
        sa.Column("metadata", Json, nullable=True),
        sa.Column("extra", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_logs_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_dataset_logs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_logs")),
    )
    op.create_index(
        op.f("ix_dataset_logs_dataset_id_added_in"),
        "dataset_logs",
        ["dataset_id", "added_in"],
        unique=False,
    )
    op.create_index(
        "uq_dataset_logs_current",
        "dataset_logs",
        ["dataset_id", "unique_id"],
        unique=True,
        sqlite_where=sa.text("removed_in IS NULL"),
        postgresql_where=sa.text("removed_in IS NULL"),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version_name", sa.String(length=255), nullable=True),
        sa.Column("version_description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_dataset_versions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint(
            "dataset_id", "number", name=op.f("uq_dataset_versions_dataset_id_number")
        ),
    )
    op.create_table(
        "dataset_eval_results",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=128), nullable=False),
        sa.Column("dataset_log_id", BigId, nullable=False),
        sa.Column("log_unique_id", sa.String(length=128), nullable=False),
        sa.Column("evaluator_id", sa.String(length=128), nullable=False),
        sa.Column("evaluator_slug", sa.String(length=255), nullable=False),
        sa.Column("evaluator_name", sa.String(length=255), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("numerical_value", sa.Float(), nullable=True),
        sa.Column("string_value", sa.Text(), nullable=True),
        sa.Column("boolean_value", sa.Boolean(), nullable=True),
        sa.Column("categorical_value", Json, nullable=True),
        sa.Column("json_value", Json, nullable=True),
        sa.Column("is_passed", sa.Boolean(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("latency", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_dataset_eval_results_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["dataset_eval_reports.id"],
            name=op.f("fk_dataset_eval_results_report_id_dataset_eval_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_eval_results")),
        sa.UniqueConstraint(
            "report_id",
            "evaluator_id",
            "dataset_log_id",
            name=op.f("uq_dataset_eval_results_report_id_evaluator_id_dataset_log_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("dataset_eval_results")
    op.drop_table("dataset_versions")
    op.drop_table("dataset_logs")
    op.drop_table("dataset_eval_reports")
    op.drop_table("datasets")
