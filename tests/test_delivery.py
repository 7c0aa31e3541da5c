"""The delivery engine's timing and where it runs: quiet hours, recovery of dead workers' rows (and only
theirs), delivery inside `hocvu serve`, the Zalo Bot's sender. Against the fakes over real HTTP, on SQLite
and PostgreSQL; time is the engine's injected clock, never a sleep until the morning.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.people import QuietHours
from channels.broadcast import DeliveryEngine, EngineSettings, MemoryGate
from channels.broadcast_store import PENDING, SENT, BroadcastStore, Recipient
from channels.broadcast_telegram import TelegramBroadcastSender
from channels.telegram import make_bot
from storage.database import Database
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.learning_support import migrated_database
from tests.test_broadcast import check_invariant, rows

FIRST_CHAT = 900_000
CLIENT_TIMEOUT = 2.0
REDIS_DB = 6  # of this module's own
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with migrated_database(request.param, tmp_path) as database:
        yield database


def recipients(count: int, first: int = FIRST_CHAT) -> list[Recipient]:
    return [Recipient("telegram", str(first + n)) for n in range(count)]


def hanoi(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Vietnam on a December 2026 day, as the database keeps times (naive UTC)."""
    local = datetime(2026, 12, day, hour, minute, tzinfo=VN)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def telegram_engine(db: Database, fake: FakeTelegram, clock: Clock, **settings: float) -> DeliveryEngine:
    bot = make_bot(TOKEN, fake.base_url, request_timeout=CLIENT_TIMEOUT)
    options = {"concurrency": 16, "base_delay": 0.05, "max_attempts": 4, **settings}
    return DeliveryEngine(
        BroadcastStore(db),
        [TelegramBroadcastSender(bot)],
        MemoryGate(400.0, per_chat=0.0),  # the chats' own second is real time, not the clock's: not tested here
        EngineSettings(**options),  # type: ignore[arg-type]
        quiet=QuietHours(),
        clock=clock,
    )


def bot_of(engine: DeliveryEngine) -> object:
    return engine.senders["telegram"].bot  # type: ignore[attr-defined]


# -- quiet hours -----------------------------------------------------------------------------------------


async def test_quiet_hours_hold_deliveries_until_the_morning(db: Database, fake: FakeTelegram) -> None:
    clock = Clock(hanoi(7, 20, 0))
    store = BroadcastStore(db)
    flaky = FIRST_CHAT + 1
    fake.fail_next("sendMessage", 500, chat_id=flaky)  # its retry falls due after 21:00
    evening = store.create("Bài một", recipients(5), "operator", at=clock())
    engine = telegram_engine(db, fake, clock)
    async with bot_of(engine):  # type: ignore[attr-defined]
        assert await engine.run_until_idle() == 5
        assert len(fake.sent()) == 4
        assert rows(db, evening)[str(flaky)].status == PENDING

        clock.at = hanoi(7, 21, 30)
        night = store.create("Bài hai", recipients(3, FIRST_CHAT + 100), "operator", at=clock())
        assert await engine.run_until_idle() == 0
        morning = hanoi(8, 7, 0)
        held = {**rows(db, evening), **rows(db, night)}
        waiting = {user: (r.status, r.next_attempt_at, r.attempts) for user, r in held.items() if r.status != SENT}
        assert waiting == {
            str(flaky): (PENDING, morning, 1),  # held, not failed, the attempt it made still counted once
            **{str(FIRST_CHAT + 100 + n): (PENDING, morning, 0) for n in range(3)},
        }
        assert store.next_due_in(["telegram"], at=clock()) == 9.5 * 3600

        clock.at = hanoi(8, 6, 59)
        assert await engine.run_until_idle() == 0
        assert len(fake.sent()) == 4  # nothing went out in the night

        clock.at = hanoi(8, 7, 0)
        assert await engine.run_until_idle() == 4
    check_invariant(db, fake, evening, 5)
    check_invariant(db, fake, night, 3)
    assert len(fake.sent()) == 8
    assert rows(db, evening)[str(flaky)].attempts == 2


async def test_a_row_waiting_its_turn_when_the_night_begins_is_held(db: Database, fake: FakeTelegram) -> None:
    """The check comes right before the claim: rows read at 20:59 and still queued at 21:00 stay pending."""
    clock = Clock(hanoi(7, 20, 59))
    store = BroadcastStore(db)
    broadcast = store.create("Bài một", recipients(40), "operator", at=clock())
    engine = telegram_engine(db, fake, clock, concurrency=1)
    sent_before_night = 10

    def on_outcome(due: object, outcome: object) -> None:
        if len(fake.sent()) >= sent_before_night:
            clock.at = hanoi(7, 21, 0)

    engine.on_outcome = on_outcome
    async with bot_of(engine):  # type: ignore[attr-defined]
        await engine.run_until_idle()
    statuses = Counter(r.status for r in rows(db, broadcast).values())
    assert statuses == {SENT: sent_before_night, PENDING: 40 - sent_before_night}
    assert len(fake.sent()) == sent_before_night


async def test_the_in_process_loop_and_the_worker_job_keep_quiet_hours(db: Database, fake: FakeTelegram) -> None:
    from channels import broadcast_worker

    clock = Clock(hanoi(7, 23, 0))
    store = BroadcastStore(db)
    broadcast = store.create("Bài đêm", recipients(6), "operator", at=clock())
    engine = telegram_engine(db, fake, clock)
    stop = asyncio.Event()
    async with bot_of(engine):  # type: ignore[attr-defined]
        loop = asyncio.create_task(engine.run(stop, poll=0.05))
        await asyncio.sleep(0.5)  # several rounds of the loop in the night
        assert fake.sent() == []
        # The procrastinate job's body, as a worker on PostgreSQL runs it each second.
        broadcast_worker._runtime = broadcast_worker._Runtime(engine, 120.0, asyncio.Lock())
        try:
            stop.set()
            await loop
            assert await broadcast_worker._work() == 0
            assert fake.sent() == []
            clock.at = hanoi(8, 7, 5)
            assert await broadcast_worker._work() == 6
        finally:
            broadcast_worker._runtime = None
    check_invariant(db, fake, broadcast, 6)
    assert store.report(broadcast).status == "done"
    assert {r.sent_at for r in rows(db, broadcast).values()} == {hanoi(8, 7, 5)}


def test_no_quiet_hours_when_start_equals_end(db: Database, fake: FakeTelegram) -> None:
    engine = telegram_engine(db, fake, Clock(hanoi(7, 23, 0)))
    assert engine.quiet_until() == hanoi(8, 7, 0)
    engine.quiet = QuietHours(start=engine.quiet.start, end=engine.quiet.start)  # type: ignore[union-attr]
    assert engine.quiet_until() is None
    engine.quiet = QuietHours()
    engine.clock = Clock(hanoi(8, 6, 59) + timedelta(seconds=59))
    assert engine.quiet_until() == hanoi(8, 7, 0)
