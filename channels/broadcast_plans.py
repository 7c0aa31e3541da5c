"""The `Broadcasts` seam of bot/broadcasts.py on SQL: plans saved, approved or rejected, their audience chosen
in one query, their runs made when due, and their reports.

A run's deliveries are written by one INSERT ... SELECT of the audience, at the moment the run starts (so a user
who unsubscribed or blocked the bot in between is not in it). Which worker makes a run is decided the way the
engine decides who sends a row: a conditional UPDATE (a one-off plan: scheduled → sending; a weekly plan: its
next run time moved on by a week, only if it still is the one read), then the unique (plan_id, run_at) of
`broadcasts` as the last line of defence. A second worker's attempt is a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    and_,
    distinct,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.broadcasts import (
    AWAITING_APPROVAL,
    KIND_LESSON,
    REJECTED,
    SCHEDULED,
    SENDABLE,
    WEEKLY,
    AudienceCount,
    BroadcastReport,
    Plan,
    RunSummary,
    Schedule,
    Segment,
)
from bot.people import QuietHours, next_allowed_send, parse_clock
from channels.broadcast_store import B_DONE, B_SENDING, PENDING, SENT, BroadcastStore
from storage.database import Database
from storage.models import (
    Base,
    BlockedChat,
    Broadcast,
    BroadcastText,
    Delivery,
    QuizAnswerRow,
    QuizSessionRow,
    Subscription,
    User,
    ZaloOaUser,
)

_B = Base.metadata.tables[Broadcast.__tablename__]
_T = Base.metadata.tables[BroadcastText.__tablename__]
_D = Base.metadata.tables[Delivery.__tablename__]
_U = Base.metadata.tables[User.__tablename__]
_S = Base.metadata.tables[Subscription.__tablename__]
_QS = Base.metadata.tables[QuizSessionRow.__tablename__]
_QA = Base.metadata.tables[QuizAnswerRow.__tablename__]
_BLOCKED = Base.metadata.tables[BlockedChat.__tablename__]
_ZALO = Base.metadata.tables[ZaloOaUser.__tablename__]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def audience_query(segment: Segment) -> Select[Any]:
    """(channel, external_id, lang) of every user the segment reaches now: an active, consented subscription
    (to its topics, or any), a channel the engine delivers to, and not blocked or gone."""
    lang = func.coalesce(_U.c.lang, "vi")
    subscribed = select(_S.c.user_id).where(_S.c.active.is_(True), _S.c.consented_at.is_not(None))
    if segment.topics:
        subscribed = subscribed.where(_S.c.topic.in_(segment.topics))
    query = select(_U.c.channel, _U.c.external_id, lang.label("lang")).where(
        _U.c.id.in_(subscribed),
        _U.c.channel.in_(segment.channels or SENDABLE),
        or_(
            _U.c.channel != "telegram",
            ~select(_BLOCKED.c.user_id).where(_BLOCKED.c.user_id == _U.c.external_id).exists(),
        ),
        or_(
            _U.c.channel != "zalo_oa",
            ~select(_ZALO.c.user_id)
            .where(_ZALO.c.user_id == _U.c.external_id, _ZALO.c.unreachable_at.is_not(None))
            .exists(),
        ),
    )
    if segment.province_code is not None:
        query = query.where(_U.c.province_code == segment.province_code)
    elif segment.commune_codes:
        query = query.where(_U.c.commune_code.in_(segment.commune_codes))
    if segment.langs:
        query = query.where(lang.in_(segment.langs))
    if segment.age_bands:
        query = query.where(_U.c.age_band.in_(segment.age_bands))
    return query


class SqlBroadcasts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def audience(self, segment: Segment) -> AudienceCount:
        chosen = audience_query(segment).subquery()
        with self.db.read() as connection:
            rows = connection.execute(select(chosen.c.channel, func.count()).group_by(chosen.c.channel)).all()
        by_channel = {str(channel): int(n) for channel, n in rows}
        return AudienceCount(sum(by_channel.values()), by_channel)

    def save(self, plan: Plan) -> int:
        schedule = plan.schedule
        with self.db.write() as connection:
            broadcast_id = connection.execute(
                insert(_B)
                .values(
                    text=plan.text,
                    created_by=plan.created_by,
                    created_at=_naive(plan.created_at),
                    status=plan.status,
                    kind=plan.kind,
                    lesson_id=plan.lesson_id,
                    segment=plan.segment.as_json(),
                    schedule=schedule.kind,
                    weekday=schedule.weekday,
                    clock=f"{schedule.clock:%H:%M}" if schedule.clock else None,
                    send_at=_naive(plan.send_at),
                    approved_by=plan.approved_by,
                    approved_at=_naive(plan.approved_at) if plan.approved_at else None,
                )
                .returning(_B.c.id)
            ).scalar_one()
            if plan.texts:
                connection.execute(
                    insert(_T), [{"broadcast_id": broadcast_id, "lang": k, "text": v} for k, v in plan.texts.items()]
                )
        return int(broadcast_id)

    def approve(self, broadcast_id: int, by: str, at: datetime, send_at: datetime) -> bool:
        with self.db.write() as connection:
            return bool(
                connection.execute(
                    update(_B)
                    .where(_B.c.id == broadcast_id, _B.c.status == AWAITING_APPROVAL)
                    .values(status=SCHEDULED, approved_by=by, approved_at=_naive(at), send_at=_naive(send_at))
                ).rowcount
            )

    def reject(self, broadcast_id: int, by: str, reason: str, at: datetime) -> bool:
        with self.db.write() as connection:
            return bool(
                connection.execute(
                    update(_B)
                    .where(_B.c.id == broadcast_id, _B.c.status == AWAITING_APPROVAL)
                    .values(status=REJECTED, rejected_by=by, rejected_at=_naive(at), reject_reason=reason)
                ).rowcount
            )

    # -- runs -------------------------------------------------------------------------------------------

    def materialise_due(self, now: datetime, quiet: QuietHours | None = None, *, only: int | None = None) -> list[int]:
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        query = select(_B.c.id, _B.c.send_at).where(_B.c.status == SCHEDULED, _B.c.send_at <= _naive(now))
        if only is not None:
            query = query.where(_B.c.id == only)
        with self.db.read() as connection:
            due = connection.execute(query.order_by(_B.c.send_at, _B.c.id)).all()
        hold = next_allowed_send(now, quiet) if quiet is not None else now
        started = []
        for broadcast_id, send_at in due:
            try:
                with self.db.write() as connection:
                    run = self._start(connection, broadcast_id, send_at, now, hold)
            except IntegrityError:  # another worker made this week's run first
                run = None
            if run is not None:
                started.append(run)
        return started

    def _start(self, connection: Any, plan_id: int, send_at: datetime, now: datetime, hold: datetime) -> int | None:
        plan = connection.execute(select(_B).where(_B.c.id == plan_id)).mappings().one()
        if plan["schedule"] == WEEKLY:
            schedule = Schedule(WEEKLY, weekday=plan["weekday"], clock=parse_clock(plan["clock"]))
            moved = connection.execute(
                update(_B)
                .where(_B.c.id == plan_id, _B.c.status == SCHEDULED, _B.c.send_at == send_at)
                .values(send_at=_naive(schedule.next_run(now)))  # missed weeks are skipped: one late run, no backlog
            ).rowcount
            if not moved:
                return None
            copied = {
                k: plan[k]
                for k in ("text", "created_by", "kind", "lesson_id", "segment", "schedule", "weekday", "clock")
            }
            run_id = int(
                connection.execute(
                    insert(_B)
                    .values(
                        **copied,
                        created_at=_naive(now),
                        status=B_SENDING,
                        send_at=send_at,
                        plan_id=plan_id,
                        run_at=send_at,
                        approved_by=plan["approved_by"],
                        approved_at=plan["approved_at"],
                    )
                    .returning(_B.c.id)
                ).scalar_one()
            )
            connection.execute(
                insert(_T).from_select(
                    ["broadcast_id", "lang", "text"],
                    select(literal(run_id, Integer), _T.c.lang, _T.c.text).where(_T.c.broadcast_id == plan_id),
                )
            )
        else:
            started = connection.execute(
                update(_B).where(_B.c.id == plan_id, _B.c.status == SCHEDULED).values(status=B_SENDING)
            ).rowcount
            if not started:
                return None
            run_id = plan_id
        chosen = audience_query(Segment.from_json(plan["segment"] or {})).subquery()
        made = connection.execute(
            insert(_D).from_select(
                ["broadcast_id", "channel", "user_id", "status", "attempts", "next_attempt_at", "lang"],
                select(
                    literal(run_id, Integer),
                    chosen.c.channel,
                    chosen.c.external_id,
                    literal(PENDING, String),
                    literal(0, Integer),
                    literal(_naive(hold), DateTime),
                    chosen.c.lang,
                ),
            )
        ).rowcount
        if not made:  # nobody is in the segment any more: nothing to send, and that is its report
            connection.execute(update(_B).where(_B.c.id == run_id).values(status=B_DONE))
        return run_id

    # -- reports ------------------------------------------------------------------------------------------

    def report(self, broadcast_id: int) -> BroadcastReport | None:
        with self.db.read() as connection:
            row = connection.execute(select(_B).where(_B.c.id == broadcast_id)).mappings().first()
            if row is None:
                return None
            runs: list[Any] = []
            if row["schedule"] == WEEKLY and row["plan_id"] is None:
                runs = list(
                    connection.execute(
                        select(_B.c.id, _B.c.run_at, _B.c.status)
                        .where(_B.c.plan_id == broadcast_id)
                        .order_by(_B.c.run_at.desc())
                    ).all()
                )
            quiz = self._quiz(connection, [broadcast_id, *(r.id for r in runs)], row["lesson_id"])
            totals: dict[int, dict[str, int]] = defaultdict(dict)
            if runs:
                for run_id, status, count in connection.execute(
                    select(_D.c.broadcast_id, _D.c.status, func.count())
                    .where(_D.c.broadcast_id.in_([r.id for r in runs]))
                    .group_by(_D.c.broadcast_id, _D.c.status)
                ):
                    totals[run_id][status] = int(count)
        engine = BroadcastStore(self.db).report(broadcast_id)  # the engine's counts, one place
        clock = parse_clock(row["clock"]) if row["clock"] else None
        segment = Segment.from_json(row["segment"]) if row["segment"] is not None else None
        return BroadcastReport(
            id=broadcast_id,
            kind=row["kind"],
            lesson_id=row["lesson_id"],
            status=row["status"],
            text=row["text"],
            segment=segment,
            schedule=Schedule(
                row["schedule"],
                at=_aware(row["send_at"]) if row["schedule"] == "at" else None,
                weekday=row["weekday"],
                clock=clock,
            ),
            send_at=_aware(row["send_at"]),
            created_by=row["created_by"],
            created_at=_aware(row["created_at"]) or datetime.min,
            approved_by=row["approved_by"],
            approved_at=_aware(row["approved_at"]),
            note=row["reject_reason"],
            plan_id=row["plan_id"],
            counts=engine.counts,
            failed_by_reason=engine.failed_by_reason,
            pulled=engine.pulled,
            quiz_answered=quiz.get(broadcast_id, (0, 0))[0],
            quiz_finished=quiz.get(broadcast_id, (0, 0))[1],
            runs=[
                RunSummary(
                    r.id,
                    _aware(r.run_at) or datetime.min,
                    r.status,
                    sum(totals[r.id].values()),
                    totals[r.id].get(SENT, 0),
                    quiz.get(r.id, (0, 0))[0],
                )
                for r in runs
            ],
        )

    def _quiz(self, connection: Any, broadcast_ids: list[int], lesson_id: str | None) -> dict[int, tuple[int, int]]:
        """Per broadcast: recipients it was sent to who then answered its lesson's quiz, and who finished it
        (a quiz session of that lesson with an answer, or finished, after the message was sent)."""
        if not lesson_id:
            return {}
        sent = (
            select(_D.c.id, _D.c.broadcast_id, _D.c.sent_at, _U.c.id.label("uid"))
            .join(_U, and_(_U.c.channel == _D.c.channel, _U.c.external_id == _D.c.user_id))
            .where(_D.c.broadcast_id.in_(broadcast_ids), _D.c.status == SENT)
            .subquery()
        )
        of_lesson = and_(_QS.c.user_id == sent.c.uid, _QS.c.kind == KIND_LESSON, _QS.c.ref == lesson_id)
        answered = (
            select(_QS.c.id)
            .join(_QA, _QA.c.session_id == _QS.c.id)
            .where(of_lesson, _QA.c.answered_at >= sent.c.sent_at)
            .exists()
        )
        finished = (
            select(_QS.c.id).where(of_lesson, _QS.c.status == "finished", _QS.c.finished_at >= sent.c.sent_at).exists()
        )
        found: dict[int, tuple[int, int]] = {}
        for broadcast_id, n_answered, n_finished in connection.execute(
            select(
                sent.c.broadcast_id,
                func.count(distinct(sent.c.id)).filter(answered),
                func.count(distinct(sent.c.id)).filter(finished),
            ).group_by(sent.c.broadcast_id)
        ):
            found[int(broadcast_id)] = (int(n_answered), int(n_finished))
        return found

    def recent(self, limit: int = 50) -> list[BroadcastReport]:
        with self.db.read() as connection:
            ids = connection.scalars(select(_B.c.id).order_by(_B.c.id.desc()).limit(limit)).all()
        return [r for r in (self.report(int(i)) for i in ids) if r is not None]

    def awaiting(self, limit: int = 20) -> list[BroadcastReport]:
        with self.db.read() as connection:
            ids = connection.scalars(
                select(_B.c.id).where(_B.c.status == AWAITING_APPROVAL).order_by(_B.c.id).limit(limit)
            ).all()
        return [r for r in (self.report(int(i)) for i in ids) if r is not None]
