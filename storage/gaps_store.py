"""The conversation log's gap candidates for a period: what `hocvu kb gaps` groups (knowledge_base/gaps.py).

Three kinds of turn, found by two SQL statements that run the same on SQLite and PostgreSQL:
- "don't know": a question the assistant answered with its fallback (buttons and other non-text turns,
  logged as "<...>", are not questions);
- low confidence: a question answered from retrieval (intent ask_question) with a score below `below`;
- 👎: the question behind a negative feedback turn of the period (the 👎 button, or "không hữu ích"
  typed): the user's latest typed question answered before it, with the same article when the feedback names one.
A question of two kinds is one candidate with both. Only redacted text is stored (bot/guard.py), so only
redacted text comes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import aliased

from storage.database import Database
from storage.models import ConversationLog, User

# The same words as knowledge_base/gaps.py's (tests/test_gaps.py checks): storage may not import it.
DONT_KNOW = "dont_know"
THUMBS_DOWN = "thumbs_down"
LOW_CONFIDENCE = "low_confidence"

ANSWERED = "ask_question"  # the intent journaled for an answer from retrieval (bot/handlers.py)
NEGATIVE_FEEDBACK = "feedback_negative"
_CHUNK = 500  # ids per IN list: SQLite bounds the parameters of one statement


@dataclass(frozen=True)
class GapCandidate:
    log_id: int
    text: str  # redacted
    user: int | None  # users.id; None for a turn of a user who asked to be forgotten
    lang: str
    kinds: frozenset[str]
    score: float
    article_id: str | None  # the article answered with, None for "don't know"
    asked_at: datetime  # naive UTC


def gap_candidates(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    below: float,
    province_code: int | None = None,
    commune_codes: Sequence[int] = (),
) -> list[GapCandidate]:
    """The period's candidates [start, end) (naive UTC), in the order they were asked. With a province or
    communes, only questions of users whose profile puts them there."""
    log = ConversationLog
    typed = not_(log.redacted_text.like("<%"))
    direct = select(log.id, log.fallback).where(
        log.created_at >= start,
        log.created_at < end,
        typed,
        or_(log.fallback.is_(True), and_(log.intent == ANSWERED, log.fallback.is_(False), log.score < below)),
    )
    feedback = aliased(ConversationLog, name="feedback")
    asked = aliased(ConversationLog, name="asked")
    question_behind = (
        select(func.max(asked.id))
        .where(
            asked.user_id == feedback.user_id,
            asked.id < feedback.id,
            asked.intent == ANSWERED,
            not_(asked.redacted_text.like("<%")),
            or_(feedback.article_id.is_(None), asked.article_id == feedback.article_id),
        )
        .scalar_subquery()
    )
    disliked = select(question_behind.label("id")).where(
        feedback.intent == NEGATIVE_FEEDBACK,
        feedback.user_id.is_not(None),
        feedback.created_at >= start,
        feedback.created_at < end,
    )
    with db.read() as connection:
        kinds: dict[int, set[str]] = {}
        for row in connection.execute(direct):
            kinds.setdefault(row.id, set()).add(DONT_KNOW if row.fallback else LOW_CONFIDENCE)
        for (log_id,) in connection.execute(disliked):
            if log_id is not None:
                kinds.setdefault(log_id, set()).add(THUMBS_DOWN)
        if not kinds:
            return []
        ids = sorted(kinds)
        found: list[GapCandidate] = []
        for first in range(0, len(ids), _CHUNK):
            rows = select(log).where(log.id.in_(ids[first : first + _CHUNK])).order_by(log.id)
            if province_code is not None or commune_codes:
                rows = rows.join(User, User.id == log.user_id)
                if province_code is not None:
                    rows = rows.where(User.province_code == province_code)
                if commune_codes:
                    rows = rows.where(User.commune_code.in_(list(commune_codes)))
            found += (
                GapCandidate(
                    row.id,
                    row.redacted_text,
                    row.user_id,
                    row.lang,
                    frozenset(kinds[row.id]),
                    float(row.score),
                    row.article_id,
                    row.created_at,
                )
                for row in connection.execute(rows)
            )
        return found
