"""people: where a user lives (codes of the 2025 units, age band), roles and their audit, subscriptions' consent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("province_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("commune_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("age_band", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("profile_offered_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_province_code"), ["province_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_commune_code"), ["commune_code"], unique=False)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consented_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_by", sa.String(length=16), nullable=True))
    op.create_table(
        "roles",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("region", sa.JSON(), nullable=True),
        sa.Column("granted_by", sa.String(length=160), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "external_id"),
    )
    op.create_table(
        "role_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("role_before", sa.String(length=16), nullable=False),
        sa.Column("role_after", sa.String(length=16), nullable=False),
        sa.Column("region", sa.JSON(), nullable=True),
        sa.Column("changed_by", sa.String(length=160), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_changes_external_id"), ["external_id"], unique=False)


def downgrade() -> None:
    op.drop_table("role_changes")
    op.drop_table("roles")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("ended_by")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("consented_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_commune_code"))
        batch_op.drop_index(batch_op.f("ix_users_province_code"))
        batch_op.drop_column("profile_offered_at")
        batch_op.drop_column("age_band")
        batch_op.drop_column("commune_code")
        batch_op.drop_column("province_code")
