"""the Telegram channel's tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:00:00

Until this revision the channel created these tables itself on first use, which several workers
starting at once on PostgreSQL can race on. A database that already has them keeps them as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "telegram_processed_updates" not in existing:
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
    if "telegram_handover_links" not in existing:
        op.create_table(
            "telegram_handover_links",
            sa.Column("bot_id", sa.BigInteger(), nullable=False),
            sa.Column("message_id", sa.BigInteger(), nullable=False),
            sa.Column("user_id", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("bot_id", "message_id"),
        )
        op.create_index(
            op.f("ix_telegram_handover_links_user_id"), "telegram_handover_links", ["user_id"], unique=False
        )
    if "telegram_blocked_chats" not in existing:
        op.create_table(
            "telegram_blocked_chats",
            sa.Column("bot_id", sa.BigInteger(), nullable=False),
            sa.Column("user_id", sa.String(length=64), nullable=False),
            sa.Column("blocked_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("bot_id", "user_id"),
        )


def downgrade() -> None:
    op.drop_table("telegram_blocked_chats")
    op.drop_index(op.f("ix_telegram_handover_links_user_id"), table_name="telegram_handover_links")
    op.drop_table("telegram_handover_links")
    op.drop_index(op.f("ix_telegram_processed_updates_seen_at"), table_name="telegram_processed_updates")
    op.drop_table("telegram_processed_updates")
