"""The database schema. Migrations in storage/migrations create it; change both together.

Times are naive UTC (SQLite has no time zones); the stores convert at the boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("citizen", "volunteer", "admin")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str | None] = mapped_column(String(8))
    province: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="citizen")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # reports: registered and new users
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # The name printed on the user's certificates, asked once before their first final test (bot/tutor.py).
    certificate_name: Mapped[str | None] = mapped_column(String(200))  # NULL: the default learner's
    certificate_name_answered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    certificate_name_topic: Mapped[str | None] = mapped_column(String(32))  # asked before this final test
    # Where the user lives (bot/people.py): codes of the 2025 units; `province` and `commune` hold their names.
    province_code: Mapped[int | None] = mapped_column(Integer, index=True)
    commune_code: Mapped[int | None] = mapped_column(Integer, index=True)
    age_band: Mapped[str | None] = mapped_column(String(8))  # bot.people.AGE_BANDS
    profile_offered_at: Mapped[datetime | None] = mapped_column(DateTime)  # the first-use offer was shown


class ConversationStateRow(Base):
    """The core's ConversationState as JSON, so step mode and language survive restarts."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ConversationLog(Base):
    """One turn. Only redacted text is ever stored; user_id is NULL for turns of forgotten users."""

    __tablename__ = "conversation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    redacted_text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    article_id: Mapped[str | None] = mapped_column(String(128))
    fallback: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    warnings: Mapped[str] = mapped_column(String(200), default="")


class QuizSessionRow(Base):
    __tablename__ = "quiz_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # topic | lesson | final | review
    topic: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(128), default="")  # the lesson id for lesson quizzes
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)  # index of the open question
    correct: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | finished | abandoned
    lang: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # reports: quizzes of a period


class QuizAnswerRow(Base):
    """The unique (session, position) pair is the last line of defence against scoring a double tap twice."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("session_id", "position", name="uq_quiz_answers_session_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("quiz_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    chosen: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(DateTime)


class ReviewItem(Base):
    """A Leitner card: which box a question is in for a user, and when it is due again."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("user_id", "question_id", name="uq_review_items_user_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    box: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "topic", name="uq_subscriptions_user_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    consented_at: Mapped[datetime | None] = mapped_column(DateTime)  # the explicit opt-in (the latest one)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by: Mapped[str | None] = mapped_column(String(16))  # bot.people: unsubscribe | stop_word


class RoleRow(Base):
    """Who is more than a citizen: admins and volunteers, by user key, so one can be named before writing."""

    __tablename__ = "roles"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # volunteer | admin
    region: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"province": code} or {"communes": [codes]}
    granted_by: Mapped[str] = mapped_column(String(160))
    granted_at: Mapped[datetime] = mapped_column(DateTime)


class RoleChangeRow(Base):
    """Every role change, with who made it and when: kept when the role or the user is gone."""

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    role_before: Mapped[str] = mapped_column(String(16))
    role_after: Mapped[str] = mapped_column(String(16))
    region: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(160))
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)


class CertificateRow(Base):
    """A certificate that stands: one per topic per holder (a better score replaces it, bot/learning.py)."""

    __tablename__ = "certificates"
    __table_args__ = (Index("uq_certificates_user_topic", "user_id", "topic", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    topic: Mapped[str] = mapped_column(String(32))
    score_percent: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str | None] = mapped_column(String(200))  # NULL: the default learner's name
    issued_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # reports: certificates of a period


class RevokedCertificate(Base):
    """A code that no longer certifies anyone: only the code, why and when; no name, no link to a user."""

    __tablename__ = "revoked_certificates"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # bot.learning.REVOKED_DELETED | REVOKED_REPLACED
    revoked_at: Mapped[datetime] = mapped_column(DateTime)


class CertificateImage(Base):
    """A certificate's PNG, drawn once per language; `fingerprint` says what it shows (bot/certificates.py)."""

    __tablename__ = "certificate_images"

    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    png: Mapped[bytes] = mapped_column(LargeBinary)


class AnswerFeedback(Base):
    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[str] = mapped_column(String(128))
    positive: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # reports: feedback of a period


# -- the Telegram channel's transport facts (channels/telegram_store.py) ------------------------------


class HandoverLink(Base):
    """Which volunteers'-group message belongs to which user, so a volunteer's reply finds its way back.

    The user may be of any channel: the Telegram group is the desk for every channel's users.
    """

    __tablename__ = "telegram_handover_links"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # in the volunteers' group
    channel: Mapped[str] = mapped_column(String(32), server_default="telegram")
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BlockedChat(Base):
    """Chats that blocked the bot (403): nothing more is sent to them until they write again."""

    __tablename__ = "telegram_blocked_chats"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    blocked_at: Mapped[datetime] = mapped_column(DateTime)


# -- the channels' durable inbox (channels/inbox.py) ---------------------------------------------------


class InboxEntry(Base):
    """An incoming platform event, stored before the platform is told it arrived, so none is lost.

    Pending while done_at is NULL: then it holds the payload and a lease (locked_until). Done, it keeps only
    the key, so a redelivery is recognised, until pruned. locked_until is NULL exactly when done, which keeps
    done rows out of the lease index that claiming stale items scans.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_source_locked_until", "source", "locked_until"),  # stale items to claim
        Index("ix_inbox_source_done_at", "source", "done_at"),  # old done keys to prune; the pending count
    )

    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # "telegram:<bot id>", "zalo_oa:<oa id>"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # the platform's id of the event
    payload: Mapped[str | None] = mapped_column(Text)  # the event as received; NULL once done
    received_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


# -- the Zalo OA channel's transport facts (channels/zalo_oa_store.py) ---------------------------------


class ZaloOaAccount(Base):
    """One Zalo app's OA: its OAuth token pair and what Zalo told us about it.

    The refresh token is single-use, so the pair is read and replaced under a row lock (one worker
    refreshes) and written in the same transaction as the refresh that produced it.
    """

    __tablename__ = "zalo_oa_accounts"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime] = mapped_column(DateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Zalo refused a message with buttons once: from then on choices go as numbered text only.
    templates_refused_at: Mapped[datetime | None] = mapped_column(DateTime)


class ZaloOaUser(Base):
    """What sending to one OA follower depends on: their window, the message to reply to, their choices."""

    __tablename__ = "zalo_oa_users"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_interaction_at: Mapped[datetime] = mapped_column(DateTime)
    last_message_id: Mapped[str | None] = mapped_column(String(128))  # replies carry it (Zalo's reply quota)
    replies_to_message: Mapped[int] = mapped_column(Integer, default=0)
    # The actions of the numbered choices last shown, in order: typing "2" presses the second.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    unreachable_at: Mapped[datetime | None] = mapped_column(DateTime)  # unfollowed, or Zalo refused them
    unreachable_reason: Mapped[str | None] = mapped_column(String(64))


class ZaloOaMonth(Base):
    """Messages an OA sent in a calendar month (UTC) that did not reply to a user's message: what Zalo's
    monthly packages count, as far as known (docs/zalo.md)."""

    __tablename__ = "zalo_oa_months"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-12"
    proactive: Mapped[int] = mapped_column(Integer, default=0)


# -- the Zalo Bot channel's transport facts (channels/zalo_bot_store.py) --------------------------------


class ZaloBotUser(Base):
    """The numbered choices last shown to one user of a Zalo bot: the platform has no buttons, so typing
    "2" presses the second, on whichever worker takes the message."""

    __tablename__ = "zalo_bot_users"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the chat id replies go to
    choices: Mapped[list[str] | None] = mapped_column(JSON)  # their actions, choice n at index n - 1
    shown_at: Mapped[datetime] = mapped_column(DateTime)


# -- broadcasts and their deliveries (channels/broadcast_store.py) -------------------------------------


class Broadcast(Base):
    """One message to many: a lesson or a free text, to a segment of the subscribers (bot/broadcasts.py) or to
    an operator's list. A weekly plan is a row too, which never has deliveries: each week's run is a row of its
    own (plan_id, run_at), unique, so two workers cannot make the same week's run."""

    __tablename__ = "broadcasts"
    __table_args__ = (UniqueConstraint("plan_id", "run_at", name="uq_broadcasts_plan_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)  # a lesson: in Vietnamese (broadcast_texts has each language)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # reports: broadcasts of a period
    # awaiting_approval | rejected | scheduled | sending | paused | cancelled | done
    status: Mapped[str] = mapped_column(String(24), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="text", server_default="text")  # text | lesson
    lesson_id: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # bot.broadcasts.Segment; NULL: an explicit list
    schedule: Mapped[str] = mapped_column(String(8), default="now", server_default="now")  # now | at | weekly
    weekday: Mapped[int | None] = mapped_column(Integer)  # weekly: 0 is Monday
    clock: Mapped[str | None] = mapped_column(String(5))  # weekly: "08:00" in Asia/Ho_Chi_Minh
    send_at: Mapped[datetime | None] = mapped_column(DateTime)  # when it goes; a weekly plan: its next run
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    run_at: Mapped[datetime | None] = mapped_column(DateTime)  # a run: the week's time it is the run of
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(128))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)


class BroadcastText(Base):
    """A lesson broadcast's text in one language: each recipient gets theirs (deliveries.lang)."""

    __tablename__ = "broadcast_texts"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """The truth about one broadcast to one recipient. A send claims its row (pending → sending, only if
    still pending and due) before it calls the platform, so no two workers ever send one row."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "channel", "user_id", name="uq_deliveries_broadcast_recipient"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),  # the due rows to claim
        Index("ix_deliveries_broadcast_id_status", "broadcast_id", "status"),  # a broadcast's counts
        # A user's offers, read on every message of a user of a channel that pulls (bot/offers.py): partial,
        # so it holds only the rows on offer and the engine's writes of every other row never touch it.
        Index(
            "ix_deliveries_offered",
            "channel",
            "user_id",
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    # pending | sending | sent | blocked | failed | cancelled | uncertain | offered (waiting for its user to pull
    # it: their platform takes it only as a reply to them; bot/offers.py)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the send in progress claimed it
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    message_id: Mapped[str | None] = mapped_column(String(64))  # the platform's id of the message sent
    error: Mapped[str | None] = mapped_column(Text)  # why it failed or was offered, or why its outcome is unknown
    lang: Mapped[str | None] = mapped_column(String(8))  # the recipient's language: picks broadcast_texts' text
    announced_at: Mapped[datetime | None] = mapped_column(DateTime)  # an offer: when its user was told of it
    pulled_at: Mapped[datetime | None] = mapped_column(DateTime)  # an offer its user pulled (then it is sent)
