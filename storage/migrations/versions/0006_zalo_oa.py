"""the Zalo OA channel: the OA's token pair, what sending to each follower depends on, monthly counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_oa_accounts",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("templates_refused_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("app_id"),
    )
    op.create_table(
        "zalo_oa_users",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("last_interaction_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_id", sa.String(length=128), nullable=True),
        sa.Column("replies_to_message", sa.Integer(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("unreachable_at", sa.DateTime(), nullable=True),
        sa.Column("unreachable_reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("app_id", "user_id"),
    )
    op.create_table(
        "zalo_oa_months",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("proactive", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "month"),
    )


def downgrade() -> None:
    op.drop_table("zalo_oa_months")
    op.drop_table("zalo_oa_users")
    op.drop_table("zalo_oa_accounts")
