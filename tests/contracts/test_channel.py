"""The Channel and VolunteerDesk contracts (channels/runner.py): what the runner relies on from every adapter and desk.

Telegram (against the fake Bot API over HTTP), the Zalo OA (against the fake Zalo) and the Zalo Bot (against
the fake Zalo Bot API), the Zalo ones with the Telegram volunteers' group as their desk, as deployed, are the
implementations. What a user receives is read back from the platform's fake, never from the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.messages import Button, Handover, Reply, Response
from channels.runner import Channel, VolunteerDesk
from channels.telegram import TelegramChannel, make_bot
from channels.telegram_desk import TelegramDesk
from channels.telegram_store import SqlTelegramStore
from channels.zalo_bot import ZaloBotChannel
from channels.zalo_bot_api import ZaloBotApi
from channels.zalo_bot_store import ZaloBotStore
from channels.zalo_oa import ZaloOaChannel
from channels.zalo_oa_api import ZaloOaApi
from channels.zalo_oa_auth import ZaloTokens
from channels.zalo_oa_store import ZaloOaStore
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.fake_zalo import APP_ID, APP_SECRET, FakeZalo
from tests.support.fake_zalo_bot import BOT_ID, FakeZaloBot
from tests.support.fake_zalo_bot import TOKEN as ZALO_BOT_TOKEN
from tests.support.learning_support import migrated_database

DESK_CHAT = -100777


@dataclass
class Under:
    channel: Channel
    desk: VolunteerDesk
    received: Callable[[str], list[str]]  # the texts a user (or the desk, "desk") received, in order
    # What the channel keeps about a user: Telegram and the Zalo OA record that the platform said the user
    # cannot be reached; the Zalo Bot keeps the numbered choices last shown to them.
    kept: Callable[[str], bool]
    keep: Callable[[str], Awaitable[None]]  # makes the channel keep something about the user
    wrote: Callable[[str], None] = lambda user: None  # the user wrote first (Zalo sends only to such users)


@pytest.fixture(params=["telegram", "zalo_oa", "zalo_bot"])
async def under(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Under]:
    with (
        FakeTelegram() as fake,
        FakeZalo() as zalo,
        FakeZaloBot() as zalo_bot,
        migrated_database("sqlite", tmp_path) as db,
    ):
        store = SqlTelegramStore(db, int(TOKEN.split(":")[0]))
        telegram = TelegramChannel(
            make_bot(TOKEN, fake.base_url, request_timeout=2.0), blocked=store, desk=None, default_lang="vi"
        )
        desk = TelegramDesk(telegram.sender, store, chat_id=DESK_CHAT, volunteers=frozenset({9}), note_lang="vi")
        telegram.desk = desk
        await telegram.start()
        try:
            if request.param == "telegram":

                async def telegram_refused(user: str) -> None:
                    await telegram._on_blocked(int(user))

                yield Under(
                    telegram,
                    desk,
                    lambda user: fake.texts(DESK_CHAT if user == "desk" else int(user)),
                    store.is_blocked,
                    telegram_refused,
                )
            elif request.param == "zalo_oa":
                tokens = ZaloTokens(db, APP_ID, APP_SECRET, zalo.base_url, margin=3600, timeout=2.0)
                tokens.seed(zalo.access_token, zalo.refresh_token)
                zalo_store = ZaloOaStore(db, APP_ID)
                channel = ZaloOaChannel(ZaloOaApi(zalo.base_url, tokens, timeout=2.0), zalo_store, buttons=True)
                await channel.start()

                def received(user: str) -> list[str]:
                    if user == "desk":
                        return fake.texts(DESK_CHAT)
                    return [text.split("\n\nGõ số để chọn:")[0] for text in zalo.texts(user)]  # without the choices

                def blocked(user: str) -> bool:
                    follower = zalo_store.follower(user)
                    return follower is not None and follower.unreachable_reason is not None

                async def zalo_refused(user: str) -> None:
                    zalo_store.interacted(user, None)
                    zalo.closed_users[user] = -213  # not following the OA
                    await channel.deliver(user, Response([Reply(text="?")], "vi"))

                try:
                    yield Under(
                        channel, desk, received, blocked, zalo_refused, lambda user: zalo_store.interacted(user, None)
                    )
                finally:
                    await channel.close(5.0)
            else:
                bot_store = ZaloBotStore(db, BOT_ID)
                bot = ZaloBotChannel(ZaloBotApi(zalo_bot.base_url, ZALO_BOT_TOKEN, timeout=2.0), bot_store)
                await bot.start()

                def bot_received(user: str) -> list[str]:
                    if user == "desk":
                        return fake.texts(DESK_CHAT)
                    return [text.split("\n\nGõ số để chọn:")[0] for text in zalo_bot.texts(user)]

                async def shown_choices(user: str) -> None:
                    await bot.deliver(user, _response("chọn đi"))

                try:
                    yield Under(bot, desk, bot_received, lambda user: bool(bot_store.choices(user)), shown_choices)
                finally:
                    await bot.close(5.0)
        finally:
            await telegram.close(5.0)


def _response(*texts: str) -> Response:
    return Response(replies=[Reply(text=text, buttons=((Button("OK", "1:x"),),)) for text in texts], lang="vi")


async def test_deliver_queues_in_order_at_once_and_ends_when_sent(under: Under) -> None:
    under.wrote("501")
    first = under.channel.deliver("501", _response("một", "hai"))
    second = under.channel.deliver("501", _response("ba"))  # queued before the first was sent
    await second
    assert under.received("501") == ["một", "hai", "ba"]  # the awaitable ended after the platform had it
    await first


async def test_a_note_reaches_the_user(under: Under) -> None:
    under.wrote("502")
    await under.channel.note("502", "Bạn nhắn hơi nhanh")
    assert under.received("502") == ["Bạn nhắn hơi nhanh"]


async def test_forget_removes_what_the_channel_keeps_about_the_user(under: Under) -> None:
    await under.keep("503")
    assert under.kept("503")
    await under.channel.forget("503")
    assert not under.kept("503")


async def test_the_desk_posts_for_users_of_any_channel_and_forgets_one(under: Under) -> None:
    assert await under.desk.post("telegram", "504", Handover("open", "**Yêu cầu hỗ trợ** từ Lan"))
    assert await under.desk.post("zalo_oa", "504", Handover("open", "Yêu cầu từ người dùng Zalo"))
    assert await under.desk.post("telegram", "504", Handover("relay", "Lan: cho bà hỏi"))
    assert under.received("desk") == ["Yêu cầu hỗ trợ từ Lan", "Yêu cầu từ người dùng Zalo", "Lan: cho bà hỏi"]
    await under.desk.forget("telegram", "504")
    assert isinstance(under.desk, TelegramDesk)
    assert under.desk.links.card_for("telegram", "504") is None
    assert under.desk.links.card_for("zalo_oa", "504") is not None  # another channel's user with the same id
