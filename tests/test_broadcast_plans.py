"""Broadcast plans (bot/broadcasts.py, channels/broadcast_plans.py): lessons or free text, segments counted in SQL,
volunteers held to their region, approval of free text, runs now / at a time / weekly (once a week however
many workers ask), and the report with the lesson's quiz answers. On SQLite and PostgreSQL; the deliveries go
through the real engine to the fake Bot API over HTTP.
"""

from __future__ import annotations

import io
import random
import re
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.broadcasts import (
    AWAITING_APPROVAL,
    REJECTED,
    SCHEDULED,
    SENDABLE,
    WEEKLY,
    BroadcastDesk,
    Draft,
    Schedule,
    Segment,
    links,
    parse_at,
    parse_place,
    parse_weekly,
    unofficial_links,
)
from bot.learning import UserRef
from bot.people import ADMIN, VOLUNTEER, People, Profile, QuietHours, Region
from bot.regions import find_communes, find_provinces
from channels.broadcast import DeliveryEngine, EngineSettings, MemoryGate
from channels.broadcast_plans import SqlBroadcasts
from channels.broadcast_store import BroadcastStore
from channels.broadcast_telegram import TelegramBroadcastSender
from channels.telegram_store import SqlTelegramStore
from channels.zalo_oa_store import ZaloOaStore
from errors import InputError
from hocvu import cli
from knowledge_base.articles import load_articles, official_hosts
from knowledge_base.learning import Lesson, load_lessons
from storage.database import Database
from storage.models import Broadcast, Delivery, User
from storage.people_store import SqlPeopleStore
from storage.stores import SqlLearningStore
from tests.support.fake_telegram import BOT_ID, TOKEN, FakeTelegram
from tests.support.learning_support import migrated_database
from tests.test_broadcast import _config, _env, _wait, _worker

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Hà Nội: outside quiet hours
HOSTS = frozenset({"vneid.gov.vn", "dichvucong.gov.vn", "sbv.gov.vn"})
ADMIN_KEY, VOLUNTEER_KEY, COMMUNE_VOLUNTEER = "telegram:1", "telegram:2", "telegram:3"
TOPICS = ("vneid", "online_safety", "digital_payments")
CHANNELS = ("telegram", "zalo_oa", "zalo_bot")


@pytest.fixture(scope="module")
def lessons() -> dict[str, Lesson]:
    found, problems = load_lessons(REPO / "knowledge_base" / "lessons")
    assert not problems
    return found


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _province(name: str) -> int:
    return find_provinces(name)[0].code


def _commune(name: str, province: str) -> int:
    return find_communes(name, _province(province))[0].code


@dataclass
class Person:
    user: UserRef
    province: int | None
    commune: int | None
    lang: str
    age: str | None
    topics: set[str]  # active subscriptions
    reachable: bool


def people_of(db: Database, count: int, seed: int = 15) -> list[Person]:
    """`count` generated users: places, languages, channels, age bands, subscriptions (some ended), some who
    blocked the bot or left the OA. Fixed seed: the same users every run."""
    rng = random.Random(seed)
    store = SqlPeopleStore(db)
    places = [
        (_province("Ha Noi"), _commune("Hoan Kiem", "Ha Noi")),
        (_province("Ha Noi"), _commune("Ba Dinh", "Ha Noi")),
        (_province("Nghe An"), _commune("Vinh Phu", "Nghe An")),
        (None, None),
    ]
    blocked = SqlTelegramStore(db, BOT_ID)
    followers = ZaloOaStore(db, "app")
    found = []
    for n in range(count):
        channel = rng.choice(CHANNELS)
        user = UserRef(channel, str(900_000 + n))
        province, commune = rng.choice(places)
        age = rng.choice((None, "u40", "40_59", "60p"))
        store.save_profile(user, Profile(province, commune, age, True))
        lang = rng.choice(("vi", "en", None))
        with db.write() as connection:
            connection.execute(
                update(User).where(User.channel == channel, User.external_id == user.user_id).values(lang=lang)
            )
        topics = set(rng.sample(TOPICS, rng.randint(0, 2)))
        for topic in topics:
            store.subscribe(user, topic, NOW)
        if topics and rng.random() < 0.15:  # stopped: never in an audience again
            store.unsubscribe(user, None, "stop_word", NOW)
            topics = set()
        reachable = True
        if channel == "telegram" and rng.random() < 0.1:
            blocked.set_blocked(user.user_id, True)
            reachable = False
        if channel == "zalo_oa":
            followers.interacted(user.user_id, None)
            if rng.random() < 0.1:
                followers.unreachable(user.user_id, "unfollowed")
                reachable = False
        found.append(Person(user, province, commune, lang or "vi", age, topics, reachable))
    return found


def expected(people: list[Person], segment: Segment) -> dict[str, int]:
    """The audience counted independently, in Python, per channel."""
    counts: dict[str, int] = {}
    for p in people:
        ok = (
            p.reachable
            and p.user.channel in (segment.channels or SENDABLE)
            and (p.topics & set(segment.topics) if segment.topics else p.topics)
            and (segment.province_code is None or p.province == segment.province_code)
            and (not segment.commune_codes or p.commune in segment.commune_codes)
            and (not segment.langs or p.lang in segment.langs)
            and (not segment.age_bands or p.age in segment.age_bands)
        )
        if ok:
            counts[p.user.channel] = counts.get(p.user.channel, 0) + 1
    return counts


def desk_of(db: Database, lessons: dict[str, Lesson], clock: Clock | None = None) -> BroadcastDesk:
    no_quiet = QuietHours(time(0, 0), time(0, 0))  # the tests that send run at any hour of the real clock
    people = People(SqlPeopleStore(db), admins=frozenset({ADMIN_KEY}), quiet=no_quiet)
    store = SqlPeopleStore(db)
    store.set_role(VOLUNTEER_KEY, VOLUNTEER, Region(province_code=_province("Ha Noi")), "test", NOW)
    store.set_role(COMMUNE_VOLUNTEER, VOLUNTEER, Region(commune_codes=(_commune("Vinh Phu", "Nghe An"),)), "test", NOW)
    return BroadcastDesk(SqlBroadcasts(db), people, lessons, HOSTS, clock or Clock())


def deliveries(db: Database, broadcast_id: int) -> dict[str, Delivery]:
    with db.session() as session:
        rows = session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)).all()
        session.expunge_all()
    return {f"{r.channel}:{r.user_id}": r for r in rows}


def count_broadcasts(db: Database) -> int:
    with db.read() as connection:
        return int(connection.scalar(select(func.count()).select_from(Broadcast)) or 0)


# -- segments ------------------------------------------------------------------------------------------------


def test_segment_counts_equal_an_independent_count(db: Database) -> None:
    people = people_of(db, 240)
    store = SqlBroadcasts(db)
    ha_noi, nghe_an = _province("Ha Noi"), _province("Nghe An")
    hoan_kiem = _commune("Hoan Kiem", "Ha Noi")
    segments = [
        Segment(),
        Segment(topics=("vneid",)),
        Segment(topics=("vneid", "online_safety")),
        Segment(province_code=ha_noi),
        Segment(province_code=nghe_an, langs=("en",)),
        Segment(commune_codes=(hoan_kiem,), topics=("digital_payments",)),
        Segment(channels=("zalo_oa",), age_bands=("60p",)),
        Segment(langs=("vi",), age_bands=("u40", "40_59"), channels=("telegram",)),
    ]
    for segment in segments:
        want = expected(people, segment)
        got = store.audience(segment)
        assert dict(got.by_channel) == want, segment
        assert got.total == sum(want.values())
    assert sum(expected(people, Segment()).values()) > 50, "the generated users reach too few to test anything"


def test_unsubscribed_blocked_and_unfollowed_users_never_get_a_delivery(
    db: Database, lessons: dict[str, Lesson]
) -> None:
    people = people_of(db, 120, seed=7)
    desk = desk_of(db, lessons)
    created = desk.create(Draft(ADMIN_KEY, Segment(), text="Lịch học tuần này: thứ Bảy 8 giờ tại nhà văn hoá."))
    assert created.runs == (created.id,)
    got = set(deliveries(db, created.id))
    reached = {str(p.user.channel) + ":" + p.user.user_id for p in people if p.topics and p.reachable}
    assert got == reached
    never = {f"{p.user.channel}:{p.user.user_id}" for p in people if not p.topics or not p.reachable}
    assert never and not got & never


# -- who may send what --------------------------------------------------------------------------------------


def test_a_volunteer_is_held_to_their_region(db: Database, lessons: dict[str, Lesson]) -> None:
    people_of(db, 60)
    desk = desk_of(db, lessons)
    lesson = "lesson-safe-01"
    # No place: their region.
    plan = desk.check(Draft(VOLUNTEER_KEY, Segment(), lesson_id=lesson))
    assert plan.segment.province_code == _province("Ha Noi") and plan.status == SCHEDULED
    assert plan.approved_by is None  # a lesson of the knowledge base needs no approval
    # Inside it: a commune of Hà Nội.
    inside = Segment(commune_codes=(_commune("Hoan Kiem", "Ha Noi"),))
    assert desk.check(Draft(VOLUNTEER_KEY, inside, lesson_id=lesson)).segment == Segment(
        topics=("online_safety",), commune_codes=inside.commune_codes
    )
    # Outside it: refused, naming what is outside; nothing created.
    with pytest.raises(InputError, match=r"volunteer for .*Hà Nội: a broadcast to Nghệ An would reach outside"):
        desk.create(Draft(VOLUNTEER_KEY, Segment(province_code=_province("Nghe An")), lesson_id=lesson))
    vinh_phu = _commune("Vinh Phu", "Nghe An")
    with pytest.raises(InputError, match=r"Vinh Phú \(Nghệ An\) is outside that region"):
        desk.create(Draft(VOLUNTEER_KEY, Segment(commune_codes=(inside.commune_codes[0], vinh_phu)), lesson_id=lesson))
    with pytest.raises(InputError, match="would reach outside"):  # a commune volunteer asking for their province
        desk.create(Draft(COMMUNE_VOLUNTEER, Segment(province_code=_province("Nghe An")), lesson_id=lesson))
    with pytest.raises(InputError, match="neither a volunteer nor an admin"):
        desk.create(Draft("telegram:999", Segment(), lesson_id=lesson))
    assert count_broadcasts(db) == 0
    # An admin reaches anyone.
    assert desk.check(Draft(ADMIN_KEY, Segment(province_code=_province("Nghe An")), lesson_id=lesson)).approved_by


def test_free_text_goes_out_only_once_an_admin_approved_it(db: Database, lessons: dict[str, Lesson]) -> None:
    people = people_of(db, 80, seed=3)
    clock = Clock()
    desk = desk_of(db, lessons, clock)
    text = "Tuần này xã hướng dẫn cài VNeID mức 2 tại https://vneid.gov.vn/huong-dan nhé."
    created = desk.create(Draft(VOLUNTEER_KEY, Segment(), text=text))
    assert created.plan.status == AWAITING_APPROVAL and created.runs == ()
    clock.now += timedelta(hours=1)
    assert desk.materialise_due() == []  # the worker's loop makes nothing of it
    assert deliveries(db, created.id) == {}
    with pytest.raises(InputError, match="only an admin may approve"):
        desk.approve(created.id, VOLUNTEER_KEY)
    runs = desk.approve(created.id, ADMIN_KEY)
    assert runs == [created.id]  # its time had come: it starts at once
    report = desk.report(created.id)
    assert (report.approved_by, report.created_by) == (ADMIN_KEY, VOLUNTEER_KEY)
    assert report.approved_at == clock.now
    ha_noi = _province("Ha Noi")
    assert report.total == sum(expected(people, Segment(province_code=ha_noi)).values()) > 0
    with pytest.raises(InputError, match="is sending, not awaiting approval"):
        desk.approve(created.id, ADMIN_KEY)

    refused = desk.create(Draft(VOLUNTEER_KEY, Segment(), text="Họp tổ dân phố tối nay."))
    with pytest.raises(InputError, match="say why"):
        desk.reject(refused.id, ADMIN_KEY, "  ")
    desk.reject(refused.id, ADMIN_KEY, "trùng lịch với thông báo của phường")
    clock.now += timedelta(days=1)
    assert desk.materialise_due() == []
    report = desk.report(refused.id)
    assert (report.status, report.note, report.total) == (REJECTED, "trùng lịch với thông báo của phường", 0)


async def test_nothing_is_sent_before_approval_and_everything_after(lessons: dict[str, Lesson], tmp_path: Path) -> None:
    with migrated_database("sqlite", tmp_path) as db, FakeTelegram() as fake:
        store = SqlPeopleStore(db)
        for n in range(5):
            user = UserRef("telegram", str(800 + n))
            store.save_profile(user, Profile(_province("Ha Noi"), None, None, True))
            store.subscribe(user, "vneid", NOW)
        desk = desk_of(db, lessons, Clock(datetime.now(UTC)))
        created = desk.create(Draft(VOLUNTEER_KEY, Segment(), text="Xin chào bà con"))
        engine = _engine(db, fake)
        async with engine:
            await engine.run_until_idle()
            assert fake.calls("sendMessage") == []
            desk.approve(created.id, ADMIN_KEY)
            await engine.run_until_idle()
        assert sorted(int(r.params["chat_id"]) for r in fake.sent()) == [800, 801, 802, 803, 804]


def _engine(db: Database, fake: FakeTelegram) -> DeliveryEngine:
    sender = TelegramBroadcastSender(TOKEN, fake.base_url, blocked=SqlTelegramStore(db, BOT_ID), timeout=2.0)
    return DeliveryEngine(BroadcastStore(db), [sender], MemoryGate(400.0), EngineSettings(concurrency=8))


# -- bad input ------------------------------------------------------------------------------------------------


def test_bad_input_is_named_and_creates_nothing(db: Database, lessons: dict[str, Lesson]) -> None:
    people_of(db, 40)
    desk = desk_of(db, lessons)
    cases = [
        (Draft(ADMIN_KEY, Segment(), text="  \n"), "the text is empty"),
        (Draft(ADMIN_KEY, Segment(), text="x" * 20_000), "20,000 characters long"),
        (
            Draft(ADMIN_KEY, Segment(), text="y" * 2500),
            "takes at most 2,000 in one message; limit the segment to --channel telegram",
        ),
        (
            Draft(ADMIN_KEY, Segment(), text="Xem tại bit.ly/vneid-moi nhé"),
            "'bit.ly/vneid-moi', which is not an official",
        ),
        (Draft(ADMIN_KEY, Segment(), text="Vào http://vneid.gov.vn.xac-minh.top/login"), "vneid.gov.vn.xac-minh.top"),
        (
            Draft(
                ADMIN_KEY,
                Segment(
                    topics=("vneid",),
                    age_bands=("60p",),
                    langs=("en",),
                    channels=("zalo_oa",),
                    province_code=_province("Lai Chau"),
                ),
                text="Xin chào",
            ),
            "matches nobody",
        ),
        (Draft(ADMIN_KEY, Segment(), lesson_id="lesson-safe-99"), "no lesson 'lesson-safe-99'; did you mean"),
        (Draft(ADMIN_KEY, Segment(topics=("weather",)), lesson_id="lesson-safe-01"), "no topic is called weather"),
        (Draft(ADMIN_KEY, Segment(channels=("viber",)), lesson_id="lesson-safe-01"), "viber is not a channel"),
        (Draft(ADMIN_KEY, Segment()), "say what to send"),
    ]
    for draft, message in cases:
        with pytest.raises(InputError, match=re.escape(message)):
            desk.create(draft)
    assert count_broadcasts(db) == 0
    with pytest.raises(
        InputError, match=r"2026-12-01 08:00 \(Asia/Ho_Chi_Minh\) is in the past: it is 2026-12-07 10:00"
    ):
        parse_at("2026-12-01 08:00", NOW)
    with pytest.raises(InputError, match="not a time like"):
        parse_at("tomorrow", NOW)
    with pytest.raises(InputError, match="not a weekday and a time"):
        parse_weekly("someday 25:00")
    with pytest.raises(InputError, match=r"Hoan Kiem Bac Moi.*did you mean Phường Hoàn Kiếm \(Hà Nội\)"):
        parse_place(None, ["Hoan Kiem Bac Moi, Ha Noi"])


def test_links_and_times_are_read_as_people_write_them() -> None:
    text = "Xem vneid.gov.vn, https://dichvucong.gov.vn/p/home và www.sbv.gov.vn. Tp.HCM, v.v. 8h.Bạn 8.000đ"
    assert links(text)[:3] == ["vneid.gov.vn", "https://dichvucong.gov.vn/p/home", "www.sbv.gov.vn"]
    assert unofficial_links(text.split("Tp.HCM")[0], HOSTS) == []
    assert unofficial_links("tải app tại zalo-vneid.com hoặc ftp://vneid.gov.vn", HOSTS) == [
        "zalo-vneid.com",
        "ftp://vneid.gov.vn",
    ]
    assert parse_weekly("mon 08:00") == Schedule(WEEKLY, weekday=0, clock=time(8, 0))
    assert parse_weekly("Thứ 7 19h30") == Schedule(WEEKLY, weekday=5, clock=time(19, 30))
    assert parse_weekly("CN 7:05").weekday == 6
    weekly = parse_weekly("mon 08:00")
    assert weekly.next_run(NOW) == datetime(2026, 12, 14, 1, 0, tzinfo=UTC)  # 10:00 Monday is past 08:00
    assert weekly.next_run(NOW - timedelta(hours=3)) == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_the_official_sites_are_the_knowledge_bases_sources() -> None:
    hosts = official_hosts(load_articles(REPO / "knowledge_base" / "articles"))
    assert {"vneid.gov.vn", "dichvucong.gov.vn", "sbv.gov.vn"} <= hosts
    assert unofficial_links("https://dichvucong.bocongan.gov.vn/x", hosts) == []
    # Cited as a source, but anyone can make a zalo.me group: a scam group's invite is no official link.
    assert unofficial_links("Vào nhóm: https://zalo.me/g/abcdef", hosts) == ["https://zalo.me/g/abcdef"]


# -- times -------------------------------------------------------------------------------------------------


def test_a_broadcast_at_a_time_starts_then_with_its_audience_of_then(db: Database, lessons: dict[str, Lesson]) -> None:
    people = people_of(db, 60, seed=5)
    clock = Clock()
    desk = desk_of(db, lessons, clock)
    at = parse_at("2026-12-08 08:00", NOW)
    created = desk.create(Draft(ADMIN_KEY, Segment(topics=("vneid",)), at, text="Nhắc lịch: mai 8 giờ."))
    assert created.runs == () and desk.report(created.id).status == SCHEDULED
    assert desk.materialise_due() == []
    late = next(p for p in people if p.reachable and p.user.channel == "telegram" and "vneid" not in p.topics)
    SqlPeopleStore(db).subscribe(late.user, "vneid", NOW)  # subscribes before the time: included
    clock.now = at.first_run(NOW)
    assert desk.materialise_due() == [created.id]
    assert desk.materialise_due() == []  # once
    got = deliveries(db, created.id)
    assert f"telegram:{late.user.user_id}" in got
    late.topics.add("vneid")
    assert len(got) == sum(expected(people, Segment(topics=("vneid",))).values())


def test_quiet_hours_hold_a_run_until_morning(db: Database, lessons: dict[str, Lesson]) -> None:
    people_of(db, 30)
    night = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 23:00 in Hà Nội
    store = SqlBroadcasts(db)
    desk = desk_of(db, lessons, Clock(night))
    plan = desk.check(Draft(ADMIN_KEY, Segment(), lesson_id="lesson-vneid-01"))
    broadcast_id = store.save(plan)
    assert store.materialise_due(night, QuietHours(), only=broadcast_id) == [broadcast_id]
    times = {row.next_attempt_at for row in deliveries(db, broadcast_id).values()}
    assert times == {datetime(2026, 12, 8, 0, 0)}  # 07:00 in Hà Nội, naive UTC


def _materialise_together(db: Database, at: datetime, workers: int = 2) -> list[int]:
    """`workers` threads, each with its own engine and connections (another process, in effect), ask for the
    due runs at the same moment."""
    made: list[int] = []
    start = threading.Barrier(workers)
    lock = threading.Lock()

    def worker() -> None:
        mine = Database(db.url)
        try:
            start.wait()
            got = SqlBroadcasts(mine).materialise_due(at)
            with lock:
                made.extend(got)
        finally:
            mine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return made


def test_a_weekly_plan_makes_one_run_a_week_however_many_workers_ask(db: Database, lessons: dict[str, Lesson]) -> None:
    people_of(db, 50, seed=11)
    clock = Clock()
    desk = desk_of(db, lessons, clock)
    created = desk.create(Draft(VOLUNTEER_KEY, Segment(), parse_weekly("tue 08:00"), lesson_id="lesson-vneid-02"))
    plan = desk.report(created.id)
    first = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert (plan.status, plan.send_at, created.runs) == (SCHEDULED, first, ())
    assert _materialise_together(db, first - timedelta(seconds=1)) == []
    runs: list[int] = []
    for _ in range(5):  # the same moment, over and over: one run
        runs += _materialise_together(db, first + timedelta(seconds=2))
    assert len(runs) == 1
    week_one = deliveries(db, runs[0])
    with pytest.raises(IntegrityError), db.write() as connection:  # the last line of defence: (plan, run time)
        connection.execute(
            insert(Broadcast).values(
                text="x",
                created_by="t",
                created_at=NOW,
                status="sending",
                plan_id=created.id,
                run_at=first.replace(tzinfo=None),
            )
        )
    assert week_one and desk.report(created.id).send_at == first + timedelta(days=7)
    # A new subscriber of the region before the next week is in the next run, which is a broadcast of its own.
    newcomer = UserRef("telegram", "123456")
    SqlPeopleStore(db).save_profile(newcomer, Profile(_province("Ha Noi"), None, None, True))
    SqlPeopleStore(db).subscribe(newcomer, "vneid", NOW)
    runs2 = _materialise_together(db, first + timedelta(days=7, minutes=1), workers=3)
    assert len(runs2) == 1 and runs2 != runs
    week_two = deliveries(db, runs2[0])
    assert set(week_two) == set(week_one) | {"telegram:123456"}
    report = desk.report(created.id)
    assert [r.id for r in report.runs] == [runs2[0], runs[0]]
    assert report.runs[0].run_at == first + timedelta(days=7)
    run = desk.report(runs2[0])
    assert (run.plan_id, run.kind, run.lesson_id, run.created_by) == (
        created.id,
        "lesson",
        "lesson-vneid-02",
        VOLUNTEER_KEY,
    )
    # Missed weeks (every worker down) make one late run, not a backlog.
    assert len(_materialise_together(db, first + timedelta(days=30))) == 1
    assert desk.report(created.id).send_at == first + timedelta(days=35)


# -- lessons and the report ---------------------------------------------------------------------------------


async def test_a_lesson_goes_with_its_quiz_offer_in_each_ones_language_and_the_report_counts_the_quiz(
    db: Database, lessons: dict[str, Lesson]
) -> None:
    store = SqlPeopleStore(db)
    users = [UserRef("telegram", str(700 + n)) for n in range(4)]
    for n, user in enumerate(users):
        store.save_profile(user, Profile(_province("Ha Noi"), None, None, True))
        store.subscribe(user, "online_safety", NOW)
        if n == 3:
            with db.write() as connection:
                connection.execute(update(User).where(User.external_id == user.user_id).values(lang="en"))
    lesson = lessons["lesson-safe-02"]
    with FakeTelegram() as fake:
        desk = desk_of(db, lessons, Clock(datetime.now(UTC)))
        created = desk.create(Draft(VOLUNTEER_KEY, Segment(), lesson_id=lesson.id))
        engine = _engine(db, fake)
        async with engine:
            await engine.run_until_idle()
        texts = {int(r.params["chat_id"]): r.params["text"] for r in fake.sent()}
    assert set(texts) == {700, 701, 702, 703}
    for chat, lang in ((700, "vi"), (703, "en")):
        for part in (lesson.text(lang).title, *lesson.text(lang).messages):
            assert part in texts[chat]
        assert texts[chat].rstrip().splitlines()[-2].endswith(f"/quiz {lesson.id}")
    assert "Kiểm tra nhanh 3 câu" in texts[700] and "quick 3-question quiz" in texts[703]

    # Two recipients then take the quiz (one finishes it); one had taken it before the broadcast: not counted.
    learning = SqlLearningStore(db)
    sent_at = min(r.sent_at for r in deliveries(db, created.id).values() if r.sent_at)
    earlier = learning.start_session(users[2], "lesson", lesson.topic, lesson.id, lesson.quiz, "vi", NOW)
    learning.record_answer(users[2], earlier.id, 0, lesson.quiz[0], 0, True, sent_at - timedelta(days=1))
    after = sent_at.replace(tzinfo=UTC) + timedelta(minutes=5)
    for user, answers in ((users[0], 3), (users[3], 1)):
        session = learning.start_session(user, "lesson", lesson.topic, lesson.id, lesson.quiz, "vi", after)
        for position in range(answers):
            learning.record_answer(user, session.id, position, lesson.quiz[position], 0, True, after)
    report = desk.report(created.id)
    assert (report.counts["sent"], report.quiz_answered, report.quiz_finished) == (4, 2, 1)


def test_the_cli_creates_previews_approves_and_reports(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    people_of(db, 60, seed=21)
    SqlPeopleStore(db).set_role(VOLUNTEER_KEY, VOLUNTEER, Region(province_code=_province("Ha Noi")), "test", NOW)
    SqlPeopleStore(db).set_role("telegram:5", ADMIN, None, "test", NOW)
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.yml"
    settings = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "content_dir": str(REPO / "knowledge_base"),
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")

    def hocvu(*args: str) -> tuple[int, str, str]:
        out = io.StringIO()
        code = cli.main(["--config", str(config), "broadcast", *args], stdout=out)
        return code, out.getvalue(), capsys.readouterr().err

    bad = [
        (["--text", "", "--by", VOLUNTEER_KEY], "the text is empty"),
        (["--text", "x" * 20_000], "20,000 characters long"),
        (
            ["--text", "Vào vneid-xacthuc.com ngay", "--by", VOLUNTEER_KEY],
            "'vneid-xacthuc.com', which is not an official",
        ),
        (["--lesson", "lesson-safe-01", "--at", "2026-01-01 08:00"], "is in the past"),
        (["--lesson", "lesson-safe-01", "--commune", "Hoan Kiem Bac Moi, Ha Noi"], "did you mean Phường Hoàn Kiếm"),
        (["--lesson", "lesson-safe-01", "--by", VOLUNTEER_KEY, "--province", "Nghe An"], "would reach outside"),
        (
            ["--lesson", "lesson-safe-01", "--province", "Lai Chau", "--age-band", "60p", "--lang", "en"],
            "matches nobody",
        ),
        (["--lesson", "lesson-safe-01", "--to", "telegram:1"], "--lesson cannot go with it"),
    ]
    for args, message in bad:
        code, _, err = hocvu("create", *args)
        assert code == 2 and message in err, (args, err)
    assert count_broadcasts(db) == 0

    code, out, _ = hocvu("preview", "--lesson", "lesson-safe-01", "--by", VOLUNTEER_KEY, "--channel", "telegram")
    assert code == 0 and "recipient(s) (telegram " in out and "no approval needed" in out
    code, out, _ = hocvu("create", "--text", "Họp tổ dân phố 19h thứ Bảy.", "--by", VOLUNTEER_KEY)
    assert code == 0 and "broadcast 1 created" in out and "hocvu broadcast approve 1" in out
    code, out, err = hocvu("approve", "1", "--by", VOLUNTEER_KEY)
    assert code == 2 and "only an admin may approve" in err
    code, out, _ = hocvu("approve", "1", "--by", "telegram:5")
    assert code == 0 and "approved by telegram:5; it started" in out
    code, out, _ = hocvu("status", "1")
    assert "approved by telegram:5" in out and "created" in out and f"by {VOLUNTEER_KEY}" in out
    assert "pending" in out and "sent 0" in out
    code, out, _ = hocvu("create", "--lesson", "lesson-vneid-01", "--weekly", "mon 08:00", "--by", VOLUNTEER_KEY)
    assert code == 0 and "every mon 08:00" in out and "scheduled" in out
    code, out, _ = hocvu("list")
    assert "awaiting" not in out and "lesson-vneid-01" in out


def test_the_sqlite_worker_starts_a_plan_when_it_is_due(tmp_path: Path, lessons: dict[str, Lesson]) -> None:
    """`hocvu worker` makes the due run itself (nobody ran create or approve just now) and sends it."""
    with FakeTelegram() as fake:
        config = _config(tmp_path, fake)
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["people"] = {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}  # any hour of the real clock
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
        db = Database(raw["database"]["url"])
        db.upgrade(quiet=True)
        try:
            for n in range(3):
                user = UserRef("telegram", str(600 + n))
                SqlPeopleStore(db).save_profile(user, Profile(_province("Ha Noi"), None, None, True))
                SqlPeopleStore(db).subscribe(user, "vneid", NOW)
            desk = desk_of(db, lessons, Clock(datetime.now(UTC) - timedelta(minutes=1)))
            plan = desk.check(Draft(ADMIN_KEY, Segment(), lesson_id="lesson-vneid-01"))
            broadcast_id = SqlBroadcasts(db).save(plan)  # due a minute ago, not started
            worker = _worker(config, _env(), tmp_path / "worker.log")
            try:
                _wait(lambda: len(fake.sent()) == 3, 60, "the worker sends the lesson")
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(20) == 0
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
            assert SqlBroadcasts(db).report(broadcast_id).counts["sent"] == 3  # type: ignore[union-attr]
            assert all("/quiz lesson-vneid-01" in r.params["text"] for r in fake.sent())
        finally:
            db.dispose()
