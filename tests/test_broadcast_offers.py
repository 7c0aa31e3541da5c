"""Lessons on offer (bot/offers.py, channels/broadcast_offers.py): a broadcast the Zalo OA cannot push (no free
window open) is kept as an offer, given to its user when they next write, pulled with «Bài tiếp theo», and
counted in the report. On SQLite and PostgreSQL, through the real engine and sender to the fake Zalo OA API
over HTTP; the whole conversation over the webhook is in tests/test_zalo_oa.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import actions
from bot.broadcast_chat import describe_report
from bot.broadcasts import BroadcastDesk, Draft, Segment
from bot.learning import UserRef
from bot.messages import Reply
from bot.offers import UNSUBSCRIBED, LessonOffers
from channels.broadcast import DeliveryEngine, EngineSettings, MemoryGate
from channels.broadcast_offers import SqlOffers
from channels.broadcast_store import CANCELLED, FAILED, OFFERED, SENT, BroadcastStore, Due, Outcome, Recipient
from channels.broadcast_zalo import ZaloOaBroadcastSender
from channels.zalo_oa_api import ZaloOaApi
from channels.zalo_oa_auth import ZaloTokens
from channels.zalo_oa_store import ZaloOaStore, now
from hocvu import broadcast_cli
from knowledge_base.learning import Lesson, load_lessons
from storage.database import Database
from tests.support.fake_zalo import APP_ID, APP_SECRET, FakeZalo
from tests.support.learning_support import migrated_database
from tests.test_broadcast import drain, rows
from tests.test_broadcast_plans import ADMIN_KEY, REPO, Clock, desk_of

LESSON, OTHER = "lesson-safe-02", "lesson-safe-01"


@pytest.fixture(scope="module")
def lessons() -> dict[str, Lesson]:
    found, problems = load_lessons(REPO / "knowledge_base" / "lessons")
    assert not problems
    return found


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


class World:
    """The product's broadcast side on one database: the desk, the engine with the Zalo OA sender, the offers."""

    def __init__(self, db: Database, fake: FakeZalo, lessons: dict[str, Lesson]) -> None:
        self.db = db
        self.desk: BroadcastDesk = desk_of(db, lessons, Clock(datetime.now(UTC)))
        self.followers = ZaloOaStore(db, APP_ID)
        tokens = ZaloTokens(db, APP_ID, APP_SECRET, fake.base_url, margin=3600, timeout=5.0)
        tokens.seed(fake.access_token, fake.refresh_token)
        self.api = ZaloOaApi(fake.base_url, tokens, timeout=2.0)
        self.store = BroadcastStore(db)
        self.engine = DeliveryEngine(self.store, [ZaloOaBroadcastSender(self.api, self.followers)], MemoryGate(100))
        self.offers = LessonOffers(SqlOffers(db), self.desk.people, lessons)

    def subscriber(self, user_id: str, *, silent_days: int, topic: str = "online_safety") -> UserRef:
        user = UserRef("zalo_oa", user_id)
        self.desk.people.store.subscribe(user, topic, datetime.now(UTC))
        self.followers.interacted(user_id, None, at=now() - timedelta(days=silent_days))
        return user

    async def broadcast(self, lesson_id: str) -> int:
        created = self.desk.create(Draft(ADMIN_KEY, Segment(channels=("zalo_oa",)), lesson_id=lesson_id))
        await drain(self.engine)
        self.store.close_finished()  # as the engine's loop does after each round
        return created.runs[0]


@asynccontextmanager
async def world(db: Database, fake: FakeZalo, lessons: dict[str, Lesson]) -> AsyncIterator[World]:
    made = World(db, fake, lessons)
    await made.api.start()
    try:
        yield made
    finally:
        await made.api.close()


def texts(replies: list[Reply] | None) -> str:
    assert replies is not None
    return "\n".join(r.text for r in replies)


def buttons(reply: Reply) -> list[str]:
    return [button.action for row in reply.buttons for button in row]


async def test_a_closed_window_makes_an_offer_told_once_pulled_once_and_counted(
    db: Database, fake: FakeZalo, lessons: dict[str, Lesson]
) -> None:
    async with world(db, fake, lessons) as w:
        lan = w.subscriber("lan", silent_days=8)  # Zalo's 7-day window is closed
        fresh = w.subscriber("fresh", silent_days=0)
        first = await w.broadcast(LESSON)
        assert {u: r.status for u, r in rows(db, first).items()} == {"lan": OFFERED, "fresh": SENT}
        assert [r.body["recipient"] for r in fake.sent()] == [{"user_id": "fresh"}], "nothing was pushed to lan"
        report = w.desk.report(first)
        assert (report.counts[SENT], report.counts[OFFERED], report.pulled, report.status) == (1, 1, 0, "done")
        assert "Chờ người nhận nhắn tin để mời đọc (Zalo OA chưa mở cửa sổ gửi): 1" in describe_report(
            w.desk, report, "vi"
        )
        assert "window is closed" in (rows(db, first)["lan"].error or "")

        title = lessons[LESSON].text("vi").title
        notice = w.offers.notice(lan, "vi")
        assert notice is not None and title in notice.text and "Bài tiếp theo" in notice.text
        assert buttons(notice) == [actions.encode(actions.Verb.NEXT_LESSON)]
        assert w.offers.notice(lan, "vi") is None, "the same delivery is never offered twice"
        assert w.offers.notice(fresh, "vi") is None, "a delivery that was pushed is no offer"

        pulled = w.offers.pull(lan, "vi")
        assert pulled is not None and len(pulled) == 1, "one lesson, nothing left"
        assert pulled[0].text == fake.texts("fresh")[0], "the same content a push carries"
        assert buttons(pulled[0]) == [actions.encode(actions.Verb.QUIZ_START, "l", LESSON)]
        row = rows(db, first)["lan"]
        assert row.status == SENT and row.pulled_at is not None and row.sent_at == row.pulled_at
        assert w.offers.pull(lan, "vi") is None and w.offers.notice(lan, "vi") is None
        report = w.desk.report(first)
        assert (report.counts[SENT], report.counts[OFFERED], report.pulled) == (2, 0, 1)
        shown = io.StringIO()
        broadcast_cli._status(report, w.store, shown, None)
        assert "sent 2," in shown.getvalue() and "offered 0, waiting for the user to write" in shown.getvalue()
        assert "pulled 1 (counted in sent)" in shown.getvalue()
        chat = describe_report(w.desk, report, "vi")
        assert "Đã gửi: 2" in chat and "Đã tự lấy bài khi nhắn tin (tính trong Đã gửi): 1" in chat


async def test_several_offers_come_oldest_first_one_per_pull_saying_how_many_are_left(
    db: Database, fake: FakeZalo, lessons: dict[str, Lesson]
) -> None:
    async with world(db, fake, lessons) as w:
        lan = w.subscriber("lan", silent_days=30)
        older = await w.broadcast(OTHER)
        newer = await w.broadcast(LESSON)
        notice = w.offers.notice(lan, "vi")
        assert notice is not None and "Có 2 bài mới" in notice.text
        first = w.offers.pull(lan, "vi")
        assert lessons[OTHER].text("vi").title in texts(first) and "Còn 1 bài đang chờ" in texts(first)
        assert first is not None and buttons(first[-1]) == [actions.encode(actions.Verb.NEXT_LESSON)]
        second = w.offers.pull(lan, "en")  # pulled in English: the delivery's own text (Vietnamese) goes
        assert lessons[LESSON].text("vi").title in texts(second) and "waiting" not in texts(second)
        assert w.offers.pull(lan, "vi") is None
        assert [rows(db, b)["lan"].status for b in (older, newer)] == [SENT, SENT]
        assert rows(db, older)["lan"].pulled_at <= rows(db, newer)["lan"].pulled_at  # type: ignore[operator]


async def test_a_cancelled_broadcast_and_an_unsubscribed_user_get_no_offer(
    db: Database, fake: FakeZalo, lessons: dict[str, Lesson]
) -> None:
    async with world(db, fake, lessons) as w:
        lan = w.subscriber("lan", silent_days=8)
        cancelled = await w.broadcast(LESSON)
        w.store.cancel(cancelled)  # done, but its offer was still open: cancelling withdraws it
        assert rows(db, cancelled)["lan"].status == CANCELLED
        assert w.desk.report(cancelled).status == "cancelled"
        assert w.offers.notice(lan, "vi") is None and w.offers.pull(lan, "vi") is None

        kept = await w.broadcast(LESSON)
        assert rows(db, kept)["lan"].status == OFFERED
        w.desk.people.store.unsubscribe(lan, None, "stop_word", datetime.now(UTC))  # "DỪNG"
        assert w.offers.notice(lan, "vi") is None and w.offers.pull(lan, "vi") is None
        assert (rows(db, kept)["lan"].status, rows(db, kept)["lan"].error) == (CANCELLED, UNSUBSCRIBED)


async def test_a_window_zalo_says_is_closed_or_a_used_up_allowance_makes_an_offer(
    db: Database, fake: FakeZalo, lessons: dict[str, Lesson]
) -> None:
    async with world(db, fake, lessons) as w:
        for user in ("a", "b", "c"):
            w.subscriber(user, silent_days=1)
        fake.closed_users["a"] = -230  # Zalo knows better than our record of the window
        first = await w.broadcast(LESSON)
        sender = w.engine.senders["zalo_oa"]
        assert isinstance(sender, ZaloOaBroadcastSender)
        sender.monthly_allowance = w.followers.proactive_this_month()  # used up by the first broadcast
        second = await w.broadcast(OTHER)
    assert {u: r.status for u, r in rows(db, first).items()} == {"a": OFFERED, "b": SENT, "c": SENT}
    assert "-230" in (rows(db, first)["a"].error or "")
    assert "a" not in rows(db, second), "unreachable since Zalo's -230, until they write"
    assert {u: r.status for u, r in rows(db, second).items()} == {"b": OFFERED, "c": OFFERED}
    assert all("allowance" in (r.error or "") for r in rows(db, second).values())


async def test_a_channel_that_can_push_never_gets_an_offer(tmp_path: Path) -> None:
    class Closed:
        """A sender whose platform says it takes the message only as a reply (which Telegram never does)."""

        channel = "telegram"

        async def start(self) -> None:
            return None

        async def close(self) -> None:
            return None

        async def send(self, due: Due) -> Outcome:
            return Outcome(FAILED, error="no window", pull_only=True)

    with migrated_database("sqlite", tmp_path) as db:
        store = BroadcastStore(db)
        broadcast = store.create("Xin chào", [Recipient("telegram", "1")], "operator")
        await DeliveryEngine(store, [Closed()], MemoryGate(100), EngineSettings()).run_until_idle()
        assert (rows(db, broadcast)["1"].status, rows(db, broadcast)["1"].error) == (FAILED, "no window")
        offers = LessonOffers(SqlOffers(db), desk_of(db, {}).people, {})
        assert offers.pull(UserRef("telegram", "1"), "vi") is None
