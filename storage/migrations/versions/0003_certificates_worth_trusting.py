"""certificates worth trusting: holder names, one certificate per topic, revoked codes, cached images

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00

Until this revision every pass of a final test issued another certificate. A holder's certificates of one
topic are reduced to the best (the first issued among equal scores); the others are kept only as codes
revoked as replaced, so a copy already handed out says so when checked instead of reading as unknown.
Downgrading drops the revoked codes, the names users chose and the cached images.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode's copy-and-drop: on SQLite, with foreign keys enforced, dropping
    # the old users table would cascade to every row that belongs to a user.
    op.add_column("users", sa.Column("certificate_name", sa.String(length=200), nullable=True))
    op.add_column(
        "users", sa.Column("certificate_name_answered", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("certificate_name_topic", sa.String(length=32), nullable=True))
    revoked = op.create_table(
        "revoked_certificates",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    _keep_the_best_certificate_per_topic(revoked)
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.alter_column("holder", existing_type=sa.String(length=200), nullable=True)
        batch_op.create_index("uq_certificates_user_topic", ["user_id", "topic"], unique=True)
    op.create_table(
        "certificate_images",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("certificate_id", "lang"),
    )


def _keep_the_best_certificate_per_topic(revoked: sa.Table) -> None:
    bind = op.get_bind()
    certificates = sa.table(
        "certificates",
        sa.column("id", sa.Integer()),
        sa.column("user_id", sa.Integer()),
        sa.column("topic", sa.String()),
        sa.column("score_percent", sa.Integer()),
        sa.column("code", sa.String()),
    )
    rows = bind.execute(
        sa.select(certificates).order_by(
            certificates.c.user_id, certificates.c.topic, certificates.c.score_percent.desc(), certificates.c.id
        )
    ).all()
    seen: set[tuple[int, str]] = set()
    superseded = []
    for row in rows:
        if (row.user_id, row.topic) in seen:
            superseded.append(row)
        seen.add((row.user_id, row.topic))
    if not superseded:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    bind.execute(revoked.insert(), [{"code": r.code, "reason": "replaced", "revoked_at": now} for r in superseded])
    bind.execute(sa.delete(certificates).where(certificates.c.id.in_([r.id for r in superseded])))


def downgrade() -> None:
    op.drop_table("certificate_images")
    certificates = sa.table("certificates", sa.column("holder", sa.String()))
    op.execute(sa.update(certificates).where(certificates.c.holder.is_(None)).values(holder=""))
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.drop_index("uq_certificates_user_topic")
        batch_op.alter_column("holder", existing_type=sa.String(length=200), nullable=False)
    op.drop_table("revoked_certificates")
    for column in ("certificate_name_topic", "certificate_name_answered", "certificate_name"):
        op.drop_column("users", column)  # ALTER TABLE (SQLite 3.35+), not batch mode: see upgrade()
