"""The learning seam: what the quiz, review, progress and certificate features keep between messages.

The core talks to a LearningStore; storage/ implements it on SQL. Every write that scores an answer is
one compare-and-set on the session's open question, so a double tap, a stale button or two messages
processed at once can never score the same question twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

QUIZ_KINDS = ("topic", "lesson", "final", "review")


@dataclass(frozen=True)
class UserRef:
    channel: str
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class QuizSession:
    id: int
    kind: str  # one of QUIZ_KINDS
    topic: str  # "" for a review across topics
    ref: str  # the lesson id for lesson quizzes
    question_ids: tuple[str, ...]
    position: int  # index of the open question; == len(question_ids) once finished
    correct: int
    finished: bool
    lang: str
    abandoned: bool = False  # replaced by another quiz or stopped: its buttons are stale

    @property
    def total(self) -> int:
        return len(self.question_ids)

    @property
    def current(self) -> str | None:
        return None if self.finished or self.position >= self.total else self.question_ids[self.position]

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


@dataclass(frozen=True)
class ReviewCard:
    question_id: str
    box: int  # Leitner box, 1 (just missed) .. bot.review.MAX_BOX (mastered)
    due_at: datetime


@dataclass(frozen=True)
class CertificateRecord:
    code: str
    topic: str
    score_percent: int
    holder: str
    issued_at: datetime


class LearningStore(Protocol):
    def open_session(self, user: UserRef) -> QuizSession | None:
        """The user's unfinished quiz, if any."""
        ...

    def get_session(self, user: UserRef, session_id: int) -> QuizSession | None: ...

    def start_session(
        self, user: UserRef, kind: str, topic: str, ref: str, question_ids: tuple[str, ...], lang: str, now: datetime
    ) -> QuizSession:
        """Start a quiz; any quiz the user left open is abandoned."""
        ...

    def record_answer(
        self, user: UserRef, session_id: int, position: int, question_id: str, chosen: int, correct: bool, now: datetime
    ) -> QuizSession | None:
        """Score the answer to question `position` and move the session on, atomically.

        Returns the updated session, or None when that question is no longer the open one (already
        answered, another quiz started, or the quiz finished): nothing is written then. Also moves the
        question's review card (bot.review) in the same transaction.
        """
        ...

    def abandon(self, user: UserRef, session_id: int) -> None: ...

    def review_cards(self, user: UserRef) -> dict[str, ReviewCard]: ...

    def lesson_done(self, user: UserRef, lesson_id: str, score: int, total: int, now: datetime) -> None: ...

    def lessons_done(self, user: UserRef) -> set[str]:
        """Ids of the lessons whose quiz the user has finished."""
        ...

    def add_certificate(self, user: UserRef, certificate: CertificateRecord) -> bool:
        """False when the code is already taken (the caller draws another)."""
        ...

    def certificates(self, user: UserRef) -> list[CertificateRecord]: ...

    def record_feedback(self, user: UserRef, article_id: str, positive: bool, now: datetime) -> None: ...

    def delete_user(self, user: UserRef) -> bool:
        """Delete everything stored about the user. True when there was something to delete."""
        ...
