"""Keywords AI prompts over Files: a File's description and the number of its last version,
and per version its number, whether it is a draft, and when a draft was last edited

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("last_number", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("draft", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    # Stored versions are numbered in the order they were made, as they are listed.
    op.execute(
        """
        UPDATE file_versions SET number = (
            SELECT count(*) FROM file_versions AS earlier
            WHERE earlier.file_id = file_versions.file_id
              AND (earlier.created_at < file_versions.created_at
                   OR (earlier.created_at = file_versions.created_at
                       AND earlier.id <= file_versions.id))
        )
        """
    )
    op.execute(
        "UPDATE files SET last_number = (SELECT count(*) FROM file_versions"
        " WHERE file_versions.file_id = files.id)"
    )
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_file_versions_file_id_number"), ["file_id", "number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_file_versions_file_id_number"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("draft")
        batch_op.drop_column("number")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("last_number")
        batch_op.drop_column("description")
