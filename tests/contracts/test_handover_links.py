"""The HandoverLinks contract: a volunteer's reply finds the user whose card it answers, a user's notes stay
in one thread, and deleting the user's data removes every link to them and no one else's.

SqlTelegramStore is the one implementation, on SQLite and PostgreSQL; each call opens a store as another
worker (or the restarted process) would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from channels.telegram_store import HandoverLinks
from tests.support.learning_support import telegram_stores

OpenLinks = Callable[[int], HandoverLinks]  # a worker's links for a bot id, on the shared database


@pytest.fixture(params=["sqlite", "postgresql"])
def open_links(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenLinks]:
    with telegram_stores(request.param, tmp_path) as open_store:
        yield open_store


@pytest.fixture
def bot_id() -> int:
    return 123456  # each test has a database of its own


def test_a_volunteers_reply_finds_the_user_on_any_worker(open_links: OpenLinks, bot_id: int) -> None:
    open_links(bot_id).link(100, "telegram", "111")
    other = open_links(bot_id)
    assert other.user_for(100) == ("telegram", "111")
    assert other.user_for(999) is None  # a reply to a message that is no user's card


def test_a_users_notes_stay_in_one_thread(open_links: OpenLinks, bot_id: int) -> None:
    links = open_links(bot_id)
    # Message ids grow in a chat, so the latest card is also the highest.
    for message_id, user_id in ((100, "111"), (101, "222"), (102, "111")):
        links.link(message_id, "telegram", user_id)
    assert links.card_for("telegram", "111") == 102
    assert links.card_for("telegram", "222") == 101
    assert links.card_for("telegram", "333") is None
    assert (links.user_for(100), links.user_for(101), links.user_for(102)) == (
        ("telegram", "111"),
        ("telegram", "222"),
        ("telegram", "111"),
    )


def test_forgetting_a_user_removes_every_link_to_them_and_only_theirs(open_links: OpenLinks, bot_id: int) -> None:
    links = open_links(bot_id)
    for message_id, user_id in ((100, "111"), (101, "222"), (102, "111")):
        links.link(message_id, "telegram", user_id)
    links.forget("telegram", "111")
    after = open_links(bot_id)
    assert after.user_for(100) is None and after.user_for(102) is None and after.card_for("telegram", "111") is None
    assert after.user_for(101) == ("telegram", "222") and after.card_for("telegram", "222") == 101
    after.forget("telegram", "333")  # a user with no links: nothing to do, no error


def test_bots_sharing_a_database_do_not_share_links(open_links: OpenLinks, bot_id: int) -> None:
    open_links(bot_id).link(100, "telegram", "111")
    other_bot = open_links(bot_id + 1)  # message ids are per chat: another bot's group has a message 100 too
    assert other_bot.user_for(100) is None and other_bot.card_for("telegram", "111") is None
    other_bot.link(100, "telegram", "555")
    other_bot.forget("telegram", "555")
    assert open_links(bot_id).user_for(100) == ("telegram", "111")


def test_users_of_other_channels_are_linked_apart(open_links: OpenLinks, bot_id: int) -> None:
    links = open_links(bot_id)  # the Telegram volunteers' group is the desk for every channel's users
    links.link(100, "telegram", "111")
    links.link(101, "zalo_oa", "111")  # the same id on another platform is another person
    assert links.user_for(101) == ("zalo_oa", "111")
    assert links.card_for("telegram", "111") == 100 and links.card_for("zalo_oa", "111") == 101
    links.forget("zalo_oa", "111")
    assert links.user_for(101) is None and links.user_for(100) == ("telegram", "111")
