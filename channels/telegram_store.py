"""What the Telegram channel remembers across restarts and workers.

- which volunteers'-group message belongs to which user (of any channel), so a volunteer's reply finds its
  way back;
- which chats blocked the bot (403), so nothing more is sent to them until they write again.

These are transport facts, not conversation state, so they live in tables of their own (`telegram_*`,
defined with the rest of the schema in storage/models.py and created by its migrations). Which updates
arrived and which are done is the runner's inbox (channels/inbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import delete, select

from storage.database import Database
from storage.models import BlockedChat, HandoverLink


class HandoverLinks(Protocol):
    def link(self, message_id: int, channel: str, user_id: str) -> None: ...

    def user_for(self, message_id: int) -> tuple[str, str] | None:
        """The (channel, user id) a volunteers'-group message belongs to."""
        ...

    def card_for(self, channel: str, user_id: str) -> int | None:
        """The user's latest message in the volunteers' group, to keep their notes in one thread."""
        ...

    def forget(self, channel: str, user_id: str) -> None:
        """Remove every link to the user: part of deleting their data."""
        ...


class BlockedChats(Protocol):
    def set_blocked(self, user_id: str, blocked: bool) -> None: ...

    def is_blocked(self, user_id: str) -> bool: ...


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere in the database


class SqlTelegramStore:
    """Both seams on one SQL database: SQLite by default, PostgreSQL for several workers."""

    def __init__(self, db: Database, bot_id: int) -> None:
        self.db = db
        self.bot_id = bot_id

    def link(self, message_id: int, channel: str, user_id: str) -> None:
        with self.db.session() as session:
            session.merge(
                HandoverLink(
                    bot_id=self.bot_id, message_id=message_id, channel=channel, user_id=user_id, created_at=_now()
                )
            )

    def user_for(self, message_id: int) -> tuple[str, str] | None:
        with self.db.read() as connection:
            row = connection.execute(
                select(HandoverLink.channel, HandoverLink.user_id).where(
                    HandoverLink.bot_id == self.bot_id, HandoverLink.message_id == message_id
                )
            ).first()
        return (row[0], row[1]) if row is not None else None

    def card_for(self, channel: str, user_id: str) -> int | None:
        with self.db.read() as connection:
            return connection.scalar(
                select(HandoverLink.message_id)
                .where(
                    HandoverLink.bot_id == self.bot_id,
                    HandoverLink.channel == channel,
                    HandoverLink.user_id == user_id,
                )
                .order_by(HandoverLink.created_at.desc(), HandoverLink.message_id.desc())
                .limit(1)
            )

    def forget(self, channel: str, user_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(HandoverLink).where(
                    HandoverLink.bot_id == self.bot_id,
                    HandoverLink.channel == channel,
                    HandoverLink.user_id == user_id,
                )
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
