"""reports: indexes on the time columns a report's periods select by (hocvu report, docs/reports.md)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, columns): each lets a report read one period's rows instead of the whole table.
INDEXES = (
    ("ix_users_created_at", "users", ["created_at"]),
    ("ix_quiz_sessions_finished_at", "quiz_sessions", ["finished_at"]),
    ("ix_certificates_issued_at", "certificates", ["issued_at"]),
    ("ix_answer_feedback_created_at", "answer_feedback", ["created_at"]),
    ("ix_broadcasts_created_at", "broadcasts", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
