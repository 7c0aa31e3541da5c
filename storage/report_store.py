"""The `Reports` seam on SQL: every figure of a report is an aggregate computed by the database.

Each query groups by the user's province and commune (a user with none is grouped under NULL: "unknown",
never dropped) and counts the period and the one before it in one pass over both, with CASE inside SUM or
COUNT(DISTINCT ...). The top articles are ranked with ROW_NUMBER() OVER (PARTITION BY the area). Periods are
compared on their bounds converted to naive UTC, so the indexes on the time columns (migration 0011) serve
every range. The same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, distinct, func, literal, null, select, union_all
from sqlalchemy.sql import Select

from bot import regions
from bot.people import Region
from bot.reports import (
    Area,
    Counts,
    Definition,
    Period,
    Progress,
    Report,
    TopicFigures,
    roll_up,
    topic_order,
)
from storage.database import Database
from storage.models import (
    AnswerFeedback,
    Broadcast,
    CertificateRow,
    ConversationLog,
    Delivery,
    QuizSessionRow,
    User,
)

ANSWERED_INTENT = "ask_question"  # bot/handlers.py logs an article shown for a question with this intent
BUTTON_TURN = "<button %"  # the journal's text of a pressed button (bot/assistant.py): no question typed

AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any columns
Key = tuple[int | None, int | None]  # (province code, commune code)
WORK_MEM = "64MB"
STEPS = 7  # the queries of one report, for a progress bar


@dataclass(frozen=True)
class _Bounds:
    before: datetime  # the previous period's start...
    start: datetime  # ...this period's start (the previous one's end)...
    end: datetime  # ...and its end; all naive UTC


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlReports:
    def __init__(self, db: Database, definition: Definition) -> None:
        self.db = db
        self.definition = definition

    def report(self, period: Period, region: Region | None, progress: Progress | None = None) -> Report:
        before, start = period.previous().bounds(self.definition.zone)
        _, end = period.bounds(self.definition.zone)
        b = _Bounds(before, start, end)
        step: Progress = progress or (lambda _name: None)
        now: defaultdict[Key, dict[str, int]] = defaultdict(dict)
        then: defaultdict[Key, dict[str, int]] = defaultdict(dict)
        topics: defaultdict[str, list[int]] = defaultdict(lambda: [0] * 6)
        with self.db.read() as connection:
            if not self.db.is_sqlite:
                # Grouping a quarter's messages by place sorts or hashes a few hundred thousand rows: in memory
                # rather than in temporary files (the default 4 MB), for this transaction only.
                connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
            run: Callable[[AnySelect], list[Any]] = lambda query: list(connection.execute(query))  # noqa: E731
            for row in run(self._users(b, region)):
                _put(now, then, row, "registered", "new_users", "elderly", "skilled", "skilled_elderly")
            step("users")
            for row in run(self._log(b, region)):
                _put(now, then, row, "active_users", "answered", "dont_know")
            step("conversation log")
            for row in run(self._quizzes(b, region)):
                _add(now, then, row, "quiz_attempts", "quiz_passed")
                figures = topics[row.topic]
                figures[0] += row.quiz_attempts
                figures[1] += row.quiz_passed
                figures[3] += row.quiz_attempts_before
                figures[4] += row.quiz_passed_before
            step("quizzes")
            for row in run(self._certificates(b, region)):
                _add(now, then, row, "certificates")
                topics[row.topic][2] += row.certificates
                topics[row.topic][5] += row.certificates_before
            step("certificates")
            for row in run(self._feedback(b, region)):
                _put(now, then, row, "feedback_up", "feedback_down")
            step("feedback")
            broadcasts: dict[str, dict[Any, tuple[int, int]]] = {"commune": {}, "province": {}, "total": {}}
            for row in run(self._deliveries(b, region)):
                if row.level == "commune":
                    _put(now, then, row, "recipients", "delivered")
                broadcasts[row.level][_level_key(row, row.level)] = (int(row.broadcasts), int(row.broadcasts_before))
            step("broadcasts")
            top: dict[str, dict[Any, list[tuple[str, int]]]] = {"commune": {}, "province": {}, "total": {}}
            for row in run(self._top(b, region)):
                top[row.level].setdefault(_level_key(row, row.level), []).append((row.article_id, int(row.n)))
            step("top articles")

        keys = set(now) | set(then)
        if region is not None:  # a commune asked for is shown, with zeros if nothing happened there
            keys |= {(_province_of(code), code) for code in region.commune_codes}
        communes = []
        for key in sorted(keys, key=_order):
            current, previous = Counts(**now.get(key, {})), Counts(**then.get(key, {}))
            sent = broadcasts["commune"].get(key, (0, 0))
            current, previous = _with_questions(current, sent[0]), _with_questions(previous, sent[1])
            communes.append(Area(key[0], key[1], current, previous, tuple(top["commune"].get(key, ())), "commune"))
        provinces = [
            _with_level_figures(area, broadcasts["province"].get(area.province_code, (0, 0)), top["province"])
            for area in roll_up(communes, "province")
        ]
        totals = roll_up(communes, "total") or [Area(None, None, Counts(), Counts(), level="total")]
        total = _with_level_figures(totals[0], broadcasts["total"].get(None, (0, 0)), top["total"])
        return Report(
            period,
            region,
            self.definition,
            tuple(communes),
            tuple(sorted(provinces, key=lambda a: _order((a.province_code, None)))),
            total,
            tuple(
                TopicFigures(topic, *figures)
                for topic, figures in sorted(topics.items(), key=lambda item: topic_order(item[0]))
            ),
            generated_at=datetime.now(UTC),
        )

    # -- the queries ---------------------------------------------------------------------------------------

    def _users(self, b: _Bounds, region: Region | None) -> AnySelect:
        d, c = self.definition, CertificateRow
        held = (
            select(
                c.user_id,
                _sum(c.issued_at < b.end).label("now"),
                _sum(c.issued_at < b.start).label("before"),
            )
            .where(c.topic.in_(d.certificates), c.issued_at < b.end)
            .group_by(c.user_id)
            .subquery()
        )
        elderly = User.age_band.in_(d.elderly_age_bands)
        columns: list[ColumnElement[Any]] = []
        for suffix, end, start in (("", b.end, b.start), ("_before", b.start, b.before)):
            there = User.created_at < end
            skilled = and_(there, (held.c.now if not suffix else held.c.before) >= d.needed)
            columns += [
                _sum(there).label("registered" + suffix),
                _sum(and_(User.created_at >= start, there)).label("new_users" + suffix),
                _sum(and_(there, elderly)).label("elderly" + suffix),
                _sum(skilled).label("skilled" + suffix),
                _sum(and_(skilled, elderly)).label("skilled_elderly" + suffix),
            ]
        query = (
            select(User.province_code, User.commune_code, *columns)
            .select_from(User.__table__.outerjoin(held, held.c.user_id == User.id))
            .where(User.created_at < b.end)
        )
        return _in_region(query, region).group_by(User.province_code, User.commune_code)

    def _log(self, b: _Bounds, region: Region | None) -> AnySelect:
        """Turns are summed per user first, then per place: the join to users and the grouping by place then
        see one row per user instead of one per message, and "active" needs no COUNT(DISTINCT)."""
        log = ConversationLog
        answered = and_(log.intent == ANSWERED_INTENT, log.fallback.is_(False), ~log.redacted_text.like(BUTTON_TURN))
        dont_know = log.fallback.is_(True)
        inner: list[ColumnElement[Any]] = []
        for suffix, inside in (("", log.created_at >= b.start), ("_before", log.created_at < b.start)):
            inner += [
                func.max(case((inside, 1), else_=0)).label("active" + suffix),
                _sum(and_(inside, answered)).label("answered" + suffix),
                _sum(and_(inside, dont_know)).label("dont_know" + suffix),
            ]
        per_user = (
            select(log.user_id, *inner)
            .where(log.created_at >= b.before, log.created_at < b.end)
            .group_by(log.user_id)
            .subquery()
        )
        known = per_user.c.user_id.is_not(None)  # turns of forgotten users count, but as nobody
        columns: list[ColumnElement[Any]] = []
        for suffix in ("", "_before"):
            columns += [
                _sum(and_(known, per_user.c["active" + suffix] == 1)).label("active_users" + suffix),
                func.coalesce(func.sum(per_user.c["answered" + suffix]), 0).label("answered" + suffix),
                func.coalesce(func.sum(per_user.c["dont_know" + suffix]), 0).label("dont_know" + suffix),
            ]
        query = select(User.province_code, User.commune_code, *columns).select_from(
            per_user.outerjoin(User.__table__, User.id == per_user.c.user_id)
        )
        return _in_region(query, region).group_by(User.province_code, User.commune_code)

    def _quizzes(self, b: _Bounds, region: Region | None) -> AnySelect:
        q = QuizSessionRow
        # A finished quiz's position is its number of questions (bot/learning.py): passed as bot/quiz.py says.
        passed = 100 * q.correct >= self.definition.pass_percent * q.position
        columns: list[ColumnElement[Any]] = []
        for suffix, inside in (("", q.finished_at >= b.start), ("_before", q.finished_at < b.start)):
            columns += [
                _sum(inside).label("quiz_attempts" + suffix),
                _sum(and_(inside, passed, q.position > 0)).label("quiz_passed" + suffix),
            ]
        query = (
            select(User.province_code, User.commune_code, q.topic, *columns)
            .select_from(q.__table__.join(User.__table__, User.id == q.user_id))
            .where(q.status == "finished", q.kind != "review", q.finished_at >= b.before, q.finished_at < b.end)
        )
        return _in_region(query, region).group_by(User.province_code, User.commune_code, q.topic)

    def _certificates(self, b: _Bounds, region: Region | None) -> AnySelect:
        c = CertificateRow
        columns: list[Any] = [
            User.province_code,
            User.commune_code,
            c.topic,
            _sum(c.issued_at >= b.start).label("certificates"),
            _sum(c.issued_at < b.start).label("certificates_before"),
        ]
        query = (
            select(*columns)
            .select_from(c.__table__.join(User.__table__, User.id == c.user_id))
            .where(c.issued_at >= b.before, c.issued_at < b.end)
        )
        return _in_region(query, region).group_by(User.province_code, User.commune_code, c.topic)

    def _feedback(self, b: _Bounds, region: Region | None) -> AnySelect:
        f = AnswerFeedback
        columns: list[ColumnElement[Any]] = []
        for suffix, inside in (("", f.created_at >= b.start), ("_before", f.created_at < b.start)):
            columns += [
                _sum(and_(inside, f.positive.is_(True))).label("feedback_up" + suffix),
                _sum(and_(inside, f.positive.is_(False))).label("feedback_down" + suffix),
            ]
        query = (
            select(User.province_code, User.commune_code, *columns)
            .select_from(f.__table__.join(User.__table__, User.id == f.user_id))
            .where(f.created_at >= b.before, f.created_at < b.end)
        )
        return _in_region(query, region).group_by(User.province_code, User.commune_code)

    def _deliveries(self, b: _Bounds, region: Region | None) -> AnySelect:
        """Broadcasts created in the period with a recipient in the area, and their deliveries there.

        A broadcast reaches many communes, so it is counted at each level (commune, province, total) from the
        deliveries summed per (place, broadcast) once: the communes' numbers do not add up to the province's."""
        d, bc = Delivery, Broadcast
        per_place = (
            _in_region(
                select(
                    User.province_code,
                    User.commune_code,
                    bc.id.label("broadcast_id"),
                    case((bc.created_at >= b.start, 1), else_=0).label("now"),
                    func.count().label("recipients"),
                    _sum(d.status == "sent").label("delivered"),
                )
                .select_from(
                    d.__table__.join(bc.__table__, bc.id == d.broadcast_id).outerjoin(
                        User.__table__, and_(User.channel == d.channel, User.external_id == d.user_id)
                    )
                )
                .where(bc.created_at >= b.before, bc.created_at < b.end),
                region,
            )
            .group_by(User.province_code, User.commune_code, bc.id, bc.created_at)
            .cte("deliveries_per_place")
        )
        c = per_place.c
        levels = []
        for level, groups in (
            ("commune", [c.province_code, c.commune_code]),
            ("province", [c.province_code]),
            ("total", []),
        ):
            columns: list[ColumnElement[Any]] = [
                literal(level).label("level"),
                (c.province_code if groups else cast(null(), Integer)).label("province_code"),
                (c.commune_code if level == "commune" else cast(null(), Integer)).label("commune_code"),
            ]
            for suffix, flag in (("", 1), ("_before", 0)):
                columns += [
                    func.count(distinct(case((c.now == flag, c.broadcast_id)))).label("broadcasts" + suffix),
                    func.coalesce(func.sum(case((c.now == flag, c.recipients), else_=0)), 0).label(
                        "recipients" + suffix
                    ),
                    func.coalesce(func.sum(case((c.now == flag, c.delivered), else_=0)), 0).label("delivered" + suffix),
                ]
            query = select(*columns)
            levels.append(query.group_by(*groups) if groups else query)
        return union_all(*levels)  # type: ignore[return-value]

    def _top(self, b: _Bounds, region: Region | None) -> AnySelect:
        """The articles that answered most questions in each commune, each province and overall, ranked in the
        database: the log is read once into counts per (place, article), which the three rankings share."""
        log = ConversationLog
        counts = (
            _in_region(
                select(User.province_code, User.commune_code, log.article_id, func.count().label("n"))
                .select_from(log.__table__.outerjoin(User.__table__, User.id == log.user_id))
                .where(
                    log.created_at >= b.start,
                    log.created_at < b.end,
                    log.intent == ANSWERED_INTENT,
                    log.fallback.is_(False),
                    log.article_id.is_not(None),
                    ~log.redacted_text.like(BUTTON_TURN),
                ),
                region,
            )
            .group_by(User.province_code, User.commune_code, log.article_id)
            .cte("article_counts")
        )
        ranked = []
        for level, groups in (
            ("commune", [counts.c.province_code, counts.c.commune_code]),
            ("province", [counts.c.province_code]),
            ("total", []),
        ):
            if level == "commune" and region is None:
                # Ranking every article of some 3,300 communes is most of a country report's time, for a list
                # nobody reads at that scale: a province's or a commune's report has them.
                continue
            commune_level = level == "commune"  # the counts are already per commune: ranked as they are
            n = counts.c.n if commune_level else func.sum(counts.c.n)
            rank = func.row_number().over(partition_by=groups or None, order_by=(n.desc(), counts.c.article_id))
            province = counts.c.province_code if groups else cast(null(), Integer)
            commune = counts.c.commune_code if commune_level else cast(null(), Integer)
            query = select(
                literal(level).label("level"),
                province.label("province_code"),
                commune.label("commune_code"),
                counts.c.article_id,
                n.label("n"),
                rank.label("rank"),
            )
            inner = (query if commune_level else query.group_by(*groups, counts.c.article_id)).subquery()
            ranked.append(select(inner).where(inner.c.rank <= self.definition.top_articles))
        every = union_all(*ranked).subquery()
        return select(every).order_by(every.c.level, every.c.rank)


# -- helpers --------------------------------------------------------------------------------------------


def _in_region(query: AnySelect, region: Region | None) -> AnySelect:
    if region is None:
        return query
    if region.province_code is not None:
        return query.where(User.province_code == region.province_code)
    return query.where(User.commune_code.in_(region.commune_codes) if region.commune_codes else literal(False))


def _level_columns(level: str) -> list[Any]:
    if level == "commune":
        return [User.province_code, User.commune_code]
    return [User.province_code] if level == "province" else []


def _level_key(row: Any, level: str) -> Any:
    if level == "commune":
        return (row.province_code, row.commune_code)
    return row.province_code if level == "province" else None


def _put(now: dict[Key, dict[str, int]], then: dict[Key, dict[str, int]], row: Any, *names: str) -> None:
    key = (row.province_code, row.commune_code)
    for name in names:
        now[key][name] = int(getattr(row, name))
        then[key][name] = int(getattr(row, name + "_before"))


def _add(now: dict[Key, dict[str, int]], then: dict[Key, dict[str, int]], row: Any, *names: str) -> None:
    key = (row.province_code, row.commune_code)
    for name in names:
        now[key][name] = now[key].get(name, 0) + int(getattr(row, name))
        then[key][name] = then[key].get(name, 0) + int(getattr(row, name + "_before"))


def _with_questions(counts: Counts, broadcasts: int) -> Counts:
    return replace(counts, questions=counts.answered + counts.dont_know, broadcasts=broadcasts)


def _with_level_figures(area: Area, broadcasts: tuple[int, int], top: dict[Any, list[tuple[str, int]]]) -> Area:
    key = area.province_code if area.level == "province" else None
    return replace(
        area,
        now=replace(area.now, broadcasts=broadcasts[0]),
        before=replace(area.before, broadcasts=broadcasts[1]),
        top_articles=tuple(top.get(key, ())),
    )


def _province_of(commune_code: int) -> int | None:
    unit = regions.commune(commune_code)
    return unit.province_code if unit else None


def _order(key: Key) -> tuple[int, str, int]:
    """Provinces by code, unknown last; communes by name, unknown last."""
    province, commune = key
    unit = regions.commune(commune) if commune is not None else None
    return (province if province is not None else 10**9, unit.name if unit else "\uffff", commune or 0)
