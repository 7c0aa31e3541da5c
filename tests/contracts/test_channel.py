"""The Channel and VolunteerDesk contracts (channels/runner.py): what the runner relies on from every adapter and desk.

Telegram (against the fake Bot API over HTTP) is the one implementation today; Zalo joins the `channel`
fixture's params. What a user receives is read back from the platform's fake, never from the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.messages import Button, Handover, Reply, Response
from channels.runner import Channel, VolunteerDesk
from channels.telegram import TelegramChannel, make_bot
from channels.telegram_desk import TelegramDesk
from channels.telegram_store import SqlTelegramStore
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.learning_support import migrated_database

DESK_CHAT = -100777


@dataclass
class Under:
    channel: Channel
    desk: VolunteerDesk
    received: Callable[[str], list[str]]  # the texts a user (or the desk, "desk") received, in order
    blocked: Callable[[str], bool]


@pytest.fixture(params=["telegram"])
async def under(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Under]:
    with FakeTelegram() as fake, migrated_database("sqlite", tmp_path) as db:
        store = SqlTelegramStore(db, int(TOKEN.split(":")[0]))
        channel = TelegramChannel(
            make_bot(TOKEN, fake.base_url, request_timeout=2.0), blocked=store, desk=None, default_lang="vi"
        )
        desk = TelegramDesk(channel.sender, store, chat_id=DESK_CHAT, volunteers=frozenset({9}), note_lang="vi")
        channel.desk = desk
        await channel.start()
        try:
            yield Under(
                channel,
                desk,
                lambda user: fake.texts(DESK_CHAT if user == "desk" else int(user)),
                store.is_blocked,
            )
        finally:
            await channel.close(5.0)


def _response(*texts: str) -> Response:
    return Response(replies=[Reply(text=text, buttons=((Button("OK", "1:x"),),)) for text in texts], lang="vi")


async def test_deliver_queues_in_order_at_once_and_ends_when_sent(under: Under) -> None:
    first = under.channel.deliver("501", _response("một", "hai"))
    second = under.channel.deliver("501", _response("ba"))  # queued before the first was sent
    await second
    assert under.received("501") == ["một", "hai", "ba"]  # the awaitable ended after the platform had it
    await first


async def test_a_note_reaches_the_user(under: Under) -> None:
    await under.channel.note("502", "Bạn nhắn hơi nhanh")
    assert under.received("502") == ["Bạn nhắn hơi nhanh"]


async def test_forget_removes_what_the_channel_keeps_about_the_user(under: Under) -> None:
    assert isinstance(under.channel, TelegramChannel)
    await under.channel._on_blocked(503)  # the platform said the user blocked us
    assert under.blocked("503")
    await under.channel.forget("503")
    assert not under.blocked("503")


async def test_the_desk_posts_for_users_of_any_channel_and_forgets_one(under: Under) -> None:
    assert await under.desk.post("telegram", "504", Handover("open", "**Yêu cầu hỗ trợ** từ Lan"))
    assert await under.desk.post("zalo_oa", "504", Handover("open", "Yêu cầu từ người dùng Zalo"))
    assert await under.desk.post("telegram", "504", Handover("relay", "Lan: cho bà hỏi"))
    assert under.received("desk") == ["Yêu cầu hỗ trợ từ Lan", "Yêu cầu từ người dùng Zalo", "Lan: cho bà hỏi"]
    await under.desk.forget("telegram", "504")
    assert isinstance(under.desk, TelegramDesk)
    assert under.desk.links.card_for("telegram", "504") is None
    assert under.desk.links.card_for("zalo_oa", "504") is not None  # another channel's user with the same id
