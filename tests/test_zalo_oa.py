"""The Zalo OA channel end to end: signed events into the web app's webhook route, replies out to a fake
Zalo (OA API v3 and OAuth v4) over real HTTP on 127.0.0.1 (tests/support/fake_zalo.py).

What a user receives is read back from the fake, never from the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from bot.broadcasts import Draft, Segment
from bot.learning import UserRef
from bot.messages import Button, Reply, Response
from channels.broadcast import DeliveryEngine, MemoryGate
from channels.broadcast_store import BroadcastStore
from channels.broadcast_zalo import ZaloOaBroadcastSender
from channels.inbox import SqlInbox
from channels.runner import Runner
from channels.zalo_oa import CHANNEL, ZaloOaChannel, event_key
from channels.zalo_oa_api import ZaloOaApi
from channels.zalo_oa_auth import ZaloTokens
from channels.zalo_oa_render import MAX_TEXT, render, split_text
from channels.zalo_oa_store import now
from hocvu.app import App, build_app
from hocvu.config import Settings
from hocvu.web import Services, create_app
from storage.database import Database
from storage.models import ZaloOaUser
from storage.people_store import SqlPeopleStore
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.fake_zalo import (
    ABANDONED,
    APP_ID,
    APP_SECRET,
    OA_SECRET_KEY,
    SEND_PATH,
    FakeZalo,
    follow_event,
    message_event,
    signed,
)
from tests.support.fakes import FakeEmbedder
from tests.support.learning_support import migrated_database
from tests.test_broadcast import drain
from tests.test_broadcast_plans import ADMIN_KEY, Clock, desk_of

WEBHOOK = "/zalo/oa/webhook"
QUESTION = "Cách đăng ký tài khoản định danh điện tử mức 2"
_CHOICE = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    return build_fake_app(settings, tmp_path_factory.mktemp("zalo-app"), volunteer_chat_id=None)


@pytest.fixture
def fake() -> Any:
    with FakeZalo() as server:
        yield server


@dataclass
class Served:
    web: Starlette
    services: Services
    client: httpx.AsyncClient
    inbox: SqlInbox  # the channel's inbox, read as another worker would: pending until the replies were sent

    @property
    def channel(self) -> ZaloOaChannel:
        assert self.services.zalo_oa is not None
        return self.services.zalo_oa

    @property
    def runner(self) -> Runner:
        return self.services.runner

    async def post(self, event: dict[str, Any] | bytes, *, secret: str = OA_SECRET_KEY) -> httpx.Response:
        body, headers = signed(event, secret)
        return await self.client.post(WEBHOOK, content=body, headers=headers)


def zalo_secrets(fake: FakeZalo | None) -> dict[str, str]:
    return {
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        "ZALO_OA_ACCESS_TOKEN": fake.access_token if fake else "",
        "ZALO_OA_REFRESH_TOKEN": fake.refresh_token if fake else "",
    }


@contextlib.asynccontextmanager
async def running(
    app: App,
    fake: FakeZalo,
    data_dir: Path,
    *,
    choices: str = "buttons",
    telegram: FakeTelegram | None = None,
    monthly_allowance: int = 0,
    inbox_lease: float | None = None,
) -> AsyncIterator[Served]:
    """The web app with the Zalo OA configured (and Telegram, polling, when given), on a database of the
    test's own (the channels' tables and inboxes; the core's state stays in the module's app, so each test
    uses users of its own)."""
    settings = app.settings
    zalo = dataclasses.replace(
        settings.zalo_oa,
        api_base_url=fake.base_url,
        oauth_base_url=fake.base_url,
        choices=choices,
        monthly_allowance=monthly_allowance,
        request_timeout=2.0,
    )
    secrets = zalo_secrets(fake)
    tg = settings.telegram
    if telegram is not None:
        secrets["TELEGRAM_BOT_TOKEN"] = TOKEN
        tg = dataclasses.replace(tg, base_url=telegram.base_url, webhook_url="", volunteers=(9,))
    server = dataclasses.replace(settings.server, inbox_lease=inbox_lease or settings.server.inbox_lease)
    served_settings = dataclasses.replace(
        settings, data_dir=data_dir, zalo_oa=zalo, telegram=tg, server=server, secrets=secrets
    )
    product = dataclasses.replace(app, settings=served_settings, database=None)
    web = create_app(served_settings, app=product, request_timeout=2.0)
    async with web.router.lifespan_context(web):
        services: Services = web.state.services
        assert services.zalo_oa is not None and (services.telegram is None) == (telegram is None)
        services.zalo_oa.api.base_delay = 0.05  # keep retry back-off short in tests
        inbox = SqlInbox(Database(served_settings.database_url), services.zalo_oa.source)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://hocvu.test") as client:
            try:
                yield Served(web, services, client, inbox)
            finally:
                inbox.db.engine.dispose()


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the assistant")
        await asyncio.sleep(0.02)


def unreachable(served: Served, user: str) -> str | None:
    """Why the channel will not send to the user, as it recorded it."""
    follower = served.channel.store.follower(user)
    return follower.unreachable_reason if follower is not None else None


async def settled(served: Served) -> None:
    """Until every stored event is done, so every reply to it was sent (or given up on)."""
    await until(lambda: served.inbox.pending() == 0)


async def ask(served: Served, fake: FakeZalo, user: str, text: str) -> list[str]:
    """Send a text and wait until it was answered; the texts the user has received so far."""
    answer = await served.post(message_event(fake, user, text))
    assert answer.status_code == 200, answer.text
    await settled(served)
    return fake.texts(user)


def number_for(text: str, label_part: str) -> str:
    """The number the user types for the choice whose label contains `label_part`."""
    for number, label in _CHOICE.findall(text):
        if label_part in label:
            return str(number)
    raise AssertionError(f"no choice {label_part!r} in {text!r}")


# -- the webhook's door -------------------------------------------------------------------------------


async def test_a_signed_event_is_answered_and_forged_or_replayed_ones_are_refused(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9001"
    async with running(app, fake, tmp_path) as served:
        wrong = await served.post(message_event(fake, user, "xin chào"), secret="not-the-oa-secret")
        body, headers = signed(message_event(fake, user, "xin chào"))
        altered = await served.client.post(WEBHOOK, content=body.replace("chào".encode(), b"chao"), headers=headers)
        unsigned = await served.client.post(WEBHOOK, content=body)
        old = message_event(fake, user, "xin chào", timestamp=str(int((time.time() - 4 * 3600) * 1000)))
        replayed = await served.post(old)
        endless = await served.post(message_event(fake, user, "xin chào", timestamp="9" * 5000))
        other_app = dict(message_event(fake, user, "xin chào"), app_id="123")
        foreign = await served.post(other_app)
        _, json_headers = signed(message_event(fake, user, "x"))
        broken = await served.client.post(WEBHOOK, content=b"{not json", headers=json_headers)
        no_sender = message_event(fake, user, "x")
        del no_sender["sender"]
        missing = await served.post(no_sender)
        wrong_type = message_event(fake, user, "x")
        wrong_type["message"]["text"] = ["không phải chữ"]
        mistyped = await served.post(wrong_type)
        # The barrier: when this one is answered, any refused event would have been answered before it.
        texts = await ask(served, fake, user, "cảm ơn")
    assert [r.status_code for r in (wrong, altered, unsigned, replayed, foreign)] == [403] * 5
    assert "signature" in wrong.json()["reason"] and "window" in replayed.json()["reason"]
    assert endless.status_code == 403 and "window" in endless.json()["reason"]
    assert broken.status_code == 400 and "not JSON" in broken.json()["reason"]
    assert missing.status_code == 400 and "sender.id" in missing.json()["reason"]
    assert mistyped.status_code == 400 and "message.text" in mistyped.json()["reason"]
    assert texts == ["Không có gì ạ! Bạn còn muốn hỏi gì nữa không?"]


async def test_a_duplicated_event_is_answered_once(app: App, fake: FakeZalo, tmp_path: Path) -> None:
    user = "9002"
    event = message_event(fake, user, QUESTION)
    async with running(app, fake, tmp_path) as served:
        first = await served.post(event)
        await settled(served)
        answered = len(fake.sent(user))
        again = await served.post(event)
        texts = await ask(served, fake, user, "cảm ơn")
    assert first.status_code == again.status_code == 200
    assert len(texts) == answered + 1 and "Không có gì" in texts[-1], "the repeated msg_id got no second answer"


async def test_an_event_acknowledged_before_a_crash_is_answered_once_after_the_restart(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9004"
    database = Database(f"sqlite:///{tmp_path / 'hocvu.db'}")
    database.upgrade(quiet=True)
    event = message_event(fake, user, "cảm ơn")
    # What a worker killed (kill -9) after its 200 leaves behind: the event stored and leased, never done.
    assert SqlInbox(database, f"zalo_oa:{APP_ID}", lease=0.5).put(event_key(event), json.dumps(event))
    database.engine.dispose()
    async with running(app, fake, tmp_path, inbox_lease=0.5) as served:
        await settled(served)  # the restarted worker's sweep takes it over once its lease ran out
        again = await served.post(event)  # Zalo, unsure, sends it again
        texts = await ask(served, fake, user, "xin chào")
    assert again.status_code == 200
    assert texts[0] == "Không có gì ạ! Bạn còn muốn hỏi gì nữa không?" and len(texts) == 2, "answered exactly once"


async def test_receipts_echoes_and_unknown_events_get_200_and_no_reply(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9003"
    seen = dict(message_event(None, user, ""), event_name="user_seen_message")
    echo = dict(message_event(None, user, "tin của OA"), event_name="oa_send_text")
    unknown = dict(message_event(None, user, "?"), event_name="user_did_something_new")
    async with running(app, fake, tmp_path) as served:
        answers = [await served.post(event) for event in (seen, echo, unknown)]
        texts = await ask(served, fake, user, "cảm ơn")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(texts) == 1


# -- conversations ------------------------------------------------------------------------------------


async def test_an_answer_with_numbered_choices_then_step_mode_by_typed_numbers(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9010"
    async with running(app, fake, tmp_path) as served:
        texts = await ask(served, fake, user, QUESTION)
        assert "mức 2" in texts[0].lower() and not any("**" in text for text in texts)
        assert "Gõ số để chọn" in texts[-1]
        for request in fake.sent(user):  # replies name the user's message (Zalo's reply quota)
            assert fake.inbound[request.body["recipient"]["message_id"]] == user
        buttons = fake.sent(user)[-1].body["message"]["attachment"]["payload"]["buttons"]
        assert buttons and all(b["type"] == "oa.query.show" and b["payload"].isdigit() for b in buttons)
        texts = await ask(served, fake, user, number_for(texts[-1], "Làm từng bước"))
        assert texts[-1].startswith("Bước 1/")
        texts = await ask(served, fake, user, number_for(texts[-1], "Bước tiếp"))
        assert texts[-1].startswith("Bước 2/")


async def test_a_quiz_to_its_end_by_typed_numbers(app: App, fake: FakeZalo, tmp_path: Path) -> None:
    user = "9011"
    async with running(app, fake, tmp_path) as served:
        texts = await ask(served, fake, user, "/quiz")
        await served.post(message_event(fake, user, number_for(texts[-1], "VNeID")))
        for _ in range(12):
            seen = len(fake.sent(user))

            def question_or_end(seen: int = seen) -> bool:
                new = fake.texts(user)[seen:]
                return any(re.search(r"^\d+\. [A-D]$", t, re.MULTILINE) or "Bạn trả lời đúng" in t for t in new)

            await until(question_or_end)
            if any("Bạn trả lời đúng" in t for t in fake.texts(user)):
                break
            await served.post(message_event(fake, user, number_for(fake.texts(user)[-1], "A")))
        texts = fake.texts(user)
    assert any("Câu 5/5" in text for text in texts)
    assert any("Bạn trả lời đúng" in text for text in texts)


async def test_follow_welcomes_unfollow_stops_sending_and_non_text_is_explained(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9012"
    async with running(app, fake, tmp_path) as served:
        assert (await served.post(follow_event(user))).status_code == 200
        await settled(served)
        welcome = fake.texts(user)[0]
        assert "Bình dân học vụ số" in welcome and "VNeID" in welcome
        assert (await served.post(message_event(fake, user, event="user_send_sticker"))).status_code == 200
        await settled(served)
        texts = fake.texts(user)
        assert "chỉ đọc được tin nhắn chữ" in texts[-1]
        assert (await served.post(follow_event(user, "unfollow"))).status_code == 200
        await until(lambda: unreachable(served, user) == "unfollowed")
        await served.channel.deliver(user, Response([Reply(text="tin chủ động")], "vi"))
    assert fake.texts(user) == texts, "nothing is sent to a user who unfollowed"


VOLUNTEERS = -100500


@pytest.fixture(scope="module")
def desk_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    """The product where the Telegram volunteers' group is configured and Zalo is on: Zalo users may ask for a person."""
    telegram = dataclasses.replace(settings.telegram, volunteer_chat_id=VOLUNTEERS)
    data_dir = tmp_path_factory.mktemp("zalo-desk-app")
    configured = dataclasses.replace(settings, data_dir=data_dir, telegram=telegram, secrets=zalo_secrets(None))
    return build_app(configured, embedder=FakeEmbedder())


async def test_a_zalo_user_reaches_the_volunteers_and_gets_their_answer(
    desk_app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9030"
    with FakeTelegram() as telegram:
        async with running(desk_app, fake, tmp_path, telegram=telegram) as served:
            await ask(served, fake, user, QUESTION)
            texts = await ask(served, fake, user, "/volunteer")
            assert "tình nguyện viên" in texts[-1]
            [card] = telegram.wait_sent(VOLUNTEERS, 1)
            assert "Yêu cầu hỗ trợ" in card and QUESTION in card
            card_id = telegram.sent(VOLUNTEERS)[0].params["_message_id"]
            telegram.push(
                telegram.message(
                    VOLUNTEERS, "Bác mở ứng dụng VNeID nhé", chat_type="supergroup", user_id=9, reply_to=card_id
                )
            )
            await until(lambda: any("Bác mở ứng dụng VNeID nhé" in text for text in fake.texts(user)))
            answer = fake.sent(user)[-1].body
    assert "Tình nguyện viên" in answer["message"]["text"]
    assert fake.inbound[answer["recipient"]["message_id"]] == user, "within 48 h it replies to the user's message"


# -- sending: tokens, templates, windows, errors ------------------------------------------------------


async def test_an_expired_token_is_refreshed_once_and_the_reply_still_arrives(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9020"
    async with running(app, fake, tmp_path) as served:
        await ask(served, fake, user, "xin chào")  # the seeded pair's age is unknown: refreshed before the send
        assert len(fake.refreshes()) == 1
        fake.expire()  # Zalo expires the token mid-conversation
        texts = await ask(served, fake, user, QUESTION)
    errors = [r.answer["error"] for r in fake.calls(SEND_PATH)]
    assert len(fake.refreshes()) == 2 and errors.count(-220) == 1
    assert errors[errors.index(-220) + 1] == 0 and "mức 2" in texts[1].lower(), "the refused message went again"
    assert len(texts) == errors.count(0), "nothing was sent twice"


async def test_a_refused_template_is_resent_as_numbered_text_and_remembered(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9021"
    fake.refuse_buttons = True
    async with running(app, fake, tmp_path) as served:
        texts = await ask(served, fake, user, QUESTION)
        texts = await ask(served, fake, user, number_for(texts[-1], "Làm từng bước"))
        assert served.channel.store.templates_refused()
    attempts = [r.body["message"] for r in fake.calls(SEND_PATH)]
    first = next(i for i, message in enumerate(attempts) if "attachment" in message)
    assert attempts[first + 1] == {"text": attempts[first]["text"]}, "resent at once as numbered text"
    assert all("attachment" not in message for message in attempts[first + 1 :]), "the refusal is remembered"
    assert texts[-1].startswith("Bước 1/") and "Gõ số để chọn" in texts[-1]


async def test_after_seven_days_without_interaction_nothing_is_sent(app: App, fake: FakeZalo, tmp_path: Path) -> None:
    user = "9022"
    async with running(app, fake, tmp_path) as served:
        before = len(await ask(served, fake, user, "xin chào"))
        store = served.channel.store
        with store.db.session() as session:
            session.execute(
                update(ZaloOaUser)
                .where(ZaloOaUser.user_id == user)
                .values(last_interaction_at=now() - timedelta(days=8))
            )
        chosen = store.follower(user)
        unseen = Reply(text="Bài tiếp theo", buttons=((Button("Tiếp", "lesson:next"),),))
        await served.channel.deliver(user, Response([unseen], "vi"))
        assert len(fake.sent(user)) == before, "refused before Zalo could answer -230"
        after = store.follower(user)
        assert chosen is not None and after is not None
        assert after.choices == chosen.choices, "a choice the user never saw cannot be typed"
        texts = await ask(served, fake, user, "cảm ơn")  # writing again opens the window
    assert "Không có gì" in texts[-1]


async def test_the_monthly_allowance_stops_messages_that_reply_to_nothing(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    user = "9025"
    async with running(app, fake, tmp_path, monthly_allowance=2) as served:
        await served.post(follow_event(user))
        await settled(served)
        welcome = fake.texts(user)
        assert len(welcome) == 2 and all(
            "recipient" in r.body and "user_id" in r.body["recipient"] for r in fake.sent(user)
        )
        await served.channel.deliver(user, Response([Reply(text="Bài tiếp theo")], "vi"))
        assert fake.texts(user) == welcome, "the month's allowance is used up"
        texts = await ask(served, fake, user, "cảm ơn")  # a reply to the user's message is not counted
        assert served.channel.store.proactive_this_month() == 2
    assert "Không có gì" in texts[-1]


async def offered(app: App, served: Served, fake: FakeZalo, user: str, lesson_ids: list[str]) -> list[int]:
    """Lesson broadcasts to a subscriber whose Zalo window closed 8 days ago, through the real engine and sender:
    the broadcasts' ids."""
    assert app.database is not None and app.assistant.tutor is not None
    lessons = app.assistant.tutor.lessons
    SqlPeopleStore(app.database).subscribe(UserRef(CHANNEL, user), lessons[lesson_ids[0]].topic, datetime.now(UTC))
    served.channel.store.interacted(user, None, at=now() - timedelta(days=8))
    desk = desk_of(app.database, lessons, Clock(datetime.now(UTC)))
    api = ZaloOaApi(fake.base_url, served.channel.api.tokens, timeout=2.0)
    engine = DeliveryEngine(
        BroadcastStore(app.database), [ZaloOaBroadcastSender(api, served.channel.store)], MemoryGate(100)
    )
    runs = []
    await api.start()
    try:
        for lesson_id in lesson_ids:
            runs.append(desk.create(Draft(ADMIN_KEY, Segment(channels=(CHANNEL,)), lesson_id=lesson_id)).runs[0])
            await drain(engine)
    finally:
        await api.close()
    return runs


async def test_lessons_zalo_could_not_push_are_offered_when_the_user_writes_and_pulled_as_replies(
    app: App, fake: FakeZalo, tmp_path: Path
) -> None:
    """Two lesson broadcasts find the user's window closed: offered, not sent; "chào" brings the notice; "bai tiep
    theo" typed without diacritics, then the button's number, bring each lesson as a reply, oldest first; the
    report counts them pulled; a later message offers nothing again."""
    user = "9030"
    assert app.database is not None and app.assistant.tutor is not None
    lessons = app.assistant.tutor.lessons
    first_lesson, second_lesson = lessons["lesson-safe-01"], lessons["lesson-safe-02"]
    desk = desk_of(app.database, lessons)
    async with running(app, fake, tmp_path) as served:
        runs = await offered(app, served, fake, user, [first_lesson.id, second_lesson.id])
        assert fake.texts(user) == [], "nothing could be pushed"
        assert [desk.report(run).counts["offered"] for run in runs] == [1, 1]

        texts = await ask(served, fake, user, "chào")
        assert "Có 2 bài mới" in texts[-1] and "Bài tiếp theo" in texts[-1]
        seen = len(texts)
        texts = await ask(served, fake, user, "bai tiep theo")
        assert first_lesson.text("vi").title in texts[seen] and "/quiz lesson-safe-01" in texts[seen]
        assert "Còn 1 bài đang chờ" in texts[-1]
        for request in fake.sent(user):  # every one a reply to the user's message: within Zalo's free quota
            assert fake.inbound[request.body["recipient"]["message_id"]] == user
        seen = len(texts)
        texts = await ask(served, fake, user, number_for(texts[-1], "Bài tiếp theo"))  # the button
        assert second_lesson.text("vi").title in texts[seen] and "Bài tiếp theo" not in "".join(texts[seen:])
        seen = len(texts)
        texts = await ask(served, fake, user, "cảm ơn")
        assert texts[seen:] == ["Không có gì ạ! Bạn còn muốn hỏi gì nữa không?"], "nothing offered twice"
        texts = await ask(served, fake, user, "bài tiếp theo")
        assert texts[-1] == "Hiện không có bài học mới nào đang chờ bạn. Khi có, tôi sẽ báo lúc bạn nhắn tin."
    for run in runs:
        report = desk.report(run)
        assert (report.counts["sent"], report.counts["offered"], report.pulled) == (1, 0, 1)


async def test_a_user_who_says_dung_gets_no_offer(app: App, fake: FakeZalo, tmp_path: Path) -> None:
    user = "9031"
    assert app.database is not None
    async with running(app, fake, tmp_path) as served:
        [run] = await offered(app, served, fake, user, ["lesson-safe-01"])
        texts = await ask(served, fake, user, "DỪNG")
        assert "Bài tiếp theo" not in texts[-1]
        texts = await ask(served, fake, user, "chào")
        assert "Bài tiếp theo" not in texts[-1]
    report = desk_of(app.database, {}).report(run)
    assert (report.counts["offered"], report.counts["cancelled"], report.counts["sent"]) == (0, 1, 0)


async def test_zalo_errors_are_retried_or_recorded_as_they_ask(app: App, fake: FakeZalo, tmp_path: Path) -> None:
    user, closed = "9023", "9024"
    async with running(app, fake, tmp_path) as served:
        before = len(await ask(served, fake, user, "xin chào"))
        served.channel.api.timeout = 0.5
        fake.fail_next(SEND_PATH, status=500)
        fake.fail_next(SEND_PATH, error=-32)  # rate limited, with HTTP 200
        fake.fail_next(SEND_PATH, delay=1.5)  # no answer in time
        await ask(served, fake, user, "cảm ơn")
        await until(lambda: any(r.status == ABANDONED for r in fake.calls(SEND_PATH)))  # the timed-out one
        texts = fake.texts(user)
        assert texts[before:] == ["Không có gì ạ! Bạn còn muốn hỏi gì nữa không?"], "retried; arrives once"
        fake.closed_users[closed] = -230
        await served.post(message_event(fake, closed, "xin chào"))
        await until(lambda: unreachable(served, closed) == "zalo error -230")
        sends = len(fake.calls(SEND_PATH))
        await served.channel.deliver(closed, Response([Reply(text="thử lại")], "vi"))
        assert len(fake.calls(SEND_PATH)) == sends, "a user Zalo refused is not tried again until they write"
        fake.fail_next(SEND_PATH, error=-224)  # a configuration error stops the channel
        await served.channel.deliver(user, Response([Reply(text="một"), Reply(text="hai")], "vi"))
        assert served.channel.stopped is not None and "-224" in served.channel.stopped
        ready = await served.client.get("/readyz")
        assert ready.status_code == 200 and "-224" in ready.json()["stopped"]["zalo_oa"], "the operator can see why"
        assert 'hocvu_channel_stopped{channel="zalo_oa"} 1.0' in (await served.client.get("/metrics")).text
    assert len(fake.sent(user)) == before + 1, "after a configuration error nothing more is tried"


# -- tokens under two workers ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_two_workers_refreshing_at_once_refresh_once(kind: str, fake: FakeZalo, tmp_path: Path) -> None:
    fake.oauth_delay = 0.3  # the first refresh is still at Zalo when the second worker wants one
    with migrated_database(kind, tmp_path) as db:
        second_db = Database(db.url)
        try:
            workers = [
                ZaloTokens(database, APP_ID, APP_SECRET, fake.base_url, margin=3600, timeout=5.0)
                for database in (db, second_db)
            ]
            assert workers[0].seed(fake.access_token, fake.refresh_token)
            assert not workers[1].seed("stale", "stale"), "the stored pair wins over the environment"
            tokens = await asyncio.gather(*(worker.access_token() for worker in workers))
        finally:
            second_db.engine.dispose()
    assert len(fake.refreshes()) == 1
    assert tokens == [fake.access_token, fake.access_token]


async def test_an_oauth_error_with_http_200_keeps_the_old_pair(
    fake: FakeZalo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.oauth_error = {"error": -14014, "error_description": "Invalid refresh token"}
    with migrated_database("sqlite", tmp_path) as db:
        tokens = ZaloTokens(db, APP_ID, APP_SECRET, fake.base_url, margin=3600, timeout=5.0)
        tokens.seed("access-old", "refresh-old")
        with caplog.at_level(logging.ERROR):
            token = await tokens.access_token()
            again = await tokens.access_token()  # not refreshed again at once
    assert token == again == "access-old"
    assert len(fake.refreshes()) == 1
    assert "ZALO OA TOKEN REFRESH FAILED" in caplog.text and "-14014" in caplog.text


# -- rendering ----------------------------------------------------------------------------------------------


def test_long_text_is_split_at_paragraphs_and_sentences_within_zalo_limit() -> None:
    paragraph = "Bạn mở ứng dụng VNeID. " * 60  # one paragraph of ~1,400 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    parts = split_text(text)
    assert all(len(part) <= MAX_TEXT for part in parts) and len(parts) >= 3
    assert all(part.endswith(".") for part in parts), "cut at a sentence end, never mid-word"
    reply = Reply(text="x", buttons=((Button("Một " * 40, "1:a"), *(Button(str(n), f"1:{n}") for n in range(6))),))
    rendered = render([reply], "vi", buttons=True)
    [message] = rendered.messages
    assert len(rendered.choices) == 7 and "7. 5" in message.text, "every choice is numbered text"
    assert len(message.buttons) == 5 and all(len(title) <= 100 for title, _ in message.buttons)
    assert json.dumps(message.buttons)


# -- the first authorisation ----------------------------------------------------------------------------------


class _Admin:
    """The OA admin at the terminal: opens the consent address `hocvu zalo auth` printed, allows the app, and
    pastes the address Zalo sent them to (with `state` replaced when `forged`)."""

    def __init__(self, fake: FakeZalo, stdout: io.StringIO, *, forged: bool = False) -> None:
        self.fake, self.stdout, self.forged = fake, stdout, forged

    def readline(self) -> str:
        url = re.search(r"https?://\S+/v4/oa/permission\?\S+", self.stdout.getvalue())
        assert url is not None, self.stdout.getvalue()
        query = parse_qs(urlsplit(url.group(0)).query)
        assert query["app_id"] == [APP_ID]
        self.fake.codes["code-1"] = query["code_challenge"][0]  # Zalo remembers the challenge with the code
        state = "someone-else" if self.forged else query["state"][0]
        return f"https://hocvu.example.org/zalo/callback?code=code-1&state={state}\n"


@pytest.mark.parametrize("forged", [False, True])
def test_hocvu_zalo_auth_stores_the_first_pair(
    forged: bool, fake: FakeZalo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hocvu.cli import main

    config = tmp_path / "config.yml"
    config.write_text(f"data_dir: {tmp_path / 'var'}\nzalo_oa:\n  oauth_base_url: {fake.base_url}\n")
    for name, value in zalo_secrets(None).items():
        monkeypatch.setenv(name, value)
    stdout = io.StringIO()
    code = main(
        ["--config", str(config), "zalo", "auth", "--redirect-uri", "https://hocvu.example.org/zalo/callback"],
        stdin=_Admin(fake, stdout, forged=forged),  # type: ignore[arg-type]
        stdout=stdout,
    )
    if forged:
        assert code == 1 and "state" in capsys.readouterr().err
        assert not fake.refreshes(), "a forged answer never reaches Zalo"
        return
    assert code == 0 and "authorised" in stdout.getvalue()
    db = Database(f"sqlite:///{tmp_path / 'var' / 'hocvu.db'}")
    tokens = ZaloTokens(db, APP_ID, APP_SECRET, fake.base_url, margin=3600, timeout=5.0)
    assert asyncio.run(tokens.access_token()) == fake.access_token == "access-1"
    assert len(fake.refreshes()) == 1, "the authorisation was the only call: the stored pair is fresh"
    db.engine.dispose()


def test_hocvu_serve_refuses_a_zalo_oa_without_its_app_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hocvu.cli import main

    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_APP_SECRET", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZALO_APP_ID", APP_ID)
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", OA_SECRET_KEY)
    assert main(["serve"]) == 2
    assert "ZALO_APP_SECRET" in capsys.readouterr().err
