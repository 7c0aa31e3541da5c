"""The aiohttp transport under python-telegram-bot, against the fake Bot API over real HTTP."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from channels.telegram_http import AiohttpRequest
from tests.support.fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def _bot(base_url: str, **timeouts: float) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest(**timeouts))


async def test_text_with_markup_characters_arrives_as_sent(fake: FakeTelegram) -> None:
    async with _bot(fake.base_url) as bot:
        await bot.send_message(7, "<b>Bước 1</b> &amp; <i>mã</i> *_", parse_mode="HTML")
    [request] = fake.calls("sendMessage")
    assert request.params["text"] == "<b>Bước 1</b> &amp; <i>mã</i> *_"
    assert request.params["parse_mode"] == "HTML"


async def test_a_message_goes_as_json_with_its_keyboard_as_an_object(fake: FakeTelegram) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Bước tiếp", callback_data="s:1")]])
    async with _bot(fake.base_url) as bot:
        await bot.send_message(7, "Đăng ký tài khoản", reply_markup=keyboard, disable_notification=True)
    [request] = fake.calls("sendMessage")
    # JSON keeps the types a form would have turned into strings.
    assert request.params["chat_id"] == 7
    assert request.params["disable_notification"] is True
    assert request.params["reply_markup"] == {"inline_keyboard": [[{"text": "Bước tiếp", "callback_data": "s:1"}]]}
    assert request.params["text"] == "Đăng ký tài khoản"


async def test_a_photo_is_uploaded_as_multipart(fake: FakeTelegram) -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(png, format="PNG")
    async with _bot(fake.base_url) as bot:
        message = await bot.send_photo(7, png.getvalue(), caption="Chứng nhận")
    [request] = fake.calls("sendPhoto")
    assert request.params["photo"] == png.getvalue()
    assert request.params["caption"] == "Chứng nhận"
    assert message.photo


async def test_api_errors_keep_their_meaning(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)
    fake.fail_next("sendMessage", 400)
    async with _bot(fake.base_url) as bot:
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(7, "a")
        assert limited.value.retry_after == 3
        with pytest.raises(BadRequest):
            await bot.send_message(7, "b")


async def test_a_slow_api_is_a_timeout(fake: FakeTelegram) -> None:
    fake.delay_next("sendMessage", 1.5)
    async with _bot(fake.base_url, read_timeout=0.5) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(7, "a")


async def test_an_unreachable_api_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    async with AiohttpRequest(connect_timeout=1.0) as request:
        with pytest.raises(NetworkError) as refused:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert "aiohttp" in str(refused.value)
