"""the channels' durable inbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 12:00:00

Incoming platform events are stored here before the platform is told they arrived, and kept (as keys only)
after they were processed, to recognise a redelivery. It will replace telegram_processed_updates, which is
left as it is: a later revision drops it once no channel writes it any more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", "key"),
    )
    op.create_index("ix_inbox_source_locked_until", "inbox", ["source", "locked_until"], unique=False)
    op.create_index("ix_inbox_source_done_at", "inbox", ["source", "done_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_source_done_at", table_name="inbox")
    op.drop_index("ix_inbox_source_locked_until", table_name="inbox")
    op.drop_table("inbox")
