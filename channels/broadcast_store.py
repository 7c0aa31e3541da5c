"""The broadcasts and their deliveries (tables `broadcasts`, `deliveries`, storage/models.py).

The `deliveries` table is the truth: one row per (broadcast, recipient), unique. A send **claims** its row
with one conditional UPDATE (pending → sending, only if still pending, due, and its broadcast is sending)
before it calls the platform; whoever's UPDATE changed the row sends it, everyone else skips it, so two
workers (threads, processes, machines) never send one row. The engine claims a row only once it may send
it at once (its waits for the rate and a pause come first), so a row is `sending` for one request only; one
left `sending` longer belongs to a worker that died, and cannot be told from one the platform received:
`recover` makes it `uncertain`, never pending again. The engine claims and finishes rows in batches
(`claim_many`, `finish_many`: one statement for many rows, each row on its own conditions).

A row the platform would take only as a reply to its user (a Zalo OA user whose window is closed) is
`offered`: final for the engine, it waits for its user to write and pull it (bot/offers.py, on SQL in
channels/broadcast_offers.py), then it is sent, with `pulled_at`. Cancelling a broadcast cancels its
offers too, even once it is done.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from bot.broadcasts import AWAITING_APPROVAL, SCHEDULED, SENDABLE, text_problem
from errors import InputError
from storage.database import Database
from storage.models import Base, Broadcast, BroadcastText, Delivery

PENDING, SENDING, SENT, BLOCKED, FAILED, CANCELLED, UNCERTAIN, OFFERED = (
    "pending",
    "sending",
    "sent",
    "blocked",
    "failed",
    "cancelled",
    "uncertain",
    "offered",
)
STATUSES = (PENDING, SENDING, SENT, BLOCKED, FAILED, CANCELLED, UNCERTAIN, OFFERED)
FINAL = frozenset({SENT, BLOCKED, FAILED, CANCELLED, UNCERTAIN, OFFERED})  # the engine is done with the row
# A broadcast's own status.
B_SENDING, B_PAUSED, B_CANCELLED, B_DONE = "sending", "paused", "cancelled", "done"

CHANNELS = ("telegram", "zalo_oa", "zalo_bot")
_IDS = {"telegram": re.compile(r"-?[1-9][0-9]{0,19}"), "zalo_oa": re.compile(r"[0-9A-Za-z_-]{1,64}")}
_IDS["zalo_bot"] = _IDS["zalo_oa"]

_D = Base.metadata.tables[Delivery.__tablename__]
_B = Base.metadata.tables[Broadcast.__tablename__]
_T = Base.metadata.tables[BroadcastText.__tablename__]
# What a delivery carries: a lesson's text in the recipient's language; a free text is the broadcast's own.
# Selected from DELIVERIES_WITH_TEXT (the engine's due rows, the offers of channels/broadcast_offers.py).
DELIVERY_TEXT = func.coalesce(_T.c.text, _B.c.text)
DELIVERIES_WITH_TEXT = _D.join(_B, _B.c.id == _D.c.broadcast_id).outerjoin(
    _T, and_(_T.c.broadcast_id == _D.c.broadcast_id, _T.c.lang == _D.c.lang)
)
# The claim: one statement, conditional on each row being pending and due and its broadcast sending; it
# returns the rows it took (UPDATE ... RETURNING: PostgreSQL, and SQLite since 3.35).
_CLAIM = (
    update(_D)
    .where(
        _D.c.id.in_(bindparam("b_ids", expanding=True)),
        _D.c.status == PENDING,
        _D.c.next_attempt_at <= bindparam("b_now"),
        _D.c.broadcast_id.in_(select(_B.c.id).where(_B.c.status == B_SENDING).scalar_subquery()),
    )
    .values(status=SENDING, attempts=_D.c.attempts + 1, claimed_at=bindparam("b_now"))
    .returning(_D.c.id)
)
# Every outcome is written only over the claim it ends: a row is never moved out of another's hands.
_FINISH = (
    update(_D)
    .where(_D.c.id == bindparam("b_id"), _D.c.status == SENDING)
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        attempts=_D.c.attempts + bindparam("b_refund"),
        sent_at=bindparam("b_sent_at"),
        message_id=bindparam("b_message_id"),
        error=bindparam("b_error"),
    )
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere in the database


@dataclass(frozen=True)
class Recipient:
    channel: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class Due:
    """A delivery due to be sent: what a sender needs, read before it is claimed."""

    id: int
    broadcast_id: int
    channel: str
    user_id: str
    text: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What one send attempt came to; `status` is a delivery status (pending: try again in `retry_in` s)."""

    status: str
    message_id: str | None = None
    error: str | None = None
    retry_in: float = 0.0  # pending only: seconds to wait
    refund: bool = False  # pending only: the attempt does not count (a 429, the chat's own limit)
    pause_all: float = 0.0  # pending only: a 429's retry_after, for which every sender waits
    # The platform takes it only as a reply to the user (no free window is open): the engine offers it to
    # them on a channel that pulls (bot/offers.py), and fails it elsewhere.
    pull_only: bool = False


@dataclass
class Report:
    broadcast_id: int
    status: str
    text: str
    created_by: str
    created_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    pulled: int = 0  # of the sent: offers their users pulled

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return sum(n for status, n in self.counts.items() if status in FINAL)


def parse_recipients(entries: Iterable[str], *, where: str = "--to") -> list[Recipient]:
    """`channel:id` entries (commas, spaces or lines apart; `#` starts a comment), each once, in order.
    Raises InputError naming every malformed entry; an empty list is an error too."""
    found: dict[Recipient, None] = {}
    problems: list[str] = []
    for number, line in enumerate(entries, 1):
        for entry in line.split("#", 1)[0].replace(",", " ").split():
            channel, _, user = entry.partition(":")
            if channel not in CHANNELS:
                problems.append(f"{entry!r} (line {number}): the channel must be one of {', '.join(CHANNELS)}")
            elif not _IDS[channel].fullmatch(user):
                problems.append(f"{entry!r} (line {number}): not a {channel} user id")
            else:
                found[Recipient(channel, user)] = None
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise InputError(f"{where}: {len(problems)} malformed recipient(s), nothing was created: {shown}")
    if not found:
        raise InputError(f"{where}: the recipient list names nobody (expected entries like telegram:123456)")
    return list(found)


class BroadcastStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- operators --------------------------------------------------------------------------------------

    def create(self, text: str, recipients: Sequence[Recipient], created_by: str, at: datetime | None = None) -> int:
        problem = text_problem(text, (r.channel for r in recipients))
        if problem:
            raise InputError(f"{problem}; nothing was created")
        if not recipients:
            raise InputError("the recipient list names nobody; nothing was created")
        unsendable = sorted({r.channel for r in recipients} - set(SENDABLE))
        if unsendable:
            raise InputError(
                f"broadcasts to {', '.join(unsendable)} cannot be delivered yet (only to {', '.join(SENDABLE)}); "
                "nothing was created"
            )
        at = at or now()
        with self.db.write() as connection:
            broadcast_id = connection.execute(
                insert(_B)  # an operator's own list: approved by whoever typed it
                .values(
                    text=text,
                    created_by=created_by,
                    created_at=at,
                    status=B_SENDING,
                    approved_by=created_by,
                    approved_at=at,
                )
                .returning(_B.c.id)
            ).scalar_one()
            rows = [
                {
                    "broadcast_id": broadcast_id,
                    "channel": r.channel,
                    "user_id": r.user_id,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": at,
                }
                for r in recipients
            ]
            for start in range(0, len(rows), 1000):
                connection.execute(insert(_D), rows[start : start + 1000])
        return int(broadcast_id)

    def _set_status(self, broadcast_id: int, status: str, allowed_from: tuple[str, ...]) -> None:
        with self.db.write() as connection:
            current = connection.scalar(select(_B.c.status).where(_B.c.id == broadcast_id))
            if current is None:
                raise InputError(f"there is no broadcast {broadcast_id}")
            if current == status:
                return
            if status == B_CANCELLED and current == B_DONE:  # a done broadcast's offers may still be pulled
                offered = select(_D.c.id).where(_D.c.broadcast_id == broadcast_id, _D.c.status == OFFERED)
                if connection.scalar(offered.limit(1)) is not None:
                    allowed_from = (*allowed_from, B_DONE)
            if current not in allowed_from:
                raise InputError(f"broadcast {broadcast_id} is {current}: it cannot become {status}")
            connection.execute(update(_B).where(_B.c.id == broadcast_id).values(status=status))
            if status == B_CANCELLED:  # what was not sent yet never will be (nor pulled); a send in progress finishes
                connection.execute(
                    update(_D)
                    .where(_D.c.broadcast_id == broadcast_id, _D.c.status.in_((PENDING, OFFERED)))
                    .values(status=CANCELLED, error="cancelled by the operator")
                )

    def pause(self, broadcast_id: int) -> None:
        self._set_status(broadcast_id, B_PAUSED, (B_SENDING,))

    def resume(self, broadcast_id: int) -> None:
        self._set_status(broadcast_id, B_SENDING, (B_PAUSED,))

    def cancel(self, broadcast_id: int) -> None:
        self._set_status(broadcast_id, B_CANCELLED, (B_SENDING, B_PAUSED, SCHEDULED, AWAITING_APPROVAL))

    def resend_uncertain(self, broadcast_id: int) -> int:
        """The operator's decision that the uncertain rows are worth the risk of a second copy: pending again."""
        with self.db.write() as connection:
            current = connection.scalar(select(_B.c.status).where(_B.c.id == broadcast_id))
            if current is None:
                raise InputError(f"there is no broadcast {broadcast_id}")
            if current == B_CANCELLED:
                raise InputError(f"broadcast {broadcast_id} was cancelled")
            changed = connection.execute(
                update(_D)
                .where(_D.c.broadcast_id == broadcast_id, _D.c.status == UNCERTAIN)
                .values(status=PENDING, next_attempt_at=now(), error=None)
            ).rowcount
            if changed and current == B_DONE:
                connection.execute(update(_B).where(_B.c.id == broadcast_id).values(status=B_SENDING))
        return int(changed)

    def report(self, broadcast_id: int) -> Report:
        with self.db.read() as connection:
            row = connection.execute(
                select(_B.c.status, _B.c.text, _B.c.created_by, _B.c.created_at).where(_B.c.id == broadcast_id)
            ).first()
            if row is None:
                raise InputError(f"there is no broadcast {broadcast_id}")
            counts = dict.fromkeys(STATUSES, 0)
            for status, count in connection.execute(
                select(_D.c.status, func.count()).where(_D.c.broadcast_id == broadcast_id).group_by(_D.c.status)
            ):
                counts[status] = int(count)
            reasons = Counter[str]()
            for error, count in connection.execute(
                select(_D.c.error, func.count())
                .where(_D.c.broadcast_id == broadcast_id, _D.c.status == FAILED)
                .group_by(_D.c.error)
            ):
                reasons[error or "unknown"] += int(count)
            pulled = 0
            if counts[SENT]:
                pulled = int(
                    connection.scalar(
                        select(func.count()).where(
                            _D.c.broadcast_id == broadcast_id, _D.c.status == SENT, _D.c.pulled_at.is_not(None)
                        )
                    )
                    or 0
                )
        return Report(broadcast_id, row[0], row[1], row[2], row[3], counts, dict(reasons.most_common()), pulled)

    def recent(self, limit: int = 50) -> list[Report]:
        with self.db.read() as connection:
            ids = connection.scalars(select(_B.c.id).order_by(_B.c.id.desc()).limit(limit)).all()
        return [self.report(int(i)) for i in ids]

    def recipients(self, broadcast_id: int, status: str) -> list[Recipient]:
        with self.db.read() as connection:
            rows = connection.execute(
                select(_D.c.channel, _D.c.user_id).where(_D.c.broadcast_id == broadcast_id, _D.c.status == status)
            ).all()
        return [Recipient(c, u) for c, u in rows]

    # -- the engine -------------------------------------------------------------------------------------

    def due(self, limit: int, channels: Sequence[str], at: datetime | None = None) -> list[Due]:
        """Pending rows of sending broadcasts that are due, oldest first: candidates, not yet claimed."""
        with self.db.read() as connection:
            rows = connection.execute(
                select(_D.c.id, _D.c.broadcast_id, _D.c.channel, _D.c.user_id, DELIVERY_TEXT, _D.c.attempts)
                .select_from(DELIVERIES_WITH_TEXT)
                .where(
                    _D.c.status == PENDING,
                    _D.c.next_attempt_at <= (at or now()),
                    _D.c.channel.in_(list(channels)),
                    _B.c.status == B_SENDING,
                )
                .order_by(_D.c.next_attempt_at, _D.c.id)
                .limit(limit)
            ).all()
        return [Due(*row) for row in rows]

    def next_due_in(self, channels: Sequence[str], at: datetime | None = None) -> float | None:
        """Seconds until the next pending row of a sending broadcast is due (0: now), or None when none is."""
        at = at or now()
        with self.db.read() as connection:
            first = connection.scalar(
                select(func.min(_D.c.next_attempt_at))
                .join(_B, _B.c.id == _D.c.broadcast_id)
                .where(_D.c.status == PENDING, _D.c.channel.in_(list(channels)), _B.c.status == B_SENDING)
            )
        return None if first is None else max(0.0, (first - at).total_seconds())

    @contextmanager
    def _statement(self) -> Iterator[Connection]:
        """A connection for one statement that is its own transaction: on PostgreSQL in autocommit, one
        round trip instead of three (BEGIN, the statement, COMMIT); SQLite's write lock as everywhere."""
        if self.db.is_sqlite:
            with self.db.write() as connection:
                yield connection
        else:
            with self.db.engine.connect() as connection:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")

    def claim(self, delivery_id: int, at: datetime | None = None) -> bool:
        """pending → sending, only if still pending and due and its broadcast still sending: True when this
        caller now owns the row and may send it."""
        return delivery_id in self.claim_many([delivery_id], at)

    def finish(self, delivery_id: int, outcome: Outcome, at: datetime | None = None) -> None:
        """Record what the claimed send came to."""
        self.finish_many([(delivery_id, outcome)], at)

    def recover(self, older_than: float, at: datetime | None = None) -> int:
        """Rows left `sending` for longer than `older_than` seconds: their worker died mid-send, and whether
        the platform got the message is unknown. They become uncertain (an operator may resend them)."""
        cutoff = (at or now()) - timedelta(seconds=older_than)
        with self.db.write() as connection:
            return int(
                connection.execute(
                    update(_D)
                    .where(_D.c.status == SENDING, _D.c.claimed_at < cutoff)
                    .values(status=UNCERTAIN, error="the worker sending it stopped; whether it arrived is unknown")
                ).rowcount
            )

    def close_finished(self) -> int:
        """Sending broadcasts with nothing pending or being sent become done."""
        open_rows = select(_D.c.id).where(_D.c.broadcast_id == _B.c.id, _D.c.status.in_((PENDING, SENDING)))
        with self.db.write() as connection:
            return int(
                connection.execute(
                    update(_B).where(and_(_B.c.status == B_SENDING, ~open_rows.exists())).values(status=B_DONE)
                ).rowcount
            )

    def hold(self, until: datetime, channels: Sequence[str]) -> int:
        """Quiet hours: the pending rows due before `until` become due at `until` (nothing is claimed, failed
        or counted as an attempt); how many were held."""
        with self.db.write() as connection:
            return int(
                connection.execute(
                    update(_D)
                    .where(_D.c.status == PENDING, _D.c.next_attempt_at < until, _D.c.channel.in_(list(channels)))
                    .values(next_attempt_at=until)
                ).rowcount
            )

    def postpone(self, delivery_id: int, seconds: float, at: datetime | None = None) -> None:
        """A pending row not sent now (its chat had a message this second) becomes due `seconds` later;
        unclaimed, so no attempt is counted. A row someone claimed meanwhile is left alone."""
        with self._statement() as connection:
            connection.execute(
                update(_D)
                .where(_D.c.id == delivery_id, _D.c.status == PENDING)
                .values(next_attempt_at=(at or now()) + timedelta(seconds=seconds))
            )

    # -- in batches: the engine's group commit (channels/broadcast.py) ------------------------------------

    def claim_many(self, delivery_ids: Sequence[int], at: datetime | None = None) -> set[int]:
        """`claim` for several rows in one statement (UPDATE ... RETURNING): the ids this caller now owns.
        Each row is claimed or not on its own terms, exactly as by `claim`."""
        if not delivery_ids:
            return set()
        with self._statement() as connection:
            found = connection.execute(_CLAIM, {"b_ids": list(delivery_ids), "b_now": at or now()}).scalars()
            return {int(i) for i in found}

    def finish_many(self, outcomes: Sequence[tuple[int, Outcome]], at: datetime | None = None) -> None:
        """`finish` for several claimed rows in one round trip (executemany: psycopg pipelines it)."""
        if not outcomes:
            return
        at = at or now()
        params = [
            {
                "b_id": delivery_id,
                "b_status": outcome.status,
                "b_next": at + timedelta(seconds=outcome.retry_in),
                "b_refund": -1 if outcome.refund else 0,
                "b_sent_at": at if outcome.status == SENT else None,
                "b_message_id": outcome.message_id,
                "b_error": outcome.error,
            }
            for delivery_id, outcome in outcomes
        ]
        with self._statement() as connection:
            connection.execute(_FINISH, params)
