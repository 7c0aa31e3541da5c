"""The Zalo Bot channel end to end: updates into the web app's webhook route (or handed out by getUpdates),
replies out to a fake Zalo Bot API over real HTTP on 127.0.0.1 (tests/support/fake_zalo_bot.py).

What a user receives is read back from the fake, never from the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from channels.inbox import SqlInbox
from channels.runner import Runner
from channels.zalo_bot import SECRET_HEADER, WebhookOptions, ZaloBotChannel, event_key, register
from channels.zalo_bot_api import ZaloBotApi
from hocvu.app import App, build_app
from hocvu.config import Settings
from hocvu.web import Services, create_app
from storage.database import Database
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_zalo_bot import ABANDONED, BOT_ID, SECRET, TOKEN, FakeZaloBot, text_update, update
from tests.support.fakes import FakeEmbedder

WEBHOOK = "/zalo/bot/webhook"
WEBHOOK_URL = "https://bot.example.org/zalo/bot/webhook"
QUESTION = "Cách đăng ký tài khoản định danh điện tử mức 2"
THANKS = "Không có gì ạ! Bạn còn muốn hỏi gì nữa không?"
NON_TEXT = "chỉ đọc được tin nhắn chữ"
_CHOICE = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    return build_fake_app(settings, tmp_path_factory.mktemp("zalo-bot-app"), volunteer_chat_id=None)


@pytest.fixture
def fake() -> Any:
    with FakeZaloBot() as server:
        yield server


@dataclass
class Served:
    web: Starlette
    services: Services
    client: httpx.AsyncClient
    inbox: SqlInbox  # the channel's inbox, read as another worker would: pending until the replies were sent

    @property
    def channel(self) -> ZaloBotChannel:
        assert self.services.zalo_bot is not None
        return self.services.zalo_bot

    @property
    def runner(self) -> Runner:
        return self.services.runner

    async def post(self, body: dict[str, Any] | bytes, *, secret: str | None = SECRET) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return await self.client.post(WEBHOOK, content=content, headers=headers)


def bot_secrets() -> dict[str, str]:
    return {"ZALO_BOT_TOKEN": TOKEN, "ZALO_BOT_WEBHOOK_SECRET": SECRET}


@contextlib.asynccontextmanager
async def running(
    app: App,
    fake: FakeZaloBot,
    data_dir: Path,
    *,
    webhook: bool = True,
    telegram: FakeTelegram | None = None,
    inbox_lease: float | None = None,
) -> AsyncIterator[Served]:
    """The web app with the Zalo bot configured (and Telegram, polling, when given), registered first as
    `hocvu serve` does, on a database of the test's own (the core's state stays in the module's app, so each
    test uses users of its own)."""
    settings = app.settings
    bot = dataclasses.replace(
        settings.zalo_bot,
        api_base_url=fake.base_url,
        webhook_url=WEBHOOK_URL if webhook else "",
        request_timeout=2.0,
        poll_wait=1.0,
    )
    secrets = bot_secrets()
    tg = settings.telegram
    if telegram is not None:
        secrets["TELEGRAM_BOT_TOKEN"] = TELEGRAM_TOKEN
        tg = dataclasses.replace(tg, base_url=telegram.base_url, webhook_url="", volunteers=(9,))
    server = dataclasses.replace(settings.server, inbox_lease=inbox_lease or settings.server.inbox_lease)
    served_settings = dataclasses.replace(
        settings, data_dir=data_dir, zalo_bot=bot, telegram=tg, server=server, secrets=secrets
    )
    async with ZaloBotApi(fake.base_url, TOKEN, timeout=2.0) as api:
        await register(api, WebhookOptions(WEBHOOK_URL, SECRET) if webhook else None)
    product = dataclasses.replace(app, settings=served_settings, database=None)
    web = create_app(served_settings, app=product, request_timeout=2.0)
    async with web.router.lifespan_context(web):
        services: Services = web.state.services
        assert services.zalo_bot is not None and (services.telegram is None) == (telegram is None)
        services.zalo_bot.api.base_delay = 0.05  # keep retry back-off short in tests
        inbox = SqlInbox(Database(served_settings.database_url), services.zalo_bot.source)
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


async def settled(served: Served) -> None:
    """Until every stored update is done, so every reply to it was sent (or given up on)."""
    await until(lambda: served.inbox.pending() == 0)


async def ask(served: Served, fake: FakeZaloBot, user: str, text: str) -> list[str]:
    """Send a text and wait until it was answered; the texts the user has received so far."""
    answer = await served.post(text_update(user, text))
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


async def test_only_updates_with_the_right_secret_header_are_taken(app: App, fake: FakeZaloBot, tmp_path: Path) -> None:
    user = "zb-1"
    async with running(app, fake, tmp_path) as served:
        missing = await served.post(text_update(user, "cảm ơn"), secret=None)
        wrong = await served.post(text_update(user, "cảm ơn"), secret="not-the-secret-at-all")
        almost = await served.post(text_update(user, "cảm ơn"), secret=SECRET[:-1] + "X")
        texts = await ask(served, fake, user, "cảm ơn")  # the barrier: refused ones would have been answered first
    assert [r.status_code for r in (missing, wrong, almost)] == [403, 403, 403]
    assert SECRET_HEADER in missing.json()["description"]
    assert texts == [THANKS], "only the update with the right secret was answered"
    assert not fake.calls("getUpdates"), "with a webhook the bot does not poll"


async def test_an_update_with_or_without_the_ok_result_wrapper_is_answered(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    wrapped, bare = "zb-2", "zb-3"
    async with running(app, fake, tmp_path) as served:
        assert (await served.post(text_update(wrapped, "cảm ơn", wrapped=True))).status_code == 200
        assert (await served.post(text_update(bare, "cảm ơn", wrapped=False))).status_code == 200
        await settled(served)
    assert fake.texts(wrapped) == fake.texts(bare) == [THANKS]


async def test_a_duplicated_update_is_answered_once(app: App, fake: FakeZaloBot, tmp_path: Path) -> None:
    user = "zb-4"
    first = text_update(user, QUESTION)
    async with running(app, fake, tmp_path) as served:
        assert (await served.post(first)).status_code == 200
        await settled(served)
        answered = len(fake.texts(user))
        again = await served.post(first)
        texts = await ask(served, fake, user, "cảm ơn")
    assert again.status_code == 200
    assert len(texts) == answered + 1 and texts[-1] == THANKS, "the repeated message_id got no second answer"


async def test_an_unknown_event_gets_200_a_log_line_and_no_reply(
    app: App, fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = "zb-5"
    async with running(app, fake, tmp_path) as served:
        with caplog.at_level(logging.WARNING, logger="channels.zalo_bot"):
            unknown = await served.post(update(user, event="bot.something.new", text="?"))
        texts = await ask(served, fake, user, "cảm ơn")
    assert unknown.status_code == 200
    assert "bot.something.new" in caplog.text
    assert texts == [THANKS]


async def test_bad_bodies_get_a_clear_status_and_a_log_line_and_nothing_breaks(
    app: App, fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = "zb-6"
    no_chat = text_update(user, "x")
    del no_chat["result"]["message"]["chat"]
    mistyped = text_update(user, "x")
    mistyped["result"]["message"]["text"] = ["không phải chữ"]
    no_id = text_update(user, "x", wrapped=False)
    del no_id["message"]["message_id"]
    async with running(app, fake, tmp_path) as served:
        with caplog.at_level(logging.WARNING, logger="channels.zalo_bot"):
            answers = {
                "not JSON": await served.post(b"{not json"),
                "nested too deeply": await served.post(b"[" * 200_000 + b"]" * 200_000),
                "not UTF-8": await served.post(b'{"ok": true, "result": "\xff"}'),
                "not a JSON object": await served.post(b'["a", "list"]'),
                "no message.chat.id": await served.post(no_chat),
                "message.text is not text": await served.post(mistyped),
                "no message.message_id": await served.post(no_id),
                "no message": await served.post({"ok": True, "result": {"event_name": "message.text.received"}}),
            }
        oversized = await served.post(b'{"x": "' + b"a" * (2 << 20) + b'"}')
        texts = await ask(served, fake, user, "cảm ơn")
    for reason, answer in answers.items():
        assert answer.status_code == 400 and reason in answer.json()["description"], (reason, answer.text)
        assert reason in caplog.text
    assert oversized.status_code == 413
    assert texts == [THANKS], "none of them reached the core, and the next message is answered"


# -- conversations ------------------------------------------------------------------------------------


async def test_an_answer_with_numbered_choices_then_step_mode_by_typed_numbers(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    user = "zb-10"
    async with running(app, fake, tmp_path) as served:
        texts = await ask(served, fake, user, QUESTION)
        assert "mức 2" in texts[0].lower() and not any("**" in text for text in texts)
        assert all(len(text) <= 2000 for text in texts)
        assert "Gõ số để chọn" in texts[-1]
        texts = await ask(served, fake, user, number_for(texts[-1], "Làm từng bước"))
        assert texts[-1].startswith("Bước 1/")
        texts = await ask(served, fake, user, number_for(texts[-1], "Bước tiếp"))
        assert texts[-1].startswith("Bước 2/")
    assert all(set(r.body) == {"chat_id", "text"} for r in fake.calls("sendMessage")), "plain text, no keyboard"


async def test_a_quiz_to_its_end_by_typed_numbers(app: App, fake: FakeZaloBot, tmp_path: Path) -> None:
    user = "zb-11"
    async with running(app, fake, tmp_path) as served:
        texts = await ask(served, fake, user, "/quiz")
        texts = await ask(served, fake, user, number_for(texts[-1], "VNeID"))
        for _ in range(12):
            if any("Bạn trả lời đúng" in text for text in texts):
                break
            assert re.search(r"^\d+\. A$", texts[-1], re.MULTILINE), texts[-1]
            texts = await ask(served, fake, user, number_for(texts[-1], "A"))
    assert any("Câu 5/5" in text for text in texts)
    assert any("Bạn trả lời đúng" in text for text in texts)


async def test_where_i_live_and_stopping_lessons_by_typed_numbers_and_words(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    """No buttons on a Zalo bot: every choice of /profile and /subscribe is a numbered line; DỪNG stops lessons."""
    user = "zb-12"
    async with running(app, fake, tmp_path) as served:
        await ask(served, fake, user, "/profile")
        await ask(served, fake, user, "ha noi")
        texts = await ask(served, fake, user, "an")  # several wards of Hà Nội: numbered, at most five, and Skip
        places = [label for _, label in _CHOICE.findall(texts[-1]) if label != "Bỏ qua"]
        assert 1 < len(places) <= 5, texts[-1]
        texts = await ask(served, fake, user, number_for(texts[-1], places[0]))
        assert f"📍 {places[0]}, Thành phố Hà Nội" in texts[-2]
        texts = await ask(served, fake, user, number_for(texts[-1], "Từ 60 tuổi"))
        assert "Nhóm tuổi: Từ 60 tuổi" in texts[-1]
        texts = await ask(served, fake, user, "/subscribe")
        texts = await ask(served, fake, user, number_for(texts[-1], "Ứng dụng VNeID"))
        assert "Đã đăng ký nhận bài học về: Ứng dụng VNeID" in texts[-1]
        texts = await ask(served, fake, user, "DỪNG")
        assert "Đã ngừng gửi mọi bài học cho bạn (Ứng dụng VNeID)" in texts[-1] and "/subscribe" in texts[-1]


async def test_photos_stickers_and_voice_are_explained_and_a_caption_is_answered(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    user = "zb-12"
    url = "https://photo.zdn.example/p.jpg"
    async with running(app, fake, tmp_path) as served:
        for body in (
            update(user, event="message.image.received", photo_url=url, caption="cảm ơn"),
            update(user, event="message.image.received", photo=url),
            update(user, event="message.sticker.received", sticker="0e078a2fb66a5f34067b"),
            update(user, event="message.voice.received", voice_url="https://voice.example/v.aac"),
        ):
            assert (await served.post(body)).status_code == 200
            await settled(served)  # one at a time, so the answers' order is the messages'
    texts = fake.texts(user)
    assert texts[0] == THANKS, "a photo with a caption: the caption is answered"
    assert len(texts) == 4 and all(NON_TEXT in text for text in texts[1:])


# -- sending: the API's errors --------------------------------------------------------------------------


async def test_server_errors_rate_limits_and_timeouts_are_retried_and_the_reply_arrives_once(
    app: App, fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = "zb-20"
    async with running(app, fake, tmp_path) as served:
        served.channel.api.timeout = 0.5
        fake.fail_next("sendMessage", status=500)
        fake.fail_next("sendMessage", status=429)
        fake.fail_next("sendMessage", delay=1.5)  # no answer in time
        with caplog.at_level(logging.WARNING, logger="channels.zalo_bot_api"):
            texts = await ask(served, fake, user, "cảm ơn")
            await until(lambda: any(r.status == ABANDONED for r in fake.calls("sendMessage")))
    assert texts == [THANKS], "retried until it went through; it arrives once"
    assert [r.status for r in fake.calls("sendMessage")].count(200) == 1
    assert "HTTP 500" in caplog.text and "rate limited" in caplog.text and "may arrive twice" in caplog.text


async def test_a_refusal_with_http_200_is_logged_with_its_description_and_not_sent_again(
    app: App, fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = "zb-21"
    async with running(app, fake, tmp_path) as served:
        fake.fail_next("sendMessage", refuse="Người dùng chưa quan tâm bot")
        with caplog.at_level(logging.ERROR, logger="channels.zalo_bot"):
            refused = await ask(served, fake, user, "cảm ơn")
        texts = await ask(served, fake, user, "cảm ơn")
    assert refused == [] and len(fake.calls("sendMessage")) == 2, "the refused message was tried once"
    assert "refused with HTTP 200" in caplog.text and "Người dùng chưa quan tâm bot" in caplog.text
    assert texts == [THANKS], "the channel goes on"


# -- long polling ------------------------------------------------------------------------------------


async def test_long_polling_answers_a_message_and_the_webhook_route_is_off(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    user = "zb-30"
    async with running(app, fake, tmp_path, webhook=False) as served:
        assert fake.calls("deleteWebhook"), "polling removes any webhook first: Zalo refuses getUpdates with one"
        await until(lambda: len(fake.calls("getUpdates")) >= 1)  # an empty poll (408) goes on polling
        fake.push(text_update(user, "cảm ơn"))
        fake.push(text_update(user, "xin chào"))
        await until(lambda: len(fake.texts(user)) == 2)
        route = await served.post(text_update(user, "cảm ơn"))
        await settled(served)
    assert fake.texts(user)[0] == THANKS
    assert route.status_code == 404, "without a webhook URL the route is not served"


async def test_a_bot_that_polls_while_a_webhook_is_set_says_why_it_gets_nothing(
    app: App, fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(app, fake, tmp_path, webhook=False) as served:
        async with ZaloBotApi(fake.base_url, TOKEN, timeout=2.0) as api:
            await register(api, WebhookOptions(WEBHOOK_URL, SECRET))  # someone else set a webhook
        with caplog.at_level(logging.WARNING, logger="channels.zalo_bot"):
            await until(lambda: "getUpdates is disabled while a webhook is set" in caplog.text)
        assert served.services.tasks and not served.services.tasks[0].done(), "it keeps trying"
    assert "hocvu zalo bot register" in caplog.text


# -- crashes ----------------------------------------------------------------------------------------------


async def test_an_update_acknowledged_before_a_crash_is_answered_once_after_the_restart(
    app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    user = "zb-40"
    database = Database(f"sqlite:///{tmp_path / 'hocvu.db'}")
    database.upgrade(quiet=True)
    body = text_update(user, "cảm ơn", wrapped=False)
    # What a worker killed (kill -9) after its 200 leaves behind: the update stored and leased, never done.
    assert SqlInbox(database, f"zalo_bot:{BOT_ID}", lease=0.5).put(event_key(body), json.dumps(body))
    database.engine.dispose()
    async with running(app, fake, tmp_path, inbox_lease=0.5) as served:
        await settled(served)  # the restarted worker's sweep takes it over once its lease ran out
        again = await served.post(body)  # Zalo, unsure, sends it again
        texts = await ask(served, fake, user, "xin chào")
    assert again.status_code == 200
    assert texts[0] == THANKS and len(texts) == 2, "answered exactly once"


# -- handover ----------------------------------------------------------------------------------------------

VOLUNTEERS = -100500


@pytest.fixture(scope="module")
def desk_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    """The product where the Telegram volunteers' group is configured and the Zalo bot is on."""
    telegram = dataclasses.replace(settings.telegram, volunteer_chat_id=VOLUNTEERS)
    data_dir = tmp_path_factory.mktemp("zalo-bot-desk-app")
    configured = dataclasses.replace(settings, data_dir=data_dir, telegram=telegram, secrets=bot_secrets())
    return build_app(configured, embedder=FakeEmbedder())


async def test_a_zalo_bot_user_reaches_the_volunteers_and_gets_their_answer(
    desk_app: App, fake: FakeZaloBot, tmp_path: Path
) -> None:
    user = "zb-50"
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
    assert "Tình nguyện viên" in fake.texts(user)[-1]


# -- deploy steps ---------------------------------------------------------------------------------------------


def test_hocvu_zalo_bot_register_sets_the_webhook_and_removes_it_for_polling(
    fake: FakeZaloBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hocvu.cli import main

    config = tmp_path / "config.yml"
    config.write_text(f"data_dir: {tmp_path / 'var'}\nzalo_bot:\n  api_base_url: {fake.base_url}\n")
    monkeypatch.delenv("ZALO_BOT_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ZALO_BOT_WEBHOOK_SECRET", SECRET)
    assert main(["--config", str(config), "zalo", "bot", "register", "--url", WEBHOOK_URL]) == 0
    assert fake.webhook == {"url": WEBHOOK_URL, "secret_token": SECRET}
    assert main(["--config", str(config), "zalo", "bot", "register"]) == 0
    assert fake.webhook == {} and len(fake.calls("deleteWebhook")) == 1
    monkeypatch.setenv("ZALO_BOT_WEBHOOK_SECRET", "short")
    assert main(["--config", str(config), "zalo", "bot", "register", "--url", WEBHOOK_URL]) == 2
    assert "ZALO_BOT_WEBHOOK_SECRET must be 8-256 characters" in capsys.readouterr().err
    assert len(fake.calls("setWebhook")) == 1, "a bad secret never reaches Zalo"
    monkeypatch.setenv("ZALO_BOT_TOKEN", "not-a-token")
    assert main(["--config", str(config), "zalo", "bot", "register"]) == 2
    assert "does not look like a Zalo bot token" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([], {"ZALO_BOT_WEBHOOK_URL": WEBHOOK_URL}, "needs a secret: set ZALO_BOT_WEBHOOK_SECRET"),
        ([], {"ZALO_BOT_WEBHOOK_URL": "http://bot.example.org/hook"}, "must be an https:// URL"),
        (["--workers", "2"], {"REDIS_URL": "redis://127.0.0.1:6379/0"}, "several workers need a Zalo Bot webhook URL"),
    ],
)
def test_hocvu_serve_refuses_a_zalo_bot_that_cannot_work(
    argv: list[str],
    environ: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hocvu.cli import main

    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_APP_ID", "ZALO_OA_SECRET_KEY", "REDIS_URL", "ZALO_BOT_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ZALO_BOT_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", TOKEN)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err
