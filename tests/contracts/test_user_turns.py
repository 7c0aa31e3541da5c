"""The UserTurns contract: one message per user at a time across worker processes, other users never waiting,
and a turn that fails still lets the user's next message in.

RedisUserTurns is the one implementation; its lease (a dead worker's turn expires) is tested in
tests/test_serve.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

import pytest

from channels.turns import RedisUserTurns, UserTurns
from tests.support.services import require_redis

OpenTurns = Callable[[int], UserTurns]  # a worker's turns for a bot id, on the shared backend


@pytest.fixture(params=["redis"])
def open_turns(request: pytest.FixtureRequest) -> Iterator[OpenTurns]:
    url = require_redis()
    yield lambda bot_id: RedisUserTurns(url, prefix=f"hocvu:test:{bot_id}:turn")


def _bot_id() -> int:
    return int(time.time() * 1000)  # a key space of its own per test


async def test_a_users_turns_never_overlap_across_workers(open_turns: OpenTurns) -> None:
    bot_id = _bot_id()
    first, second = open_turns(bot_id), open_turns(bot_id)  # two workers
    events: list[str] = []
    other_user_in = asyncio.Event()

    async def turn(turns: UserTurns, user: str, name: str) -> None:
        async with turns.hold(user):
            events.append(f"{name} in")
            if user == "u2":
                other_user_in.set()
            else:
                # Keep u1's turn until u2 has had one; with one lock for everyone, u2 would wait for u1.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(other_user_in.wait(), timeout=5)
            events.append(f"{name} out")

    try:
        await asyncio.gather(turn(first, "u1", "a"), turn(second, "u1", "b"), turn(second, "u2", "c"))
    finally:
        await first.close()
        await second.close()
    same_user = [e for e in events if e[0] in "ab"]
    assert same_user in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert events.index("c in") < events.index(f"{same_user[0][0]} out"), events  # u2 did not wait for u1


async def test_a_turn_that_fails_lets_the_users_next_message_in(open_turns: OpenTurns) -> None:
    bot_id = _bot_id()
    first, second = open_turns(bot_id), open_turns(bot_id)
    try:
        with pytest.raises(RuntimeError, match="handler failed"):
            async with first.hold("u1"):
                raise RuntimeError("handler failed")

        async def next_message() -> None:
            async with second.hold("u1"):
                pass

        # A turn still held would keep the user out for the whole lease (30 s): far beyond this wait.
        await asyncio.wait_for(next_message(), timeout=10)
    finally:
        await first.close()
        await second.close()
