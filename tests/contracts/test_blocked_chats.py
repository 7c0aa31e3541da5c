"""The BlockedChats contract: a chat that blocked the bot stays blocked, on every worker and after a restart,
until it is unblocked; other chats are unaffected.

SqlTelegramStore is the one implementation, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from channels.telegram_store import BlockedChats
from tests.support.learning_support import telegram_stores

OpenBlocked = Callable[[int], BlockedChats]  # a worker's view for a bot id, on the shared database


@pytest.fixture(params=["sqlite", "postgresql"])
def open_blocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenBlocked]:
    with telegram_stores(request.param, tmp_path) as open_store:
        yield open_store


@pytest.fixture
def bot_id() -> int:
    return 123456  # each test has a database of its own


def test_a_chat_is_not_blocked_until_it_blocks_the_bot(open_blocked: OpenBlocked, bot_id: int) -> None:
    assert not open_blocked(bot_id).is_blocked("111")


def test_a_block_is_seen_by_every_worker_until_the_chat_unblocks(open_blocked: OpenBlocked, bot_id: int) -> None:
    first, second = open_blocked(bot_id), open_blocked(bot_id)
    first.set_blocked("111", True)
    assert second.is_blocked("111") and open_blocked(bot_id).is_blocked("111")
    assert not second.is_blocked("112")
    second.set_blocked("111", False)
    assert not first.is_blocked("111")


def test_blocking_and_unblocking_twice_is_harmless(open_blocked: OpenBlocked, bot_id: int) -> None:
    # A 403 on a send and the my_chat_member update may both report the same block.
    chats = open_blocked(bot_id)
    chats.set_blocked("111", True)
    chats.set_blocked("111", True)
    assert chats.is_blocked("111")
    chats.set_blocked("111", False)
    chats.set_blocked("111", False)
    assert not chats.is_blocked("111")
    chats.set_blocked("112", False)  # never blocked
    assert not chats.is_blocked("112")


def test_bots_sharing_a_database_do_not_share_blocks(open_blocked: OpenBlocked, bot_id: int) -> None:
    open_blocked(bot_id).set_blocked("111", True)
    assert not open_blocked(bot_id + 1).is_blocked("111")
