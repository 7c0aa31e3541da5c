"""What the Zalo Bot channel remembers across restarts and workers (table `zalo_bot_users`): the numbered
choices last shown to each user, so that typing "2" presses the second on whichever worker takes it."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from channels.zalo_oa_store import now
from storage.database import Database
from storage.models import ZaloBotUser


class ZaloBotStore:
    def __init__(self, db: Database, bot_id: str) -> None:
        self.db = db
        self.bot_id = bot_id

    def choices(self, user_id: str) -> tuple[str, ...]:
        with self.db.read() as connection:
            row = connection.scalar(
                select(ZaloBotUser.choices).where(ZaloBotUser.bot_id == self.bot_id, ZaloBotUser.user_id == user_id)
            )
        return tuple(row or ())

    def set_choices(self, user_id: str, choices: list[str]) -> None:
        """The choices of the response being sent replace the old ones; none: the old numbers mean nothing."""
        for attempt in (1, 2):  # two workers may add the same new user at once: the loser updates
            try:
                with self.db.session() as session:
                    row = session.get(ZaloBotUser, (self.bot_id, user_id))
                    if row is None:
                        if not choices:
                            return
                        row = ZaloBotUser(bot_id=self.bot_id, user_id=user_id)
                        session.add(row)
                    row.choices = choices or None
                    row.shown_at = now()
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def forget(self, user_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(ZaloBotUser).where(ZaloBotUser.bot_id == self.bot_id, ZaloBotUser.user_id == user_id)
            )
