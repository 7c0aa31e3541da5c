"""The LearningStore contract: each answer scored once, stale buttons refused, a user's data theirs until deleted.

SqlLearningStore is the one implementation, on each database the product supports. Which rows a deletion
removes, across every seam's tables, is tested in tests/test_storage.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import review
from bot.learning import (
    REVOKED_DELETED,
    REVOKED_REPLACED,
    CertificateLookup,
    CertificateRecord,
    HolderName,
    Issued,
    LearningStore,
    QuizSession,
    UserRef,
)
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


def _certificate(
    code: str, topic: str = "vneid", *, score: int = 90, holder: str | None = "Alice"
) -> CertificateRecord:
    return CertificateRecord(code, topic, score, holder, NOW)


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
    assert store.add_certificate(ALICE, first) == Issued(first, issued=True)
    assert store.add_certificate(ALICE, dataclasses.replace(first, topic="vneid", score_percent=95)) is None
    assert store.add_certificate(BOB, first) is None  # codes are unique across users: the caller draws another
    assert store.add_certificate(ALICE, second) == Issued(second, issued=True)
    assert learning.reopen().certificates(ALICE) == [first, second]  # in the order they were issued
    assert store.certificates(BOB) == []
    assert store.find_certificate(first.code) == CertificateLookup(first.code, first)
    assert store.find_certificate("HV-CCCCCCCC-CCCCCCCC") is None  # never issued


def test_one_certificate_per_topic_and_only_a_better_score_replaces_it(learning: Learning) -> None:
    store = learning.store
    first = _certificate("HV-AAAAAAAA-AAAAAAAA", score=80)
    assert store.add_certificate(ALICE, first) == Issued(first, issued=True)
    for worse_or_equal in (80, 70):  # each pass of the final test used to issue another certificate
        again = _certificate(
            f"HV-{worse_or_equal:A<8}-BBBBBBBB".replace("8", "E").replace("7", "S"), score=worse_or_equal
        )
        assert store.add_certificate(ALICE, again) == Issued(first, issued=False)
        assert store.find_certificate(again.code) is None  # nothing was issued under it
    better = _certificate("HV-CCCCCCCC-CCCCCCCC", score=100)
    assert store.add_certificate(ALICE, better) == Issued(better, issued=True, replaced=first)
    assert learning.reopen().certificates(ALICE) == [better]
    assert store.find_certificate(first.code) == CertificateLookup(first.code, None, REVOKED_REPLACED)
    assert store.add_certificate(BOB, dataclasses.replace(first, holder="Bob")) is None  # a revoked code stays taken
    other_topic = _certificate("HV-DDDDDDDD-DDDDDDDD", "online_safety", score=80)
    assert store.add_certificate(ALICE, other_topic) == Issued(other_topic, issued=True)
    assert store.add_certificate(BOB, _certificate("HV-EEEEEEEE-EEEEEEEE", score=80)).issued  # type: ignore[union-attr]


async def test_two_passes_finishing_at_once_leave_one_certificate(learning: Learning) -> None:
    workers = [learning.store, learning.reopen()]
    barrier = threading.Barrier(len(workers), timeout=30)
    offered = [_certificate("HV-AAAAAAAA-AAAAAAAA", score=90), _certificate("HV-BBBBBBBB-BBBBBBBB", score=90)]

    def add(worker: LearningStore, certificate: CertificateRecord) -> Issued | None:
        barrier.wait()
        for _ in range(5):  # as the tutor does when a write lost a race: ask again
            issued = worker.add_certificate(ALICE, certificate)
            if issued is not None:
                return issued
        return None

    results = await asyncio.gather(*(asyncio.to_thread(add, w, c) for w, c in zip(workers, offered, strict=True)))
    held = learning.store.certificates(ALICE)
    assert len(held) == 1 and held[0] in offered
    assert [r.kept for r in results if r is not None] == held * 2
    assert sum(r.issued for r in results if r is not None) == 1


def test_the_holder_name_is_asked_once_and_printed_on_their_certificates(learning: Learning) -> None:
    store = learning.store
    assert store.holder_name(ALICE) == HolderName(answered=False, name=None, waiting_topic=None)
    store.add_certificate(ALICE, _certificate("HV-AAAAAAAA-AAAAAAAA", holder=None))
    store.ask_holder_name(ALICE, "vneid")
    assert learning.reopen().holder_name(ALICE) == HolderName(answered=False, name=None, waiting_topic="vneid")
    store.ask_holder_name(ALICE, None)  # the next message was no answer
    assert store.holder_name(ALICE) == HolderName()
    store.ask_holder_name(ALICE, "vneid")
    store.set_holder_name(ALICE, "Nguyễn Thị Lan")
    assert store.holder_name(ALICE) == HolderName(answered=True, name="Nguyễn Thị Lan", waiting_topic=None)
    # Changed: what every one of their codes shows from now on.
    assert [c.holder for c in learning.reopen().certificates(ALICE)] == ["Nguyễn Thị Lan"]
    found = store.find_certificate("HV-AAAAAAAA-AAAAAAAA")
    assert found is not None and found.record is not None and found.record.holder == "Nguyễn Thị Lan"
    store.set_holder_name(ALICE, None)  # back to the default
    assert store.holder_name(ALICE) == HolderName(answered=True, name=None)
    assert [c.holder for c in store.certificates(ALICE)] == [None]
    assert store.holder_name(BOB) == HolderName()


def test_a_certificate_image_is_kept_until_what_it_shows_changes(learning: Learning) -> None:
    store, png = learning.store, b"\x89PNG fake image"
    first = _certificate("HV-AAAAAAAA-AAAAAAAA", score=80)
    store.add_certificate(ALICE, first)
    store.save_certificate_image(first.code, "vi", "f1", png)
    store.save_certificate_image(first.code, "vi", "f1", png)  # saved twice (two workers): still one
    assert learning.reopen().certificate_image(first.code, "vi", "f1") == png
    assert store.certificate_image(first.code, "en", "f1") is None
    assert store.certificate_image(first.code, "vi", "f2") is None  # it shows something else now
    store.save_certificate_image(first.code, "vi", "f2", png + b"2")
    assert store.certificate_image(first.code, "vi", "f2") == png + b"2"
    store.set_holder_name(ALICE, "Lan")  # the old name must not linger in an image
    assert store.certificate_image(first.code, "vi", "f2") is None
    store.save_certificate_image(first.code, "vi", "f3", png)
    better = _certificate("HV-BBBBBBBB-BBBBBBBB", score=90)
    store.add_certificate(ALICE, better)
    assert store.certificate_image(first.code, "vi", "f3") is None  # revoked: its image went with it
    store.save_certificate_image(first.code, "vi", "f3", png)  # too late: nothing is cached for a revoked code
    assert store.certificate_image(first.code, "vi", "f3") is None
    store.save_certificate_image(better.code, "vi", "f4", png)
    store.delete_user(ALICE)
    assert store.certificate_image(better.code, "vi", "f4") is None


def test_deleting_a_user_revokes_their_certificates_and_forgets_their_name(learning: Learning) -> None:
    store = learning.store
    certificate = _certificate("HV-AAAAAAAA-AAAAAAAA")
    store.set_holder_name(ALICE, "Nguyễn Thị Lan")
    store.add_certificate(ALICE, certificate)
    store.add_certificate(BOB, _certificate("HV-BBBBBBBB-BBBBBBBB", holder="Bob"))
    assert store.delete_user(ALICE) is True
    after = learning.reopen()
    assert after.find_certificate(certificate.code) == CertificateLookup(certificate.code, None, REVOKED_DELETED)
    assert after.holder_name(ALICE) == HolderName() and after.certificates(ALICE) == []
    assert after.add_certificate(ALICE, certificate) is None  # the revoked code is never issued again
    found = after.find_certificate("HV-BBBBBBBB-BBBBBBBB")
    assert found is not None and found.record is not None and found.record.holder == "Bob"


def test_anything_stored_about_a_user_makes_them_deletable(learning: Learning) -> None:
    store = learning.store
    writers: dict[str, Callable[[UserRef], object]] = {
        "quiz": lambda user: store.start_session(user, "topic", "vneid", "", ("q1",), "vi", NOW),
        "lesson": lambda user: store.lesson_done(user, "lesson-vneid-01", 3, 3, NOW),
        "certificate": lambda user: store.add_certificate(
            user, _certificate(f"HV-{user.user_id.upper():A<8}-CCCCCCCC")
        ),
        "feedback": lambda user: store.record_feedback(user, "vneid-install", True, NOW),
        "name": lambda user: store.set_holder_name(user, "Lan"),
        "asked for a name": lambda user: store.ask_holder_name(user, "vneid"),
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
