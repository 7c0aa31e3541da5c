"""One message per user at a time across worker processes: a lease per user in Redis.

Within one process the runner orders a user's messages itself (an asyncio lock, FIFO); several workers
also hold this lease while a turn runs, so two workers never run the same user's messages at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

log = logging.getLogger(__name__)


class UserTurns(Protocol):
    def hold(self, user_key: str) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...


# Deletes the lock only when it still holds our token: a turn that outlived its lease must not release
# the lock another worker has taken since.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisUserTurns:
    """A lock per user in Redis. The lock is a lease: a worker that dies holding it frees the user after
    `lease` seconds. Waiting is polling, from 2 ms up to 50 ms: a user rarely has two messages in flight,
    and then for milliseconds."""

    def __init__(self, url: str, *, prefix: str = "hocvu:turn", lease: float = 30.0) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2.0)
        self._release = self._redis.register_script(_RELEASE)
        self.prefix = prefix
        self.lease = lease

    @contextlib.asynccontextmanager
    async def hold(self, user_key: str) -> AsyncIterator[None]:
        key = f"{self.prefix}:{user_key}"
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease
        delay = 0.002
        while not await self._redis.set(key, token, nx=True, px=int(self.lease * 1000)):
            if loop.time() > deadline:  # the holder is gone or stuck: a late answer beats none
                log.warning("user turn lock %s still held after %.0f s; going ahead", key, self.lease)
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            await self._release(keys=[key], args=[token])

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
