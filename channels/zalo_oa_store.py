"""What the Zalo OA channel remembers across restarts and workers (tables `zalo_oa_*`, storage/models.py).

- per follower: their last interaction (Zalo refuses sends 7 days after it), the message replies refer to
  and how many replies it carried (Zalo allows a few per inbound message), the numbered choices last shown
  (so typing "2" presses the second), and whether they can be reached at all (unfollowed, or refused by Zalo);
- per OA: whether Zalo refused messages with buttons (then choices go as numbered text only), and how
  many messages that were not replies to a user's message it sent each month (the monthly allowance).
The OA's token pair is in the same database (channels/zalo_oa_auth.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import Base, ZaloOaAccount, ZaloOaMonth, ZaloOaUser

# Every message runs these: built once, with bound parameters, so a call costs no SQL construction or
# compilation (SQLAlchemy caches the compiled form of one statement object).
_USERS = Base.metadata.tables[ZaloOaUser.__tablename__]
_U = _USERS.c
_THE_USER = (_U.app_id == bindparam("b_app"), _U.user_id == bindparam("b_user"))
_INTERACTION = {
    "last_interaction_at": bindparam("b_at"),
    "last_message_id": bindparam("b_message"),
    "replies_to_message": 0,  # no message (a follow): replies go to the user id, not to an older message
    "unreachable_at": None,
    "unreachable_reason": None,
}
_INTERACTED = update(_USERS).where(*_THE_USER).values(_INTERACTION).returning(_U.choices)
_ADD_USER = insert(_USERS).values(app_id=bindparam("b_app"), user_id=bindparam("b_user"), **_INTERACTION)
_FOLLOWER = select(
    _U.last_interaction_at, _U.last_message_id, _U.replies_to_message, _U.choices, _U.unreachable_reason
).where(*_THE_USER)
_CHOICES = (
    update(_USERS)
    .where(*_THE_USER, _U.unreachable_reason.is_(None), _U.last_interaction_at >= bindparam("b_since"))
    .values(choices=bindparam("b_choices"))
)
_REPLIED = (
    update(_USERS)
    .where(*_THE_USER, _U.last_message_id == bindparam("b_message"))
    .values(replies_to_message=_U.replies_to_message + bindparam("b_count"))
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere in the database


@dataclass(frozen=True)
class Follower:
    user_id: str
    last_interaction_at: datetime
    last_message_id: str | None
    replies_to_message: int
    choices: tuple[str, ...]
    unreachable_reason: str | None


def _follower(user_id: str, row: Sequence[Any] | None) -> Follower | None:
    if row is None:
        return None
    return Follower(user_id, row[0], row[1], row[2] or 0, tuple(row[3] or ()), row[4])


class ZaloOaStore:
    def __init__(self, db: Database, app_id: str) -> None:
        self.db = db
        self.app_id = app_id

    def interacted(self, user_id: str, message_id: str | None, at: datetime | None = None) -> Follower:
        """The user did something (`message_id`: the message they sent, or None): their window opens again
        and they are reachable again. Returns the follower as they are now (every message: one statement
        in one transaction, Core rather than an ORM session)."""
        at = at or now()
        params = {"b_app": self.app_id, "b_user": user_id, "b_at": at, "b_message": message_id}
        for attempt in (1, 2):  # two workers may add the same new user at once: the loser updates
            try:
                with self.db.write() as connection:
                    choices = connection.execute(_INTERACTED, params).first()
                    if choices is None:
                        connection.execute(_ADD_USER, params)
                return Follower(user_id, at, message_id, 0, tuple((choices[0] if choices else None) or ()), None)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def follower(self, user_id: str) -> Follower | None:
        with self.db.read() as connection:
            row = connection.execute(_FOLLOWER, {"b_app": self.app_id, "b_user": user_id}).first()
        return _follower(user_id, row)

    def _update(self, user_id: str, **values: object) -> None:
        with self.db.write() as session:
            session.execute(
                update(ZaloOaUser)
                .where(ZaloOaUser.app_id == self.app_id, ZaloOaUser.user_id == user_id)
                .values(**values)
            )

    def before_sending(self, user_id: str, choices: list[str] | None, active_since: datetime) -> Follower | None:
        """The follower as a send to them starts, and, when `choices` are given, those remembered from now on
        (before sending: the user may type a number as soon as they see it); one transaction. Choices are
        not remembered for a user who cannot be reached (unreachable, or silent since before
        `active_since`): what they cannot see, they cannot choose."""
        user = {"b_app": self.app_id, "b_user": user_id}
        with self.db.write() as connection:
            if choices is not None:
                connection.execute(_CHOICES, {**user, "b_since": active_since, "b_choices": choices or None})
            row = connection.execute(_FOLLOWER, user).first()
        return _follower(user_id, row)

    def replied(self, user_id: str, message_id: str, count: int = 1) -> None:
        """`count` more replies referred to the user's message (unless they wrote again meanwhile)."""
        params = {"b_app": self.app_id, "b_user": user_id, "b_message": message_id, "b_count": count}
        with self.db.write() as connection:
            connection.execute(_REPLIED, params)

    def unreachable(self, user_id: str, reason: str) -> None:
        """Nothing more is sent to the user until they write again."""
        self._update(user_id, unreachable_at=now(), unreachable_reason=reason)

    def forget(self, user_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(ZaloOaUser).where(ZaloOaUser.app_id == self.app_id, ZaloOaUser.user_id == user_id))

    def templates_refused(self) -> bool:
        with self.db.read() as connection:
            return (
                connection.scalar(select(ZaloOaAccount.templates_refused_at).where(ZaloOaAccount.app_id == self.app_id))
                is not None
            )

    def refuse_templates(self) -> None:
        with self.db.session() as session:
            session.execute(
                update(ZaloOaAccount).where(ZaloOaAccount.app_id == self.app_id).values(templates_refused_at=now())
            )

    def take_proactive(self, allowance: int, at: datetime | None = None) -> bool:
        """Count one message that is not a reply to a user's message against this month's `allowance`
        (0: no limit); False, and nothing counted, when the month's allowance is used up."""
        month = (at or now()).strftime("%Y-%m")
        limit = allowance if allowance > 0 else 2**31 - 1
        for attempt in (1, 2):  # the month's first message adds its row; two workers may race to add it
            try:
                with self.db.session() as session:
                    counted = session.execute(
                        update(ZaloOaMonth)
                        .where(
                            ZaloOaMonth.app_id == self.app_id,
                            ZaloOaMonth.month == month,
                            ZaloOaMonth.proactive < limit,
                        )
                        .values(proactive=ZaloOaMonth.proactive + 1)
                    )
                    if counted.rowcount:  # type: ignore[attr-defined]
                        return True
                    if session.get(ZaloOaMonth, (self.app_id, month)) is not None:
                        return False
                    session.add(ZaloOaMonth(app_id=self.app_id, month=month, proactive=1))
                return True
            except IntegrityError:
                if attempt == 2:
                    raise
        return False

    def proactive_this_month(self) -> int:
        with self.db.read() as connection:
            count = connection.scalar(
                select(ZaloOaMonth.proactive).where(
                    ZaloOaMonth.app_id == self.app_id, ZaloOaMonth.month == now().strftime("%Y-%m")
                )
            )
        return count or 0
