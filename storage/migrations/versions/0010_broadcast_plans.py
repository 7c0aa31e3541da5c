"""broadcast plans: lesson or free text, segment, schedule (now, at, weekly runs), approval; texts by language

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=24))
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="text", nullable=False))
        batch_op.add_column(sa.Column("lesson_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("segment", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("schedule", sa.String(length=8), server_default="now", nullable=False))
        batch_op.add_column(sa.Column("weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clock", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("send_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("run_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("rejected_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reject_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_broadcasts_plan_id", "broadcasts", ["plan_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(batch_op.f("ix_broadcasts_plan_id"), ["plan_id"], unique=False)
        batch_op.create_unique_constraint("uq_broadcasts_plan_run", ["plan_id", "run_at"])
    op.create_table(
        "broadcast_texts",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcasts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("broadcast_id", "lang"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("lang")
    op.drop_table("broadcast_texts")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_broadcasts_plan_run", type_="unique")
        batch_op.drop_index(batch_op.f("ix_broadcasts_plan_id"))
        batch_op.drop_constraint("fk_broadcasts_plan_id", type_="foreignkey")
        for column in (
            "reject_reason",
            "rejected_at",
            "rejected_by",
            "approved_at",
            "approved_by",
            "run_at",
            "plan_id",
            "send_at",
            "clock",
            "weekday",
            "schedule",
            "segment",
            "lesson_id",
            "kind",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("status", existing_type=sa.String(length=24), type_=sa.String(length=16))
