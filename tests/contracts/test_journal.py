"""The Journal contract: each turn's redacted text is kept in order, a forgotten user's turns belong to nobody,
and a journal that cannot write never takes the reply down with it ("the reply matters more than its record").

The logging journal names no user at all; the SQL journal links turns to their user, so that deleting the
user deletes them (tests/test_storage.py).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot.journal import Journal, LoggedTurn, LoggingJournal
from storage.database import Database
from storage.models import ConversationLog, User
from storage.stores import SqlJournal
from tests.support.learning_support import database_url, migrated_database


@dataclass(frozen=True)
class Kept:
    """What a journal kept of a turn, as far as every journal keeps it."""

    text: str
    intent: str | None
    article_id: str | None
    fallback: bool
    owner: str | None  # the user the record is attributed to


@dataclass
class Journals:
    journal: Journal
    kept: Callable[[], list[Kept]]  # oldest first
    broken: Callable[[], Journal]  # a journal whose storage fails on every write


def _turn(user_id: str, text: str, intent: str | None = "ask_question", **changes: Any) -> LoggedTurn:
    return dataclasses.replace(LoggedTurn("test", user_id, text, "vi", intent, None, False, 0.5, 12.0), **changes)


def _logging_journals(caplog: pytest.LogCaptureFixture, stack: ExitStack) -> Journals:
    caplog.set_level(logging.INFO, logger="hocvu.turns")

    def kept() -> list[Kept]:
        # The message's arguments, in LoggingJournal's order: channel, intent, article, fallback, score, latency, text.
        logged = [cast(tuple[Any, ...], r.args) for r in caplog.records if r.name == "hocvu.turns"]
        return [Kept(args[6], args[1], args[2], args[3], None) for args in logged]

    def broken() -> Journal:
        closed = io.StringIO()
        closed.close()
        handler = logging.StreamHandler(closed)  # every write raises ValueError: the log's disk is gone
        logger = logging.getLogger("hocvu.turns")
        logger.addHandler(handler)
        stack.callback(logger.removeHandler, handler)
        return LoggingJournal()

    return Journals(LoggingJournal(), kept, broken)


def _sql_journals(kind: str, tmp_path: Path, stack: ExitStack) -> Journals:
    db = stack.enter_context(migrated_database(kind, tmp_path))

    def kept() -> list[Kept]:
        with db.read() as connection:
            rows = connection.execute(
                select(
                    ConversationLog.redacted_text,
                    ConversationLog.intent,
                    ConversationLog.article_id,
                    ConversationLog.fallback,
                    User.external_id,
                )
                .outerjoin(User, User.id == ConversationLog.user_id)
                .order_by(ConversationLog.id)
            ).all()
        return [Kept(*row) for row in rows]

    def broken() -> Journal:
        # A database whose schema was never created: every insert fails.
        unmigrated = Database(stack.enter_context(database_url(kind, tmp_path / "unmigrated")))
        stack.callback(unmigrated.dispose)
        return SqlJournal(unmigrated)

    return Journals(SqlJournal(db), kept, broken)


@pytest.fixture(params=["logging", "sqlite", "postgresql"])
def journals(request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Journals]:
    with ExitStack() as stack:
        if request.param == "logging":
            yield _logging_journals(caplog, stack)
        else:
            yield _sql_journals(request.param, tmp_path, stack)


def test_the_journal_stores_redacted_text_and_turns_of_forgotten_users_unlinked(journals: Journals) -> None:
    journal = journals.journal
    journal.record(_turn("alice", "số [số định danh đã ẩn]", "ask_question", fallback=True))
    journal.record(_turn("", "<button 1:del:y:1>", "delete_data", score=0.0, latency_ms=3.0))
    kept = journals.kept()
    assert [k.text for k in kept] == ["số [số định danh đã ẩn]", "<button 1:del:y:1>"]
    assert kept[1].owner is None


def test_each_turn_keeps_its_intent_article_and_fallback(journals: Journals) -> None:
    turns = [
        _turn("alice", "cách đăng ký vneid", "ask_question", article_id="vneid-register-level1"),
        _turn("alice", "giá vàng hôm nay", "out_of_scope", fallback=True),
        _turn("alice", "<button 1:step:vneid-install:2>", None),
    ]
    for turn in turns:
        journals.journal.record(turn)
    assert [(k.text, k.intent, k.article_id, k.fallback) for k in journals.kept()] == [
        (t.redacted_text, t.intent, t.article_id, t.fallback) for t in turns
    ]


def test_a_turn_is_never_attributed_to_another_user(journals: Journals) -> None:
    for user_id in ("alice", "bob", "alice"):
        journals.journal.record(_turn(user_id, f"câu hỏi của {user_id}"))
    for kept in journals.kept():
        assert kept.owner in (None, kept.text.removeprefix("câu hỏi của ")), kept


def test_a_journal_that_cannot_write_does_not_fail_the_reply(journals: Journals) -> None:
    broken = journals.broken()
    broken.record(_turn("alice", "quên mật khẩu"))  # no exception: the user still gets their answer
    broken.record(_turn("", "<button 1:del:y:1>"))
    journals.journal.record(_turn("alice", "vẫn ghi được"))
    assert [k.text for k in journals.kept()][-1:] == ["vẫn ghi được"]
