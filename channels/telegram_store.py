"""What the Telegram channel remembers across restarts and workers.

- processed update ids, so an update delivered twice (after a restart, or a webhook retry) is handled once;
- which volunteers'-group message belongs to which user, so a volunteer's reply finds its way back;
- which chats blocked the bot (403), so nothing more is sent to them until they write again.

These are transport facts, not conversation state, so they live in tables of their own (`telegram_*`,
defined with the rest of the schema in storage/models.py and created by its migrations). The ledger of
update ids has a Redis implementation too, and several webhook workers take turns per user in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import Base, BlockedChat, HandoverLink, ProcessedUpdate

LEDGER_TTL = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours

log = logging.getLogger(__name__)


class UpdateLedger(Protocol):
    def first_time(self, update_id: int) -> bool:
        """Claim an update: True exactly once per update id, whichever worker asks."""
        ...


class HandoverLinks(Protocol):
    def link(self, message_id: int, user_id: str) -> None: ...

    def user_for(self, message_id: int) -> str | None: ...

    def card_for(self, user_id: str) -> int | None:
        """The user's latest message in the volunteers' group, to keep their notes in one thread."""
        ...

    def forget(self, user_id: str) -> None:
        """Remove every link to the user: part of deleting their data."""
        ...


class UserTurns(Protocol):
    """One message per user at a time across webhook workers (within a worker, TelegramChannel orders them)."""

    def hold(self, user_id: str) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...


class BlockedChats(Protocol):
    def set_blocked(self, user_id: str, blocked: bool) -> None: ...

    def is_blocked(self, user_id: str) -> bool: ...


_PROCESSED = Base.metadata.tables[ProcessedUpdate.__tablename__]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere in the database


class SqlTelegramStore:
    """All three seams on one SQL database: SQLite by default, PostgreSQL for several workers."""

    PRUNE_EVERY = 1000

    def __init__(self, db: Database, bot_id: int) -> None:
        self.db = db
        self.bot_id = bot_id
        self._claims = 0

    def first_time(self, update_id: int) -> bool:
        try:
            with self.db.write() as connection:  # every update: a Core statement, no ORM session
                connection.execute(
                    _PROCESSED.insert(),
                    {"bot_id": self.bot_id, "update_id": update_id, "seen_at": _now()},
                )
        except IntegrityError:
            return False
        self._claims += 1
        if self._claims % self.PRUNE_EVERY == 0:
            self.prune()
        return True

    def prune(self, older_than: timedelta = LEDGER_TTL) -> int:
        with self.db.session() as session:
            result = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.seen_at < _now() - older_than))
        return int(getattr(result, "rowcount", 0) or 0)

    def link(self, message_id: int, user_id: str) -> None:
        with self.db.session() as session:
            session.merge(HandoverLink(bot_id=self.bot_id, message_id=message_id, user_id=user_id, created_at=_now()))

    def user_for(self, message_id: int) -> str | None:
        with self.db.read() as connection:
            return connection.scalar(
                select(HandoverLink.user_id).where(
                    HandoverLink.bot_id == self.bot_id, HandoverLink.message_id == message_id
                )
            )

    def card_for(self, user_id: str) -> int | None:
        with self.db.read() as connection:
            return connection.scalar(
                select(HandoverLink.message_id)
                .where(HandoverLink.bot_id == self.bot_id, HandoverLink.user_id == user_id)
                .order_by(HandoverLink.created_at.desc(), HandoverLink.message_id.desc())
                .limit(1)
            )

    def forget(self, user_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(HandoverLink).where(HandoverLink.bot_id == self.bot_id, HandoverLink.user_id == user_id)
            )

    def set_blocked(self, user_id: str, blocked: bool) -> None:
        with self.db.session() as session:
            if blocked:
                session.merge(BlockedChat(bot_id=self.bot_id, user_id=user_id, blocked_at=_now()))
            else:
                session.execute(
                    delete(BlockedChat).where(BlockedChat.bot_id == self.bot_id, BlockedChat.user_id == user_id)
                )

    def is_blocked(self, user_id: str) -> bool:
        with self.db.read() as connection:
            found = connection.scalar(
                select(BlockedChat.user_id).where(BlockedChat.bot_id == self.bot_id, BlockedChat.user_id == user_id)
            )
        return found is not None


class RedisUpdateLedger:
    """Processed update ids in Redis: SET NX with a TTL, shared by any number of webhook workers."""

    def __init__(self, url: str, bot_id: int, ttl: timedelta = LEDGER_TTL) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2.0)
        self.bot_id = bot_id
        self.ttl_seconds = int(ttl.total_seconds())

    def warm_up(self) -> None:
        self._redis.ping()

    def first_time(self, update_id: int) -> bool:
        claimed = self._redis.set(
            f"hocvu:tg:{self.bot_id}:update:{update_id}", int(time.time()), nx=True, ex=self.ttl_seconds
        )
        return bool(claimed)


# Deletes the lock only when it still holds our token: a turn that outlived its lease must not release
# the lock another worker has taken since.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisUserTurns:
    """A lock per user in Redis, so two workers never run the same user's messages at once.

    The lock is a lease: a worker that dies holding it frees the user after `lease` seconds. Waiting is
    polling, from 2 ms up to 50 ms: a user rarely has two messages in flight, and then for milliseconds.
    """

    def __init__(self, url: str, bot_id: int, *, lease: float = 30.0) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2.0)
        self._release = self._redis.register_script(_RELEASE)
        self.bot_id = bot_id
        self.lease = lease

    @contextlib.asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        key = f"hocvu:tg:{self.bot_id}:turn:{user_id}"
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

    async def close(self) -> None:
        await self._redis.aclose()
