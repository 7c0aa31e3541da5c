"""the channel-neutral runner: handover links name the user's channel; the processed-update ledger goes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 13:00:00

The volunteers' group in Telegram is the desk for users of every channel, so a link names the channel of
its user (existing links are Telegram users'). Which updates arrived and which are done is now the inbox
(0004), so `telegram_processed_updates` is dropped: an update delivered again within its two days is
then processed once more only if it was received before this upgrade and is delivered again after it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "telegram_handover_links",
        sa.Column("channel", sa.String(length=32), nullable=False, server_default="telegram"),
    )
    op.drop_index(op.f("ix_telegram_processed_updates_seen_at"), table_name="telegram_processed_updates")
    op.drop_table("telegram_processed_updates")


def downgrade() -> None:
    op.create_table(
        "telegram_processed_updates",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    op.create_index(
        op.f("ix_telegram_processed_updates_seen_at"), "telegram_processed_updates", ["seen_at"], unique=False
    )
    with op.batch_alter_table("telegram_handover_links") as batch:  # SQLite drops a column by copying
        batch.drop_column("channel")
