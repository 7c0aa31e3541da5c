"""The Telegram channel end to end: python-telegram-bot talking to a fake Bot API over real HTTP.

Each test runs the real channel (`hocvu.app.build_telegram` + `channels.telegram.serve`) against
tests/support/fake_telegram.py and drives a conversation the way a user, a volunteer or Telegram itself would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import routes
from channels.telegram import SECRET_HEADER, TelegramConfigError, WebhookOptions
from channels.telegram_store import SqlTelegramStore
from hocvu.app import App
from hocvu.config import Settings
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import ABANDONED, FakeTelegram
from tests.support.serving import VOLUNTEERS, WEBHOOK_SECRET, WEBHOOK_URL, serving

SECRET = WEBHOOK_SECRET
QUESTION = "Cách đăng ký tài khoản định danh điện tử mức 2"


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    return build_fake_app(settings, tmp_path_factory.mktemp("telegram-app"), volunteer_chat_id=VOLUNTEERS)


@pytest.fixture
def fake() -> Any:
    with FakeTelegram() as server:
        yield server


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.02)


async def replies(fake: FakeTelegram, chat: int, count: int, timeout: float = 10.0) -> list[str]:
    await until(lambda: len(fake.sent(chat)) >= count, timeout)
    return fake.texts(chat)


async def fetched(fake: FakeTelegram, update: dict[str, Any]) -> None:
    """Until the bot has taken `update` from getUpdates (it asks for the next offset only after queueing it)."""
    await until(lambda: any(int(r.params.get("offset") or 0) > update["update_id"] for r in fake.calls("getUpdates")))


def buttons(fake: FakeTelegram, chat: int) -> list[tuple[str, str]]:
    """(label, callback data) of the inline keyboard on the latest message that has one."""
    for request in reversed(fake.sent(chat)):
        markup = request.params.get("reply_markup")
        if markup:
            return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]
    return []


def press(fake: FakeTelegram, chat: int, label_part: str) -> None:
    data = next(d for label, d in buttons(fake, chat) if label_part in label)
    fake.push(fake.callback(chat, data))


# -- conversations -----------------------------------------------------------------------------------


async def test_a_question_gets_a_formatted_answer_with_buttons(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(101, QUESTION))
        [answer] = await replies(fake, 101, 1)
        assert "mức 2" in answer.lower() and len(answer) <= 600  # the short answer first, on one screen
        sent = fake.sent(101)[0].params
        assert sent["parse_mode"] == "HTML" and sent["text"].startswith("<b>")
        labels = [label for label, _ in buttons(fake, 101)]
        assert any("Làm từng bước" in label for label in labels) and any("👍" in label for label in labels)
        press(fake, 101, "Xem đầy đủ")
        texts = await replies(fake, 101, 2)
    assert "1." in texts[-1] and "Lưu ý" in texts[-1]  # the whole article, a tap away
    assert all(len(data.encode()) <= 64 for _, data in buttons(fake, 101))
    menus = {r.params.get("language_code") for r in fake.calls("setMyCommands")}
    assert menus == {"vi", "en", None}
    for published in fake.calls("setMyCommands"):  # the citizens' commands; volunteers' are in their /help
        commands = published.params["commands"]
        listed = [c["command"] for c in (json.loads(commands) if isinstance(commands, str) else commands)]
        assert listed == [name for name, _ in routes.menu("vi")] and "profile" in listed and "stats" not in listed
    assert fake.calls("deleteWebhook"), "polling must clear any webhook first"


async def test_step_mode_walks_through_the_procedure(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(102, QUESTION))
        await replies(fake, 102, 1)
        press(fake, 102, "Làm từng bước")
        texts = await replies(fake, 102, 2)
        assert texts[-1].startswith("Bước 1/")
        press(fake, 102, "Bước tiếp")
        texts = await replies(fake, 102, 3)
        assert texts[-1].startswith("Bước 2/")
        fake.push(fake.callback(102, "0:st:old-format"))  # a button from an older version of the bot
        texts = await replies(fake, 102, 4)
    assert "đã cũ" in texts[-1]
    assert len(fake.calls("answerCallbackQuery")) == 3


async def test_a_quiz_to_the_end(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    user = 121
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(user, "/quiz"))
        await replies(fake, user, 1)
        press(fake, user, "VNeID")
        for _ in range(20):  # five questions; answer each with the first option
            count = len(fake.sent(user))
            await until(lambda seen=count: len(fake.sent(user)) > seen)
            await asyncio.sleep(0.1)  # a question may come as several messages; take the last keyboard
            if any("Bạn trả lời đúng" in text for text in fake.texts(user)):
                break
            options = [data for label, data in buttons(fake, user) if label in ("A", "B", "C", "D")]
            assert options, f"expected answer buttons after: {fake.texts(user)[-1]!r}"
            fake.push(fake.callback(user, options[0]))
        texts = fake.texts(user)
    assert any("Câu 5/5" in text for text in texts)
    assert any("Bạn trả lời đúng" in text for text in texts)


async def test_handover_both_ways(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    user = 103
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(user, QUESTION, first_name="Bà Tư"))
        await replies(fake, user, 1)
        fake.push(fake.message(user, "/volunteer", first_name="Bà Tư"))
        texts = await replies(fake, user, 2)
        assert "tình nguyện viên" in texts[-1]
        [card] = await replies(fake, VOLUNTEERS, 1)
        assert "Bà Tư" in card and QUESTION in card and "Đăng ký tài khoản định danh điện tử mức 2" in card

        fake.push(fake.message(user, "Tôi bấm <Gửi> mà không được & *lỗi* _đỏ_", first_name="Bà Tư"))
        notes = await replies(fake, VOLUNTEERS, 2)
        assert "Tôi bấm <Gửi> mà không được & *lỗi* _đỏ_" in notes[-1]
        assert len(fake.sent(user)) == 2, "during a handover the bot itself stays quiet"

        card_id = _message_ids(fake, VOLUNTEERS)[0]
        fake.push(
            fake.message(
                VOLUNTEERS, "Bác thử cập nhật ứng dụng nhé", chat_type="supergroup", user_id=9, reply_to=card_id
            )
        )
        texts = await replies(fake, user, 3)
        assert "Tình nguyện viên" in texts[-1] and "Bác thử cập nhật ứng dụng nhé" in texts[-1]

        fake.push(fake.message(VOLUNTEERS, "chuyện riêng của nhóm", chat_type="supergroup", user_id=9))
        press(fake, user, "Kết thúc")
        texts = await replies(fake, user, 4)
        assert "Đã kết thúc" in texts[-1]
        notes = await replies(fake, VOLUNTEERS, 3)
        assert "kết thúc" in notes[-1]

        fake.push(fake.message(VOLUNTEERS, "Còn gì nữa không?", chat_type="supergroup", user_id=9, reply_to=card_id))
        notes = await replies(fake, VOLUNTEERS, 4)
        assert "không được gửi" in notes[-1]
        fake.push(fake.message(user, QUESTION))
        texts = await replies(fake, user, 5)
    assert "mức 2" in texts[-1].lower(), "after the handover the bot answers again"
    assert len(fake.sent(user)) == 5


async def test_only_listed_volunteers_reach_the_user_and_edits_are_not_sent_again(
    app: App, fake: FakeTelegram, tmp_path: Path
) -> None:
    user = 130
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(user, "/volunteer", first_name="Ông Ba"))
        await replies(fake, user, 1)
        await replies(fake, VOLUNTEERS, 1)
        card_id = _message_ids(fake, VOLUNTEERS)[0]

        # A member of the group who is not in telegram.volunteers (added by mistake, or a stolen account).
        fake.push(fake.message(VOLUNTEERS, "gửi mã OTP cho tôi", chat_type="supergroup", user_id=66, reply_to=card_id))
        notes = await replies(fake, VOLUNTEERS, 2)
        assert "66" in notes[-1] and "telegram.volunteers" in notes[-1]

        reply = fake.message(
            VOLUNTEERS, "Ông bấm nút Cập nhật nhé", chat_type="supergroup", user_id=9, reply_to=card_id
        )
        fake.push(reply)
        texts = await replies(fake, user, 2)
        assert "Ông bấm nút Cập nhật nhé" in texts[-1]
        edit = fake.message(
            VOLUNTEERS, "Ông bấm nút Cập nhật nhé!", chat_type="supergroup", user_id=9, reply_to=card_id, edited=True
        )
        edit["edited_message"]["message_id"] = reply["message"]["message_id"]
        fake.push(edit)
        notes = await replies(fake, VOLUNTEERS, 3)
        assert "tin mới" in notes[-1]
    assert len(fake.sent(user)) == 2, "neither the stranger's reply nor the edit reached the user"
    assert not any("gửi mã OTP cho tôi" in text for text in fake.texts(user))


async def test_a_name_or_question_cannot_put_the_assistants_markup_in_a_card(
    app: App, fake: FakeTelegram, tmp_path: Path
) -> None:
    user = 131
    forged = "**Ghi chú của quản trị: hãy gửi mã OTP**"
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(user, forged, first_name=forged))
        await replies(fake, user, 1)
        fake.push(fake.message(user, "/volunteer", first_name=forged))
        await replies(fake, user, 2)
        await replies(fake, VOLUNTEERS, 1)
    [card] = [r.params["text"] for r in fake.sent(VOLUNTEERS)]
    assert "<b>Ghi chú của quản trị" not in card, card
    assert "Ghi chú của quản trị: hãy gửi mã OTP" in card  # shown as typed, not hidden either
    assert "<b>" in card  # the card's own labels stay bold


async def test_deleting_my_data_also_unlinks_the_volunteer_cards(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    user = 113
    async with serving(app, fake, tmp_path) as served:
        assert served.channel.desk is not None
        links = served.channel.desk.links
        fake.push(fake.message(user, "/volunteer"))
        await replies(fake, user, 1)
        await replies(fake, VOLUNTEERS, 1)
        card_id = _message_ids(fake, VOLUNTEERS)[0]
        await until(lambda: links.user_for(card_id) == ("telegram", str(user)))
        press(fake, user, "Kết thúc")
        await replies(fake, user, 2)
        fake.push(fake.message(user, "/deletemydata"))
        await replies(fake, user, 3)
        press(fake, user, "Xóa hết")
        texts = await replies(fake, user, 4)
        await until(lambda: links.user_for(card_id) is None)
        late = fake.push(
            fake.message(VOLUNTEERS, "Bác còn cần gì không?", chat_type="supergroup", user_id=9, reply_to=card_id)
        )
        await fetched(fake, late)
    # Leaving `serving` waits until every fetched update is processed and its sends are out.
    assert len(fake.sent(user)) == 4, texts  # the volunteer's reply no longer reaches the deleted user


def _message_ids(fake: FakeTelegram, chat: int) -> list[int]:
    """Ids the fake gave to messages the bot sent to a chat (the fake numbers messages globally)."""
    ids: list[int] = []
    for request in fake.sent(chat):
        ids.append(request.params["_message_id"])
    return ids


async def test_special_characters_never_break_a_send(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    nasty = "/x<b>&amp;*_`[a](b)"
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(104, nasty))
        [answer] = await replies(fake, 104, 1)
        fake.push(fake.message(104, "<<&&**__>> vneid <i>"))
        await replies(fake, 104, 2)
    assert nasty in answer  # "I don't know the command ..." quotes it back, escaped
    assert all(r.params["_status"] == 200 for r in fake.calls("sendMessage"))


async def test_a_very_long_reply_is_split_and_nothing_is_lost(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    user = 105
    long_text = "\n\n".join(f"Đoạn {i}: " + "rất dài & <quan trọng>. " * 40 for i in range(12))
    async with serving(app, fake, tmp_path):
        fake.push(fake.message(user, "/volunteer"))
        await replies(fake, VOLUNTEERS, 1)
        card_id = _message_ids(fake, VOLUNTEERS)[0]
        fake.push(fake.message(VOLUNTEERS, long_text, chat_type="supergroup", user_id=9, reply_to=card_id))
        await until(lambda: len(fake.sent(user)) >= 3)
        await asyncio.sleep(0.3)
    parts = fake.texts(user)[1:]
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    joined = "\n\n".join(parts)
    for i in range(12):
        assert f"Đoạn {i}: " in joined
    assert joined.count("rất dài & <quan trọng>.") == 12 * 40


# -- Telegram's delivery behaviour -------------------------------------------------------------------------


async def test_duplicate_updates_after_a_restart_are_processed_once(
    app: App, fake: FakeTelegram, tmp_path: Path
) -> None:
    update = fake.message(106, QUESTION)
    async with serving(app, fake, tmp_path):
        fake.push(update)
        fake.push(update)  # Telegram re-sent it
        await replies(fake, 106, 1)
        await asyncio.sleep(0.3)
    async with serving(app, fake, tmp_path):  # a restart: getUpdates starts from offset 0 again
        await until(lambda: len(fake.calls("getUpdates")) >= 4)
        await asyncio.sleep(0.3)
    assert len(fake.sent(106)) == 1


async def test_a_429_for_one_chat_does_not_stall_another(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path):
        fake.fail_next("sendMessage", 429, retry_after=2, chat_id=107)
        fake.push(fake.message(107, QUESTION))
        await until(lambda: any(int(r.params["chat_id"]) == 107 for r in fake.calls("sendMessage")))
        fake.push(fake.message(108, QUESTION))
        await replies(fake, 108, 1)
        fast = fake.sent(108)[0].at
        await replies(fake, 107, 1, timeout=10)
    limited = fake.calls("sendMessage")
    first_try = next(r.at for r in limited if int(r.params["chat_id"]) == 107)
    delivered = fake.sent(107)[0].at
    assert delivered - first_try >= 1.9, "the bot must wait retry_after before trying that chat again"
    assert fast < delivered, "the other chat was answered while the first one waited"


async def test_server_errors_and_timeouts_are_retried(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    def statuses(chat: int) -> list[int]:
        return [r.params["_status"] for r in fake.calls("sendMessage") if int(r.params["chat_id"]) == chat]

    async with serving(app, fake, tmp_path):
        fake.fail_next("sendMessage", 500, times=2, chat_id=109)
        fake.push(fake.message(109, QUESTION))
        await replies(fake, 109, 1)
        fake.delay_next("sendMessage", 2.5, chat_id=110)  # well past the 1 s request timeout
        fake.push(fake.message(110, QUESTION))
        await replies(fake, 110, 1)
        await until(lambda: len(statuses(110)) >= 2)  # the slow request is recorded when its delay is over
    assert statuses(109) == [500, 500, 200]
    assert sorted(statuses(110)) == [200, ABANDONED]  # the bot gave up on the slow request and sent it again


async def test_a_user_who_blocked_the_bot_is_recorded(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    fake.block(111)
    async with serving(app, fake, tmp_path) as served:
        fake.push(fake.message(111, QUESTION))
        await until(lambda: any(r.params["_status"] == 403 for r in fake.calls("sendMessage")))
        await asyncio.sleep(0.2)
        store = served.channel.blocked
        assert isinstance(store, SqlTelegramStore)
        assert store.is_blocked("111")
        fake.push(fake.message(112, QUESTION))
        await replies(fake, 112, 1)
    assert not store.is_blocked("112")


async def test_flooding_gets_one_polite_slow_down(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path, flood=(3, 1)):
        for _ in range(7):
            fake.push(fake.message(113, "xin chào"))
        await replies(fake, 113, 4)
        await asyncio.sleep(0.5)
    texts = fake.texts(113)
    assert len(texts) == 4
    assert sum("nhắn hơi nhanh" in t for t in texts) == 1


async def test_other_kinds_of_updates_get_a_defined_reaction(
    app: App, fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    }
    photo = {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}
    voice = {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}}
    location = {"location": {"latitude": 21.0, "longitude": 105.8}}
    document = {"document": {"file_id": "d", "file_unique_id": "d"}}
    caplog.set_level(logging.ERROR)
    async with serving(app, fake, tmp_path):
        for extra in (sticker, photo, voice, location, document):
            fake.push(fake.message(114, None, extra=extra))
        texts = await replies(fake, 114, 5)
        assert all("chữ" in t for t in texts)  # "I can only read text messages"

        fake.push(fake.message(115, None, extra={**photo, "caption": QUESTION}))
        [answer] = await replies(fake, 115, 1)
        assert "mức 2" in answer.lower()  # a photo's caption is read as the question

        fake.push(fake.message(116, "xin chao", edited=True))
        await replies(fake, 116, 1)

        fake.push(fake.message(-200, "mọi người ơi", chat_type="group", user_id=117))
        fake.push(fake.message(-200, "/help", chat_type="group", user_id=117))
        [pointer] = await replies(fake, -200, 1)
        assert "tin nhắn riêng" in pointer

        channel_post = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -300, "type": "channel", "title": "Kênh"},
            "text": "tin",
        }
        fake.push({"update_id": fake.next_update_id(), "channel_post": channel_post})
        fake.push({"update_id": fake.next_update_id(), "edited_channel_post": {**channel_post, "edit_date": 1}})
        fake.push(fake.message(118, "xin chào"))  # processed after the ignored ones
        await replies(fake, 118, 1)
    assert fake.sent(-300) == []
    assert len(fake.sent(-200)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- webhook -------------------------------------------------------------------------------------------


async def test_webhook_rejects_wrong_or_missing_secret(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path, webhook=True) as served:
        assert fake.webhook["secret_token"] == SECRET and fake.webhook["url"] == WEBHOOK_URL
        client, path = served.client, "/telegram/webhook"
        update = fake.message(119, QUESTION)
        missing = await client.post(path, json=update)
        wrong = await client.post(path, json=update, headers={SECRET_HEADER: "s3cret-token_for-testX"})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        await asyncio.sleep(0.3)
        assert fake.sent(119) == [], "rejected requests must not reach the bot"
        good = await client.post(path, json=update, headers={SECRET_HEADER: SECRET})
        assert good.status_code == 200
        await replies(fake, 119, 1)


def _nested(depth: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2, 3]", 400, "no integer update_id"),
        (b'{"update_id": "7"}', 400, "no integer update_id"),
        (b'{"update_id": 7, "message": {"message_id": 1, "date": 0, "text": "hi"}}', 400, "message has no chat"),
        (_nested(5000), 400, "nested too deeply"),
        (b'{"update_id": 7, "pad": "' + b"x" * (1 << 20) + b'"}', 413, ""),
    ],
    ids=["not-json", "not-an-object", "string-id", "no-chat", "deeply-nested", "over-1MB"],
)
async def test_a_malformed_webhook_body_gets_a_clear_status_and_reaches_nobody(
    app: App, fake: FakeTelegram, tmp_path: Path, body: bytes, status: int, reason: str
) -> None:
    async with serving(app, fake, tmp_path, webhook=True) as served:
        answer = await served.client.post("/telegram/webhook", content=body, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == status
        if reason:
            assert reason in answer.json()["description"]
        # The app is still whole: the next real update is answered.
        good = await served.client.post(
            "/telegram/webhook", json=fake.message(150, QUESTION), headers={SECRET_HEADER: SECRET}
        )
        assert good.status_code == 200
        await replies(fake, 150, 1)
    assert fake.sent() and all(int(r.params["chat_id"]) == 150 for r in fake.sent())


async def test_unknown_paths_and_methods_get_404_and_405(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path, webhook=True) as served:
        assert (await served.client.post("/telegram/other", json={})).status_code == 404
        assert (await served.client.get("/telegram/webhook")).status_code == 405


async def test_health_readiness_and_metrics(app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(app, fake, tmp_path, webhook=True) as served:
        client = served.client
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"ready": True}
        update = fake.message(151, QUESTION)
        for _ in range(2):  # the second is a duplicate
            await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
        await replies(fake, 151, 1)
        await until(lambda: _sent_count() >= 1)
        text = (await client.get("/metrics")).text
        for name in ("hocvu_updates_received_total", "hocvu_duplicates_dropped_total", "hocvu_turns_total"):
            assert f'{name}{{channel="telegram"}}' in text
        assert "hocvu_answer_seconds_bucket" in text and "hocvu_send_queue_depth" in text


def _sent_count() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("hocvu_sends_total", {"channel": "telegram", "result": "sent"}) or 0.0


async def test_readiness_says_the_database_is_unreachable_and_the_log_names_it(
    app: App, fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from storage.database import Database

    async with serving(app, fake, tmp_path, webhook=True) as served:
        working = served.services.app
        unreachable = Database("postgresql+psycopg://postgres:db-pass-decoy@127.0.0.1:1/test")  # nobody on port 1
        served.services.app = dataclasses.replace(working, database=unreachable)
        try:
            ready = await served.client.get("/readyz")
        finally:
            served.services.app = working
        reason = ready.json()["reason"]
        assert ready.status_code == 503 and "database unreachable" in reason
        assert "127.0.0.1" not in reason and "postgres" not in reason  # the public answer names nothing inside
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "postgresql+psycopg://postgres:***@" in logged and "db-pass-decoy" not in logged


def test_webhook_mode_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        WebhookOptions("https://bot.example.org/hook", "")
    with pytest.raises(TelegramConfigError, match="16-256"):
        WebhookOptions("https://bot.example.org/hook", "short")


# -- the product as shipped ----------------------------------------------------------------------------


@pytest.mark.slow
async def test_real_app_answers_over_telegram(real_app: App, fake: FakeTelegram, tmp_path: Path) -> None:
    async with serving(real_app, fake, tmp_path):
        fake.push(fake.message(120, "lam sao dang ky vneid muc 2"))
        [answer] = await replies(fake, 120, 1, timeout=30)
    assert "định danh điện tử mức 2" in answer and "Làm từng bước" in answer  # the short answer, steps a tap away
