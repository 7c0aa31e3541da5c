"""The `Offers` seam of bot/offers.py on SQL: the deliveries the engine kept as offers (status `offered`).

A user's offers are read through a partial index that holds only the rows on offer, so the read every
message of a Zalo OA user costs stays small however many deliveries the table holds. Pulling one is one
conditional UPDATE (offered → sent, only while still offered and its broadcast sending or done), so a double
tap, two workers or a cancel at the same moment never deliver one offer twice or after its cancellation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, literal_column, select, update

from bot.broadcasts import Segment
from bot.offers import Offer
from channels.broadcast_store import (
    B_DONE,
    B_SENDING,
    CANCELLED,
    DELIVERIES_WITH_TEXT,
    DELIVERY_TEXT,
    OFFERED,
    SENT,
)
from storage.database import Database
from storage.models import Base, Broadcast, Delivery

_D = Base.metadata.tables[Delivery.__tablename__]
_B = Base.metadata.tables[Broadcast.__tablename__]
_STANDING = select(_B.c.id).where(_B.c.status.in_((B_SENDING, B_DONE))).scalar_subquery()
# Written out, not a bound parameter: a plan made for any status (PostgreSQL's generic plans) could not use
# the partial index, whose condition is this.
_ON_OFFER = _D.c.status == literal_column(f"'{OFFERED}'")


class SqlOffers:
    def __init__(self, db: Database) -> None:
        self.db = db

    def waiting(self, channel: str, user_id: str) -> list[Offer]:
        with self.db.read() as connection:
            rows = connection.execute(
                select(_D.c.id, _D.c.broadcast_id, _B.c.lesson_id, _B.c.segment, DELIVERY_TEXT, _D.c.announced_at)
                .select_from(DELIVERIES_WITH_TEXT)
                .where(
                    _D.c.channel == channel,
                    _D.c.user_id == user_id,
                    _ON_OFFER,
                    _B.c.status.in_((B_SENDING, B_DONE)),
                )
                .order_by(_D.c.id)
            ).all()
        return [
            Offer(
                int(delivery_id),
                int(broadcast_id),
                lesson_id,
                Segment.from_json(segment).topics if segment is not None else (),
                text,
                announced_at is not None,
            )
            for delivery_id, broadcast_id, lesson_id, segment, text, announced_at in rows
        ]

    def announce(self, ids: Sequence[int], at: datetime) -> None:
        with self.db.write() as connection:
            connection.execute(
                update(_D)
                .where(_D.c.id.in_(list(ids)), _D.c.status == OFFERED, _D.c.announced_at.is_(None))
                .values(announced_at=at)
            )

    def pull(self, delivery_id: int, at: datetime) -> bool:
        with self.db.write() as connection:
            return bool(
                connection.execute(
                    update(_D)
                    .where(_D.c.id == delivery_id, _D.c.status == OFFERED, _D.c.broadcast_id.in_(_STANDING))
                    .values(
                        status=SENT,
                        sent_at=at,
                        pulled_at=at,
                        announced_at=func.coalesce(_D.c.announced_at, at),
                    )
                ).rowcount
            )

    def withdraw(self, ids: Sequence[int], reason: str) -> None:
        with self.db.write() as connection:
            connection.execute(
                update(_D).where(_D.c.id.in_(list(ids)), _D.c.status == OFFERED).values(status=CANCELLED, error=reason)
            )
