"""SQL implementations of the core's seams: StateStore, Journal and LearningStore."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import review
from bot.guard import scan
from bot.journal import LoggedTurn
from bot.learning import (
    REVOKED_DELETED,
    REVOKED_REPLACED,
    CertificateLookup,
    CertificateRecord,
    HolderName,
    Issued,
    QuizSession,
    ReviewCard,
    UserRef,
)
from bot.state import ConversationState
from storage.database import Database
from storage.models import (
    AnswerFeedback,
    Base,
    CertificateImage,
    CertificateRow,
    ConversationLog,
    ConversationStateRow,
    LessonProgress,
    QuizAnswerRow,
    QuizSessionRow,
    ReviewItem,
    RevokedCertificate,
    Subscription,
    User,
)

log = logging.getLogger(__name__)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Statements every message runs are built once, on the tables rather than the mapped classes: a Core
# statement that is built, keyed and compiled once costs a fraction of one built per call.
_USERS = Base.metadata.tables[User.__tablename__]
_STATES = Base.metadata.tables[ConversationStateRow.__tablename__]
_LOG = Base.metadata.tables[ConversationLog.__tablename__]
_SESSIONS = Base.metadata.tables[QuizSessionRow.__tablename__]
_FIND_USER = select(_USERS.c.id).where(
    _USERS.c.channel == bindparam("channel"), _USERS.c.external_id == bindparam("external_id")
)
_SET_LANG = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("uid"), _USERS.c.lang.is_distinct_from(bindparam("new_lang")))
    .values(lang=bindparam("new_lang"))
)
_LOAD_STATE = (
    select(_STATES.c.data)
    .join(_USERS, _USERS.c.id == _STATES.c.user_id)
    .where(_USERS.c.channel == bindparam("channel"), _USERS.c.external_id == bindparam("external_id"))
)
_OPEN_SESSION = (
    select(_SESSIONS)
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(
        _USERS.c.channel == bindparam("channel"),
        _USERS.c.external_id == bindparam("external_id"),
        _SESSIONS.c.status == "open",
    )
    .order_by(_SESSIONS.c.id.desc())
    .limit(1)
)
_HOLDER_NAME = select(
    _USERS.c.certificate_name, _USERS.c.certificate_name_answered, _USERS.c.certificate_name_topic
).where(_USERS.c.channel == bindparam("channel"), _USERS.c.external_id == bindparam("external_id"))

# Every first message creates a user; a second worker may create the same one at the same moment.
_NEW_USER_SQLITE = sqlite_insert(_USERS).on_conflict_do_nothing()
_NEW_USER_POSTGRESQL = pg_insert(_USERS).on_conflict_do_nothing()


def _find_user(session: Session | Connection, channel: str, external_id: str) -> int | None:
    return session.scalar(_FIND_USER, {"channel": channel, "external_id": external_id})


def _ensure_user(
    db: Database, session: Session | Connection, channel: str, external_id: str, display_name: str | None = None
) -> int:
    """The user's row id, creating the row if needed; safe when two first messages race."""
    user_id = _find_user(session, channel, external_id)
    if user_id is None:
        now = _now()
        values: dict[str, Any] = {
            "channel": channel,
            "external_id": external_id,
            "display_name": display_name,
            "role": "citizen",
            "consent": False,
            "created_at": now,
            "updated_at": now,
        }
        session.execute(_NEW_USER_SQLITE if db.is_sqlite else _NEW_USER_POSTGRESQL, values)
        user_id = _find_user(session, channel, external_id)
        assert user_id is not None
    elif display_name:
        session.execute(
            update(User)
            .where(User.id == user_id, (User.display_name.is_(None)) | (User.display_name != display_name))
            .values(display_name=display_name, updated_at=_now())
        )
    return user_id


class SqlStateStore:
    """Every message loads and saves its user's state, so both run as Core statements (Database.read/write)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upsert = (sqlite_insert if db.is_sqlite else pg_insert)(_STATES)
        self._upsert = upsert.on_conflict_do_update(
            index_elements=[_STATES.c.user_id],
            set_={"data": upsert.excluded.data, "updated_at": upsert.excluded.updated_at},
        )

    def load(self, channel: str, user_id: str) -> ConversationState:
        with self.db.read() as connection:
            data = connection.scalar(_LOAD_STATE, {"channel": channel, "external_id": user_id})
        if not data:
            return ConversationState()
        known = {f.name for f in dataclasses.fields(ConversationState)}
        values = {k: v for k, v in data.items() if k in known}  # fields of older or newer versions are ignored
        for name in ("recent_questions", "paused"):  # JSON lists, tuples in the state
            if name in values:
                values[name] = tuple(values[name])
        try:
            return ConversationState(**values)
        except TypeError:
            log.warning("unreadable conversation state for a %s user; starting fresh", channel)
            return ConversationState()

    def save(self, channel: str, user_id: str, state: ConversationState) -> None:
        data = dataclasses.asdict(state)
        data["recent_questions"] = list(state.recent_questions)
        data["paused"] = list(state.paused)
        with self.db.write() as connection:
            uid = _ensure_user(self.db, connection, channel, user_id)
            if state.lang:
                connection.execute(_SET_LANG, {"uid": uid, "new_lang": state.lang})
            connection.execute(self._upsert, {"user_id": uid, "data": data, "updated_at": _now()})


class SqlJournal:
    """The conversation log. Turns of users who asked to be forgotten (empty user id) are kept unlinked."""

    def __init__(self, db: Database, retention_days: int | None = None) -> None:
        self.db = db
        self.retention_days = retention_days
        self._next_purge = 0.0  # monotonic time; a server runs for months, so retention applies daily

    def record(self, turn: LoggedTurn) -> None:
        if self.retention_days is not None and time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + 24 * 3600
            try:
                purge_logs(self.db, self.retention_days)
            except Exception:
                log.exception("could not purge old conversation logs")
        try:
            with self.db.write() as connection:
                uid = _ensure_user(self.db, connection, turn.channel, turn.user_id) if turn.user_id else None
                connection.execute(
                    _LOG.insert(),
                    {
                        "user_id": uid,
                        "channel": turn.channel,
                        "created_at": _now(),
                        "redacted_text": turn.redacted_text,
                        "lang": turn.lang,
                        "intent": turn.intent,
                        "article_id": turn.article_id,
                        "fallback": turn.fallback,
                        "score": float(turn.score),
                        "latency_ms": float(turn.latency_ms),
                        "warnings": ",".join(turn.warnings)[:200],
                    },
                )
        except Exception:  # the reply matters more than its record
            log.exception("could not record a turn")


@dataclasses.dataclass(frozen=True)
class Purged:
    log_rows: int  # conversation log rows deleted
    states_trimmed: int  # saved states whose recent questions (user text) were dropped

    def __bool__(self) -> bool:
        return bool(self.log_rows or self.states_trimmed)


def purge_logs(db: Database, older_than_days: int, now: datetime | None = None) -> Purged:
    """Apply the retention period to the user text kept: conversation log rows older than it, and the
    recent questions saved in the state of users who have not written since (the rest of their state,
    language and step mode, stays)."""
    cutoff = _naive(now or datetime.now(UTC)) - timedelta(days=older_than_days)
    with db.session() as session:
        result = session.execute(delete(ConversationLog).where(ConversationLog.created_at < cutoff))
        log_rows = int(getattr(result, "rowcount", 0) or 0)
        trimmed = 0
        for row in session.scalars(select(ConversationStateRow).where(ConversationStateRow.updated_at < cutoff)):
            if row.data.get("recent_questions"):
                row.data = {**row.data, "recent_questions": []}  # a new dict: JSON columns track assignment
                trimmed += 1
        return Purged(log_rows, trimmed)


@dataclass(frozen=True)
class SecretsPurged:
    """How many stored rows a re-scan with the current guard changed, per place user text is kept."""

    log_rows: int = 0
    states: int = 0
    users: int = 0
    certificates: int = 0

    @property
    def total(self) -> int:
        return self.log_rows + self.states + self.users + self.certificates


def redact_stored(text: str) -> str:
    """`text` as the current guard leaves it, read again until nothing changes.

    Stored text holds the placeholders of an older reading; redacting one secret can end the sentence
    another sat in, so one reading is not always enough. Each reading that changes anything replaces
    characters outside placeholders, so this ends, and a second purge finds nothing left to do.
    """
    while (redacted := scan(text).text) != text:
        text = redacted
    return text


def _redacted_questions(data: dict[str, Any]) -> dict[str, Any] | None:
    questions = data.get("recent_questions")
    if not isinstance(questions, list):
        return None
    redacted = [redact_stored(q) if isinstance(q, str) else q for q in questions]
    return {**data, "recent_questions": redacted} if redacted != questions else None


def purge_secrets(db: Database, batch: int = 500) -> SecretsPurged:
    """Re-scan the user text already stored with the current guard; redact what an older one let through.

    The conversation log, the recent questions in conversation state, users' display names and the names
    on certificates. Rows are read in batches by id and written back with a compare-and-set on what was
    read, so a server writing at the same time loses nothing: a state it changed meanwhile is read again.
    Running it twice changes nothing the second time.
    """
    log_rows = _purge_column(db, ConversationLog.id, ConversationLog.redacted_text, batch)
    users = _purge_column(db, User.id, User.display_name, batch)
    certificates = _purge_column(db, CertificateRow.id, CertificateRow.holder, batch)
    states = 0
    last = -1
    while True:
        with db.read() as connection:
            ids = connection.scalars(
                select(_STATES.c.user_id).where(_STATES.c.user_id > last).order_by(_STATES.c.user_id).limit(batch)
            ).all()
        if not ids:
            break
        last = ids[-1]
        for uid in ids:
            states += _purge_state(db, uid)
    return SecretsPurged(log_rows, states, users, certificates)


def _purge_column(db: Database, key: Any, column: Any, batch: int) -> int:
    changed = 0
    last = -1
    while True:
        with db.read() as connection:
            rows = connection.execute(
                select(key, column).where(key > last, column.is_not(None)).order_by(key).limit(batch)
            ).all()
        if not rows:
            return changed
        last = rows[-1][0]
        # Scanned outside any write transaction: on SQLite a server writing meanwhile waits for none of it.
        changes = [(row_id, text, redact_stored(text)) for row_id, text in rows]
        changes = [change for change in changes if change[2] != change[1]]
        if not changes:
            continue
        with db.write() as connection:
            for row_id, text, redacted in changes:
                # Compare-and-set on what was read: a row someone changed meanwhile is left to the next run.
                result = connection.execute(
                    update(column.class_).where(key == row_id, column == text).values({column: redacted})
                )
                changed += int(getattr(result, "rowcount", 0) or 0)


def _purge_state(db: Database, uid: int, attempts: int = 5) -> int:
    for _ in range(attempts):
        with db.read() as connection:
            row = connection.execute(
                select(_STATES.c.data, _STATES.c.updated_at).where(_STATES.c.user_id == uid)
            ).first()
        if row is None or not isinstance(row.data, dict):
            return 0
        data = _redacted_questions(row.data)
        if data is None:
            return 0
        with db.write() as connection:
            # Compare-and-set on the time of the last save: a conversation that moved on meanwhile kept the
            # old questions in its new state, so it is read again.
            result = connection.execute(
                update(_STATES)
                .where(_STATES.c.user_id == uid, _STATES.c.updated_at == row.updated_at)
                .values(data=data)
            )
        if getattr(result, "rowcount", 0) == 1:
            return 1
    log.warning("a conversation state kept changing while its secrets were purged; run the purge again")
    return 0


def _session(row: QuizSessionRow | Row[Any]) -> QuizSession:
    return QuizSession(
        row.id,
        row.kind,
        row.topic,
        row.ref,
        tuple(row.question_ids),
        row.position,
        row.correct,
        row.status == "finished",
        row.lang,
        row.status == "abandoned",
    )


def _certificate(row: CertificateRow | Row[Any]) -> CertificateRecord:
    return CertificateRecord(row.code, row.topic, row.score_percent, row.holder, _aware(row.issued_at))


class SqlLearningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open_session(self, user: UserRef) -> QuizSession | None:
        # Asked on every text message (is a quiz waiting for an answer?): a Core read, no ORM objects.
        with self.db.read() as connection:
            row = connection.execute(_OPEN_SESSION, {"channel": user.channel, "external_id": user.user_id}).first()
            return _session(row) if row else None

    def get_session(self, user: UserRef, session_id: int) -> QuizSession | None:
        with self.db.session() as session:
            row = session.scalars(
                select(QuizSessionRow)
                .join(User, User.id == QuizSessionRow.user_id)
                .where(User.channel == user.channel, User.external_id == user.user_id, QuizSessionRow.id == session_id)
            ).first()
            return _session(row) if row else None

    def start_session(
        self, user: UserRef, kind: str, topic: str, ref: str, question_ids: tuple[str, ...], lang: str, now: datetime
    ) -> QuizSession:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id, user.display_name)
            session.execute(
                update(QuizSessionRow)
                .where(QuizSessionRow.user_id == uid, QuizSessionRow.status == "open")
                .values(status="abandoned", finished_at=_naive(now))
            )
            row = QuizSessionRow(
                user_id=uid,
                kind=kind,
                topic=topic,
                ref=ref,
                question_ids=list(question_ids),
                position=0,
                correct=0,
                status="open",
                lang=lang,
                started_at=_naive(now),
            )
            session.add(row)
            session.flush()
            return _session(row)

    def record_answer(
        self, user: UserRef, session_id: int, position: int, question_id: str, chosen: int, correct: bool, now: datetime
    ) -> QuizSession | None:
        try:
            with self.db.session() as session:
                uid = _find_user(session, user.channel, user.user_id)
                if uid is None:
                    return None
                question_ids = session.scalar(
                    select(QuizSessionRow.question_ids).where(QuizSessionRow.id == session_id)
                )
                if question_ids is None:
                    return None
                finished = position + 1 >= len(question_ids)
                # The compare-and-set: only the transaction that finds the question still open moves the
                # session on. A concurrent one blocks on the row lock, then matches nothing.
                moved = session.execute(
                    update(QuizSessionRow)
                    .where(
                        QuizSessionRow.id == session_id,
                        QuizSessionRow.user_id == uid,
                        QuizSessionRow.status == "open",
                        QuizSessionRow.position == position,
                    )
                    .values(
                        position=position + 1,
                        correct=QuizSessionRow.correct + (1 if correct else 0),
                        status="finished" if finished else "open",
                        finished_at=_naive(now) if finished else None,
                    )
                )
                if getattr(moved, "rowcount", 0) != 1:
                    return None
                session.add(
                    QuizAnswerRow(
                        session_id=session_id,
                        position=position,
                        question_id=question_id,
                        chosen=chosen,
                        correct=correct,
                        answered_at=_naive(now),
                    )
                )
                card = session.scalars(
                    select(ReviewItem).where(ReviewItem.user_id == uid, ReviewItem.question_id == question_id)
                ).first()
                box, due = review.advance(card.box if card else None, correct, _naive(now))
                if card is None:
                    session.add(
                        ReviewItem(user_id=uid, question_id=question_id, box=box, due_at=due, updated_at=_naive(now))
                    )
                else:
                    card.box, card.due_at, card.updated_at = box, due, _naive(now)
                session.flush()
                row = session.get(QuizSessionRow, session_id, populate_existing=True)
                assert row is not None
                return _session(row)
        except IntegrityError:  # the unique (session, position) answer: someone else scored it first
            return None

    def abandon(self, user: UserRef, session_id: int) -> None:
        with self.db.session() as session:
            uid = _find_user(session, user.channel, user.user_id)
            session.execute(
                update(QuizSessionRow)
                .where(QuizSessionRow.id == session_id, QuizSessionRow.user_id == uid, QuizSessionRow.status == "open")
                .values(status="abandoned", finished_at=_now())
            )

    def review_cards(self, user: UserRef) -> dict[str, ReviewCard]:
        with self.db.session() as session:
            rows = session.scalars(
                select(ReviewItem)
                .join(User, User.id == ReviewItem.user_id)
                .where(User.channel == user.channel, User.external_id == user.user_id)
            ).all()
            return {r.question_id: ReviewCard(r.question_id, r.box, _aware(r.due_at)) for r in rows}

    def lesson_done(self, user: UserRef, lesson_id: str, score: int, total: int, now: datetime) -> None:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id)
            row = session.scalars(
                select(LessonProgress).where(LessonProgress.user_id == uid, LessonProgress.lesson_id == lesson_id)
            ).first()
            if row is None:
                session.add(
                    LessonProgress(user_id=uid, lesson_id=lesson_id, score=score, total=total, completed_at=_naive(now))
                )
            else:
                row.score, row.total, row.completed_at = max(row.score, score), total, _naive(now)

    def lessons_done(self, user: UserRef) -> set[str]:
        with self.db.session() as session:
            return set(
                session.scalars(
                    select(LessonProgress.lesson_id)
                    .join(User, User.id == LessonProgress.user_id)
                    .where(User.channel == user.channel, User.external_id == user.user_id)
                )
            )

    def add_certificate(self, user: UserRef, certificate: CertificateRecord) -> Issued | None:
        try:
            with self.db.session() as session:
                uid = _ensure_user(self.db, session, user.channel, user.user_id, user.display_name)
                taken = session.scalar(select(CertificateRow.id).where(CertificateRow.code == certificate.code))
                if taken is not None or session.get(RevokedCertificate, certificate.code) is not None:
                    return None
                # Locked, so two passes of the same test finishing at once cannot both replace it.
                held = session.scalars(
                    select(CertificateRow)
                    .where(CertificateRow.user_id == uid, CertificateRow.topic == certificate.topic)
                    .with_for_update()
                ).first()
                if held is not None and held.score_percent >= certificate.score_percent:
                    return Issued(_certificate(held), issued=False)
                replaced = None
                if held is not None:
                    replaced = _certificate(held)
                    session.add(RevokedCertificate(code=held.code, reason=REVOKED_REPLACED, revoked_at=_now()))
                    session.execute(delete(CertificateImage).where(CertificateImage.certificate_id == held.id))
                    session.delete(held)
                    session.flush()  # the unique (user, topic) index must not see both
                session.add(
                    CertificateRow(
                        user_id=uid,
                        code=certificate.code,
                        topic=certificate.topic,
                        score_percent=certificate.score_percent,
                        holder=certificate.holder,
                        issued_at=_naive(certificate.issued_at),
                    )
                )
                session.flush()
            return Issued(certificate, issued=True, replaced=replaced)
        except IntegrityError:
            # The code is taken; or the same user's other pass of this test won a race: the caller's next
            # attempt sees that one.
            return None

    def certificates(self, user: UserRef) -> list[CertificateRecord]:
        with self.db.session() as session:
            rows = session.scalars(
                select(CertificateRow)
                .join(User, User.id == CertificateRow.user_id)
                .where(User.channel == user.channel, User.external_id == user.user_id)
                .order_by(CertificateRow.id)
            ).all()
            return [_certificate(r) for r in rows]

    def find_certificate(self, code: str) -> CertificateLookup | None:
        with self.db.read() as connection:  # anyone may check a code: a read that never queues behind writers
            row = connection.execute(select(CertificateRow.__table__).where(CertificateRow.code == code)).first()
            if row is not None:
                return CertificateLookup(code, _certificate(row))
            reason = connection.scalar(select(RevokedCertificate.reason).where(RevokedCertificate.code == code))
            return CertificateLookup(code, None, reason) if reason is not None else None

    def certificate_image(self, code: str, lang: str, fingerprint: str) -> bytes | None:
        with self.db.read() as connection:
            png = connection.scalar(
                select(CertificateImage.png)
                .join(CertificateRow, CertificateRow.id == CertificateImage.certificate_id)
                .where(
                    CertificateRow.code == code,
                    CertificateImage.lang == lang,
                    CertificateImage.fingerprint == fingerprint,
                )
            )
            return bytes(png) if png is not None else None

    def save_certificate_image(self, code: str, lang: str, fingerprint: str, png: bytes) -> None:
        try:
            with self.db.session() as session:
                certificate_id = session.scalar(select(CertificateRow.id).where(CertificateRow.code == code))
                if certificate_id is None:  # revoked or deleted meanwhile: nothing to cache
                    return
                image = session.get(CertificateImage, (certificate_id, lang))
                if image is None:
                    session.add(
                        CertificateImage(certificate_id=certificate_id, lang=lang, fingerprint=fingerprint, png=png)
                    )
                else:
                    image.fingerprint, image.png = fingerprint, png
        except IntegrityError:  # another worker cached it at the same moment: theirs is as good
            pass

    def holder_name(self, user: UserRef) -> HolderName:
        with self.db.read() as connection:
            row = connection.execute(_HOLDER_NAME, {"channel": user.channel, "external_id": user.user_id}).first()
        if row is None:
            return HolderName()
        return HolderName(bool(row.certificate_name_answered), row.certificate_name, row.certificate_name_topic)

    def ask_holder_name(self, user: UserRef, topic: str | None) -> None:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id, user.display_name)
            session.execute(update(User).where(User.id == uid).values(certificate_name_topic=topic, updated_at=_now()))

    def set_holder_name(self, user: UserRef, name: str | None) -> None:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id, user.display_name)
            session.execute(
                update(User)
                .where(User.id == uid)
                .values(
                    certificate_name=name,
                    certificate_name_answered=True,
                    certificate_name_topic=None,
                    updated_at=_now(),
                )
            )
            held = select(CertificateRow.id).where(CertificateRow.user_id == uid)
            session.execute(update(CertificateRow).where(CertificateRow.user_id == uid).values(holder=name))
            # Images showing the old name are of no use, and a name someone took back must not linger.
            session.execute(delete(CertificateImage).where(CertificateImage.certificate_id.in_(held)))

    def record_feedback(self, user: UserRef, article_id: str, positive: bool, now: datetime) -> None:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id)
            session.add(AnswerFeedback(user_id=uid, article_id=article_id, positive=positive, created_at=_naive(now)))

    def delete_user(self, user: UserRef) -> bool:
        with self.db.session() as session:
            uid = _find_user(session, user.channel, user.user_id)
            if uid is None:
                return False
            # Explicit deletes rather than trusting ON DELETE CASCADE: a SQLite connection made without
            # the foreign-keys pragma would silently keep the rows.
            sessions = select(QuizSessionRow.id).where(QuizSessionRow.user_id == uid)
            session.execute(delete(QuizAnswerRow).where(QuizAnswerRow.session_id.in_(sessions)))
            # Their certificates are revoked: each code stays, with no name and no link to them, so a copy
            # shown later reads "revoked" instead of certifying anyone.
            held = session.execute(
                select(CertificateRow.id, CertificateRow.code).where(CertificateRow.user_id == uid)
            ).all()
            if held:
                session.add_all(
                    RevokedCertificate(code=code, reason=REVOKED_DELETED, revoked_at=_now()) for _, code in held
                )
                session.execute(
                    delete(CertificateImage).where(CertificateImage.certificate_id.in_([i for i, _ in held]))
                )
            for model in (
                QuizSessionRow,
                ReviewItem,
                Subscription,
                LessonProgress,
                CertificateRow,
                AnswerFeedback,
                ConversationLog,
                ConversationStateRow,
            ):
                session.execute(delete(model).where(model.user_id == uid))
            session.execute(delete(User).where(User.id == uid))
            return True
