"""The LearningStore contract: each answer scored once, stale buttons refused, a user's data theirs until deleted.

SqlLearningStore is the one implementation, on each database the product supports. Which rows a deletion
removes, across every seam's tables, is tested in tests/test_storage.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import review
from bot.learning import CertificateRecord, LearningStore, QuizSession, UserRef
from storage.database import Database
from storage.models import QuizAnswerRow
from storage.stores import SqlLearningStore
from tests.support.learning_support import migrated_database

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = UserRef("test", "alice", "Alice")
BOB = UserRef("test", "bob")


@dataclass
class Learning:
    store: LearningStore
    reopen: Callable[[], LearningStore]  # another store on the same backend: a second worker, a restart
    answers_kept: Callable[[], int]  # how many scored answers the backend holds, for every user


@pytest.fixture(params=["sqlite", "postgresql"])
def learning(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Learning]:
    with ExitStack() as stack:
        db = stack.enter_context(migrated_database(request.param, tmp_path))

        def reopen() -> LearningStore:
            other = Database(db.url)
            stack.callback(other.dispose)
            return SqlLearningStore(other)

        def answers_kept() -> int:
            with db.read() as connection:
                return int(connection.scalar(select(func.count()).select_from(QuizAnswerRow)) or 0)

        yield Learning(SqlLearningStore(db), reopen, answers_kept)


def _certificate(code: str, topic: str = "vneid") -> CertificateRecord:
    return CertificateRecord(code, topic, 90, "Alice", NOW)


def test_a_user_with_nothing_stored_has_nothing_to_show_or_delete(learning: Learning) -> None:
    store = learning.store
    assert store.open_session(ALICE) is None
    assert store.get_session(ALICE, 1) is None
    assert store.record_answer(ALICE, 1, 0, "q1", 0, True, NOW) is None
    assert store.review_cards(ALICE) == {}
    assert store.lessons_done(ALICE) == set()
    assert store.certificates(ALICE) == []
    assert store.delete_user(ALICE) is False


def test_a_started_quiz_is_found_again_by_another_worker(learning: Learning) -> None:
    started = learning.store.start_session(ALICE, "lesson", "vneid", "lesson-vneid-01", ("q1", "q2", "q3"), "en", NOW)
    assert (started.position, started.correct, started.finished, started.abandoned) == (0, 0, False, False)
    assert started.current == "q1"
    other = learning.reopen()
    assert other.open_session(ALICE) == started
    assert other.get_session(ALICE, started.id) == started
    assert other.open_session(BOB) is None


def test_an_answer_is_scored_once_and_stale_positions_are_refused(learning: Learning) -> None:
    store = learning.store
    session = store.start_session(ALICE, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
    first = store.record_answer(ALICE, session.id, 0, "q1", 1, True, NOW)
    assert first is not None and first.position == 1 and first.correct == 1
    assert store.record_answer(ALICE, session.id, 0, "q1", 1, True, NOW) is None  # double tap
    assert store.record_answer(ALICE, session.id, 5, "q1", 1, True, NOW) is None  # never asked
    last = store.record_answer(ALICE, session.id, 1, "q2", 0, False, NOW)
    assert last is not None and last.finished and last.correct == 1
    assert store.open_session(ALICE) is None
    assert learning.answers_kept() == 2
    cards = store.review_cards(ALICE)
    assert cards["q1"].box == 2 and cards["q2"].box == 1


def test_an_answer_moves_the_questions_review_card_as_bot_review_says(learning: Learning) -> None:
    store = learning.store
    for _ in range(2):  # the same question in two quizzes: right, then right again
        session = store.start_session(ALICE, "review", "", "", ("q1", "q2"), "vi", NOW)
        store.record_answer(ALICE, session.id, 0, "q1", 1, True, NOW)
        store.record_answer(ALICE, session.id, 1, "q2", 2, False, NOW)
    cards = learning.reopen().review_cards(ALICE)
    assert (cards["q1"].box, cards["q1"].due_at) == (3, NOW + review.INTERVALS[2])
    assert (cards["q2"].box, cards["q2"].due_at) == (1, NOW + review.INTERVALS[0])
    assert store.review_cards(BOB) == {}


def test_starting_a_quiz_abandons_the_open_one(learning: Learning) -> None:
    store = learning.store
    old = store.start_session(ALICE, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
    new = store.start_session(ALICE, "final", "vneid", "", ("q3",), "vi", NOW)
    assert store.open_session(ALICE) == new
    assert store.record_answer(ALICE, old.id, 0, "q1", 1, True, NOW) is None


def test_an_abandoned_quiz_refuses_its_stale_buttons(learning: Learning) -> None:
    store = learning.store
    session = store.start_session(ALICE, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
    store.abandon(ALICE, session.id)
    assert store.open_session(ALICE) is None
    abandoned = store.get_session(ALICE, session.id)
    assert abandoned is not None and abandoned.abandoned and not abandoned.finished
    assert store.record_answer(ALICE, session.id, 0, "q1", 1, True, NOW) is None
    assert learning.answers_kept() == 0


def test_a_users_quiz_cannot_be_seen_answered_or_stopped_by_another(learning: Learning) -> None:
    store = learning.store
    session = store.start_session(ALICE, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
    store.start_session(BOB, "topic", "vneid", "", ("q1",), "vi", NOW)  # Bob exists too
    assert store.get_session(BOB, session.id) is None
    assert store.record_answer(BOB, session.id, 0, "q1", 1, True, NOW) is None
    store.abandon(BOB, session.id)
    assert store.open_session(ALICE) == session
    assert store.review_cards(BOB) == {}


def test_finished_lessons_are_remembered_once_per_user(learning: Learning) -> None:
    store = learning.store
    store.lesson_done(ALICE, "lesson-vneid-01", 2, 3, NOW)
    store.lesson_done(ALICE, "lesson-vneid-01", 3, 3, NOW)  # taken again
    store.lesson_done(ALICE, "lesson-scam-01", 1, 3, NOW)
    assert learning.reopen().lessons_done(ALICE) == {"lesson-vneid-01", "lesson-scam-01"}
    assert store.lessons_done(BOB) == set()


def test_a_certificate_code_is_issued_once_and_listed_for_its_holder(learning: Learning) -> None:
    store = learning.store
    first, second = _certificate("HV-AAAAAAAA-AAAAAAAA"), _certificate("HV-BBBBBBBB-BBBBBBBB", "online_safety")
    assert store.add_certificate(ALICE, first) is True
    assert store.add_certificate(ALICE, first) is False  # the caller draws another code
    assert store.add_certificate(BOB, first) is False  # codes are unique across users
    assert store.add_certificate(ALICE, second) is True
    assert learning.reopen().certificates(ALICE) == [first, second]  # in the order they were issued
    assert store.certificates(BOB) == []


def test_anything_stored_about_a_user_makes_them_deletable(learning: Learning) -> None:
    store = learning.store
    writers: dict[str, Callable[[UserRef], object]] = {
        "quiz": lambda user: store.start_session(user, "topic", "vneid", "", ("q1",), "vi", NOW),
        "lesson": lambda user: store.lesson_done(user, "lesson-vneid-01", 3, 3, NOW),
        "certificate": lambda user: store.add_certificate(
            user, _certificate(f"HV-{user.user_id.upper():A<8}-CCCCCCCC")
        ),
        "feedback": lambda user: store.record_feedback(user, "vneid-install", True, NOW),
    }
    for name, write in writers.items():
        user = UserRef("test", name)
        write(user)
        assert store.delete_user(user) is True, name
        assert store.delete_user(user) is False, name


def test_deleting_a_user_removes_what_the_store_shows_of_them_and_keeps_others(learning: Learning) -> None:
    store = learning.store
    sessions: dict[str, QuizSession] = {}
    for user in (ALICE, BOB):
        session = store.start_session(user, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
        store.record_answer(user, session.id, 0, "q1", 0, False, NOW)
        sessions[user.user_id] = session
        store.lesson_done(user, "lesson-vneid-01", 3, 3, NOW)
        store.record_feedback(user, "vneid-install", True, NOW)
        store.add_certificate(user, _certificate(f"HV-{user.user_id.upper():A<8}-AAAAAAAA"))
    assert store.delete_user(ALICE) is True
    assert store.delete_user(ALICE) is False
    after = learning.reopen()
    assert after.open_session(ALICE) is None and after.get_session(ALICE, sessions["alice"].id) is None
    assert after.review_cards(ALICE) == {} and after.lessons_done(ALICE) == set() and after.certificates(ALICE) == []
    assert after.open_session(BOB) is not None and set(after.review_cards(BOB)) == {"q1"}
    assert after.lessons_done(BOB) == {"lesson-vneid-01"} and len(after.certificates(BOB)) == 1
    assert learning.answers_kept() == 1
    # A deleted user who writes again starts from nothing.
    fresh = after.start_session(ALICE, "topic", "vneid", "", ("q1",), "vi", NOW)
    assert fresh.id != sessions["alice"].id and after.review_cards(ALICE) == {}


async def test_concurrent_answers_to_the_same_question_score_exactly_once(learning: Learning) -> None:
    session = learning.store.start_session(ALICE, "topic", "vneid", "", ("q1", "q2"), "vi", NOW)
    # Fewer than asyncio's default thread pool on a 2-core machine, so all run at once: two threads of this
    # worker and two other workers, all opened before the barrier so that it waits for the answers only.
    workers = [learning.store, learning.store, learning.reopen(), learning.reopen()]
    barrier = threading.Barrier(len(workers), timeout=30)

    def answer(worker: LearningStore) -> object:
        barrier.wait()  # all hit the database together
        return worker.record_answer(ALICE, session.id, 0, "q1", 1, True, NOW)

    results = await asyncio.gather(*(asyncio.to_thread(answer, worker) for worker in workers))
    assert sum(r is not None for r in results) == 1
    assert learning.answers_kept() == 1
    current = learning.store.open_session(ALICE)
    assert current is not None and current.position == 1 and current.correct == 1
