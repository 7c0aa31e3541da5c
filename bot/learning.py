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
    holder: str | None  # the name printed on it; None: the default learner's (bot/texts.py cert_default_holder)
    issued_at: datetime


REVOKED_DELETED = "deleted"  # its holder deleted their data
REVOKED_REPLACED = "replaced"  # a better score in the same topic replaced it


@dataclass(frozen=True)
class CertificateLookup:
    """What the database says about a code: the certificate it names, or why it was revoked."""

    code: str
    record: CertificateRecord | None  # None when revoked
    revoked: str = ""  # REVOKED_DELETED or REVOKED_REPLACED; a revoked code keeps no name and no link to anyone


@dataclass(frozen=True)
class Issued:
    """What adding a certificate did: one certificate per topic per holder, and only a better score replaces it."""

    kept: CertificateRecord  # the holder's certificate for the topic now
    issued: bool  # `kept` is the one just offered; False: one at least as good was already held
    replaced: CertificateRecord | None = None  # the worse one it replaced, now revoked


@dataclass(frozen=True)
class HolderName:
    """The name a user wants printed on their certificates, asked once before their first final test."""

    answered: bool = False  # they gave a name or chose the default
    name: str | None = None  # None: the default learner's
    waiting_topic: str | None = None  # asked before this topic's final test: their next message may be the answer


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

    def add_certificate(self, user: UserRef, certificate: CertificateRecord) -> Issued | None:
        """Make `certificate` the user's one certificate for its topic, unless they hold one at least as good.

        A worse one it replaces is revoked (REVOKED_REPLACED) in the same transaction. None when the code
        is already taken, by a certificate or a revoked code (the caller draws another).
        """
        ...

    def certificates(self, user: UserRef) -> list[CertificateRecord]:
        """The user's certificates (revoked ones are no longer theirs), in the order they were issued."""
        ...

    def find_certificate(self, code: str) -> CertificateLookup | None:
        """The certificate or revoked code stored under `code` (canonical form), or None when none was issued."""
        ...

    def certificate_image(self, code: str, lang: str, fingerprint: str) -> bytes | None:
        """The cached image of a certificate, if one was saved with this fingerprint (what it shows)."""
        ...

    def save_certificate_image(self, code: str, lang: str, fingerprint: str, png: bytes) -> None:
        """Cache an image; it goes with its certificate (revoked, deleted or renamed: gone)."""
        ...

    def holder_name(self, user: UserRef) -> HolderName: ...

    def ask_holder_name(self, user: UserRef, topic: str | None) -> None:
        """Remember that the user was asked for their name before `topic`'s final test (None: stop waiting)."""
        ...

    def set_holder_name(self, user: UserRef, name: str | None) -> None:
        """The user's answer (None: the default name). Printed on their certificates from now on, those
        they already hold included; stops waiting for an answer."""
        ...

    def record_feedback(self, user: UserRef, article_id: str, positive: bool, now: datetime) -> None: ...

    def delete_user(self, user: UserRef) -> bool:
        """Delete everything stored about the user, their name included; their certificates' codes are kept
        only as revoked (REVOKED_DELETED). True when there was something to delete."""
        ...
