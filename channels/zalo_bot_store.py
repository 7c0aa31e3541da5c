"""What the Zalo Bot channel remembers across restarts and workers (table `zalo_bot_users`): the numbered
choices last shown to each user, so that typing "2" presses the second on whichever worker takes it."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from channels.zalo_oa_store import now
from storage.database import Database
from storage.models import Base, ZaloBotUser

# Every message runs these: built once, with bound parameters, so a call costs no SQL construction.
_USERS = Base.metadata.tables[ZaloBotUser.__tablename__]
_U = _USERS.c
_THE_USER = (_U.bot_id == bindparam("b_bot"), _U.user_id == bindparam("b_user"))
_CHOICES = select(_U.choices).where(*_THE_USER)
_SHOWN = update(_USERS).where(*_THE_USER).values(choices=bindparam("b_choices"), shown_at=bindparam("b_at"))
_ADD = insert(_USERS).values(
    bot_id=bindparam("b_bot"), user_id=bindparam("b_user"), choices=bindparam("b_choices"), shown_at=bindparam("b_at")
)


class ZaloBotStore:
    def __init__(self, db: Database, bot_id: str) -> None:
        self.db = db
        self.bot_id = bot_id

    def choices(self, user_id: str) -> tuple[str, ...]:
        with self.db.read() as connection:
            row = connection.scalar(_CHOICES, {"b_bot": self.bot_id, "b_user": user_id})
        return tuple(row or ())

    def set_choices(self, user_id: str, choices: list[str]) -> None:
        """The choices of the response being sent replace the old ones; none: the old numbers mean nothing."""
        params = {"b_bot": self.bot_id, "b_user": user_id, "b_choices": choices or None, "b_at": now()}
        for attempt in (1, 2):  # two workers may add the same new user at once: the loser updates
            try:
                with self.db.write() as connection:
                    if connection.execute(_SHOWN, params).rowcount == 0 and choices:
                        connection.execute(_ADD, params)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def forget(self, user_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(ZaloBotUser).where(ZaloBotUser.bot_id == self.bot_id, ZaloBotUser.user_id == user_id)
            )
