"""deliveries: offers a user pulls (bot/offers.py): when they were told of one, when they pulled it, and the
partial index that finds a user's offers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFERED = sa.text("status = 'offered'")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("announced_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("pulled_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_deliveries_offered",
        "deliveries",
        ["channel", "user_id"],
        unique=False,
        sqlite_where=OFFERED,
        postgresql_where=OFFERED,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_offered", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("pulled_at")
        batch.drop_column("announced_at")
