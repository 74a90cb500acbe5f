"""Evaluators, scores, conditions and automations; evaluators and scores of what is stored

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conditions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("condition_type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("policy", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_conditions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conditions")),
        sa.UniqueConstraint("org_id", "slug", name=op.f("uq_conditions_org_id_slug")),
    )
    op.create_table(
        "evaluators",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("definition", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluators_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluators")),
        sa.UniqueConstraint("org_id", "slug", name=op.f("uq_evaluators_org_id_slug")),
    )
    op.create_table(
        "automations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("automation_type", sa.String(length=32), nullable=False),
        sa.Column("condition_id", sa.String(length=128), nullable=True),
        sa.Column("file_id", sa.String(length=128), nullable=True),
        sa.Column("evaluator_ids", Json, nullable=False),
        sa.Column("configuration", Json, nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["condition_id"],
            ["conditions.id"],
            name=op.f("fk_automations_condition_id_conditions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_automations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
        sa.UniqueConstraint("org_id", "slug", name=op.f("uq_automations_org_id_slug")),
    )
    op.create_index(
        op.f("ix_automations_org_id_is_enabled"),
        "automations",
        ["org_id", "is_enabled"],
        unique=False,
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
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
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_log_id", sa.String(length=128), nullable=True),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("latency", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["logs.id"], name=op.f("fk_scores_log_id_logs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_scores_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint(
            "org_id", "evaluator_id", "log_id", name=op.f("uq_scores_org_id_evaluator_id_log_id")
        ),
    )
    op.create_index(op.f("ix_scores_log_id"), "scores", ["log_id"], unique=False)
    op.create_index(
        op.f("ix_scores_org_id_evaluator_id_numerical_value"),
        "scores",
        ["org_id", "evaluator_id", "numerical_value"],
        unique=False,
    )
    _evaluators_of_stored_files()


def _evaluators_of_stored_files() -> None:
    """An evaluator for each evaluator File already stored, read from its newest spec, as
    `core.evaluators.ensure` would make it (judgments logged before this migration were
    evaluator logs only; they stay logs, and new judgments are scores as well)."""
    from llmtrail.core.evaluators import from_spec, slug_for

    conn = op.get_bind()
    files = sa.table("files", *(sa.column(c) for c in ("id", "org_id", "type", "path", "name")))
    versions = sa.table(
        "file_versions",
        sa.column("file_id"),
        sa.column("kernel", Json),
        sa.column("created_at"),
    )
    names = ("id", "org_id", "slug", "name", "kind", "value_type", "description")
    evaluators = sa.table(
        "evaluators",
        *(sa.column(c) for c in names),
        sa.column("definition", Json),
        sa.column("created_at"),
        sa.column("updated_at"),
    )
    taken: set[tuple[int, str]] = set()
    for file in conn.execute(sa.select(files).where(files.c.type == "evaluator")).all():
        newest = conn.execute(
            sa.select(versions.c.kernel, versions.c.created_at)
            .where(versions.c.file_id == file.id)
            .order_by(versions.c.created_at.desc())
            .limit(1)
        ).first()
        spec = newest.kernel if newest is not None else {}
        kind, value_type, definition = from_spec(spec) if spec else ("human", "numerical", {})
        slug, n = slug_for(file.path), 1
        while (file.org_id, slug) in taken:
            n += 1
            slug = f"{slug_for(file.path)}_{n}"
        taken.add((file.org_id, slug))
        moment = newest.created_at if newest is not None else datetime.now(UTC).replace(tzinfo=None)
        conn.execute(
            sa.insert(evaluators).values(
                id=file.id,
                org_id=file.org_id,
                slug=slug,
                name=file.name,
                kind=kind,
                value_type=value_type,
                description="",
                definition=definition,
                created_at=moment,
                updated_at=moment,
            )
        )


def downgrade() -> None:
    op.drop_table("scores")
    op.drop_table("automations")
    op.drop_table("evaluators")
    op.drop_table("conditions")
