"""initial schema: organizations, keys, logs, revisions

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:16:22.951762
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Integer(), nullable=False),
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
        sa.Column(
            "input",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "output",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "prompt_messages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "completion_message",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_logs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
        sa.UniqueConstraint("org_id", "unique_id", name=op.f("uq_logs_org_id_unique_id")),
    )
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_custom_identifier"),
            ["org_id", "custom_identifier"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_customer_identifier_timestamp"),
            ["org_id", "customer_identifier", "timestamp"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_file_id_id"), ["org_id", "file_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_model_timestamp"),
            ["org_id", "model", "timestamp"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_span_parent_id"), ["org_id", "span_parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_thread_identifier"),
            ["org_id", "thread_identifier"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_timestamp"), ["org_id", "timestamp"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logs_org_id_trace_unique_id"),
            ["org_id", "trace_unique_id"],
            unique=False,
        )

    op.create_table(
        "log_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column(
            "old_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "new_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["log_id"], ["logs.id"], name=op.f("fk_log_revisions_log_id_logs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_log_revisions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_revisions")),
    )
    with op.batch_alter_table("log_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_log_revisions_log_id_id"), ["log_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("log_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_revisions_log_id_id"))

    op.drop_table("log_revisions")
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logs_org_id_trace_unique_id"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_timestamp"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_thread_identifier"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_span_parent_id"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_model_timestamp"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_file_id_id"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_customer_identifier_timestamp"))
        batch_op.drop_index(batch_op.f("ix_logs_org_id_custom_identifier"))

    op.drop_table("logs")
    op.drop_table("api_keys")
    op.drop_table("organizations")
