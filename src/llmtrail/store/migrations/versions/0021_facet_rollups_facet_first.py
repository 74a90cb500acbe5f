"""The facet rollups keyed facet first, so that a dashboard breakdown reads only its own
facet's rows in the range (by model at a million logs: 15 ms of walking every customer's
rows down to under 1 ms)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "log_facet_rollups"
KEY = "pk_log_facet_rollups"


def _rekey(columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(KEY, TABLE, type_="primary")
        op.create_primary_key(KEY, TABLE, columns)
        return
    # SQLite cannot change a primary key in place: the table is copied into a new one.
    with op.batch_alter_table(TABLE, recreate="always") as batch:
        batch.drop_constraint(KEY, type_="primary")
        batch.create_primary_key(KEY, columns)


def upgrade() -> None:
    _rekey(["org_id", "facet", "hour", "value", "slot"])


def downgrade() -> None:
    _rekey(["org_id", "hour", "facet", "value", "slot"])
