"""The delivery engine's timing and where it runs: quiet hours, recovery of dead workers' rows (and only
theirs), delivery inside `hocvu serve`, the Zalo Bot's sender. Against the fakes over real HTTP, on SQLite
and PostgreSQL; time is the engine's injected clock, never a sleep until the morning.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.people import QuietHours
from channels.broadcast import DeliveryEngine, EngineSettings, MemoryGate, RedisGate
from channels.broadcast_plans import SqlBroadcasts
from channels.broadcast_store import PENDING, SENT, BroadcastStore, Due, Recipient
from channels.broadcast_telegram import TelegramBroadcastSender
from hocvu.app import App
from hocvu.config import Settings
from storage.database import Database
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.learning_support import learning_app
from tests.support.services import own_redis_db, require_postgres
from tests.support.serving import serving
from tests.test_broadcast import check_invariant, rows

FIRST_CHAT = 900_000
CLIENT_TIMEOUT = 2.0
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


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
    options = {"concurrency": 16, "base_delay": 0.05, "max_attempts": 4, **settings}
    return DeliveryEngine(
        BroadcastStore(db),
        [TelegramBroadcastSender(TOKEN, fake.base_url, timeout=CLIENT_TIMEOUT)],
        MemoryGate(400.0, per_chat=0.0),  # the chats' own second is real time, not the clock's: not tested here
        EngineSettings(**options),  # type: ignore[arg-type]
        quiet=QuietHours(),
        clock=clock,
    )


# -- quiet hours -----------------------------------------------------------------------------------------


async def test_quiet_hours_hold_deliveries_until_the_morning(db: Database, fake: FakeTelegram) -> None:
    clock = Clock(hanoi(7, 20, 0))
    store = BroadcastStore(db)
    flaky = FIRST_CHAT + 1
    fake.fail_next("sendMessage", 500, chat_id=flaky)  # its retry falls due after 21:00
    evening = store.create("Bài một", recipients(5), "operator", at=clock())
    engine = telegram_engine(db, fake, clock)
    async with engine:
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
    async with engine:
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
    async with engine:
        loop = asyncio.create_task(engine.run(stop, poll=0.05))
        await asyncio.sleep(0.5)  # several rounds of the loop in the night
        assert fake.sent() == []
        # The procrastinate job's body, as a worker on PostgreSQL runs it each second.
        broadcast_worker._runtime = broadcast_worker._Runtime(engine, 120.0, asyncio.Lock(), SqlBroadcasts(db), None)
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


# -- recovery --------------------------------------------------------------------------------------------


class HeldGate(MemoryGate):
    """A gate whose slots the test hands out: rows wait their turn for as long as the test likes."""

    def __init__(self) -> None:
        super().__init__(1_000_000.0, per_chat=0.0)
        self.waiting = 0
        self.slots = asyncio.Semaphore(0)
        self.held = False  # every sender paused (as after a 429) until the test lets go
        self.pause_checks = 0

    async def paused_for(self) -> float:
        self.pause_checks += 1
        return 0.01 if self.held else 0.0

    async def slot(self) -> None:
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1


async def wait_until(predicate: object, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


async def test_rows_waiting_their_turn_are_not_taken_for_a_dead_workers(db: Database, fake: FakeTelegram) -> None:
    clock = Clock(hanoi(7, 10, 0))
    store = BroadcastStore(db)
    broadcast = store.create("Bài một", recipients(30), "operator", at=clock())
    first = min(r.id for r in rows(db, broadcast).values())
    assert store.claim(first, at=clock())  # a worker claimed this one, then died before sending it
    gate = HeldGate()
    engine = DeliveryEngine(
        store,
        [TelegramBroadcastSender(TOKEN, fake.base_url, timeout=CLIENT_TIMEOUT)],
        gate,
        EngineSettings(concurrency=8),
        clock=clock,
    )
    async with engine:
        working = asyncio.create_task(engine.run_until_idle())
        await wait_until(lambda: gate.waiting == 8, "every sender waits for its turn")
        # Hours pass (for the recovery) while eight rows wait: another worker's recovery takes none of them.
        clock.at += timedelta(hours=3)
        assert store.recover(older_than=120, at=clock()) == 1  # the dead worker's row only
        counts = store.report(broadcast).counts
        assert (counts["sending"], counts["uncertain"], counts[PENDING]) == (0, 1, 29)
        for _ in range(29):
            gate.slots.release()
        await working
    found = check_invariant(db, fake, broadcast, 30)
    assert Counter(r.status for r in found.values()) == {SENT: 29, "uncertain": 1}
    assert "worker sending it stopped" in (next(r for r in found.values() if r.id == first).error or "")
    assert all(int(r.params["chat_id"]) != FIRST_CHAT for r in fake.sent())  # never sent without the operator


async def test_a_pause_is_waited_out_before_the_claim(db: Database, fake: FakeTelegram) -> None:
    clock = Clock(hanoi(7, 10, 0))
    store = BroadcastStore(db)
    broadcast = store.create("Bài một", recipients(10), "operator", at=clock())
    engine = telegram_engine(db, fake, clock)
    gate = HeldGate()
    gate.held = True
    engine.gate = gate
    async with engine:
        working = asyncio.create_task(engine.run_until_idle())
        await wait_until(lambda: gate.pause_checks >= 100, "the senders wait out the pause")
        clock.at += timedelta(hours=3)
        assert store.recover(older_than=120, at=clock()) == 0
        assert store.report(broadcast).counts[PENDING] == 10
        gate.held = False
        for _ in range(10):
            gate.slots.release()
        await working
    found = check_invariant(db, fake, broadcast, 10)
    assert Counter(r.status for r in found.values()) == {SENT: 10}


# -- inside `hocvu serve` ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The product (FakeEmbedder) on a SQLite file of its own, quiet hours off, a modest rate."""
    data_dir = tmp_path_factory.mktemp("delivery-serve")
    configured = dataclasses.replace(
        settings,
        people=dataclasses.replace(settings.people, quiet_hours_start="00:00", quiet_hours_end="00:00"),
        broadcast=dataclasses.replace(settings.broadcast, telegram_rate=40, request_timeout=CLIENT_TIMEOUT),
    )
    app = learning_app(configured, data_dir, f"sqlite:///{data_dir / 'hocvu.db'}")
    yield app
    assert app.database is not None
    app.database.dispose()


def delivery_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "broadcast-delivery"]


async def test_hocvu_serve_delivers_on_sqlite_and_stops_with_nothing_left_sending(
    serve_app: App, fake: FakeTelegram, tmp_path: Path
) -> None:
    assert serve_app.database is not None
    store = BroadcastStore(serve_app.database)
    count = 400  # 10 s at 40/s: the server stops long before the end
    broadcast = store.create("Lịch học tuần này", recipients(count), "operator")
    async with serving(serve_app, fake, tmp_path):
        assert len(delivery_tasks()) == 1
        await wait_until(lambda: len(fake.sent()) >= 40, "40 deliveries are out")
    assert delivery_tasks() == []
    report = store.report(broadcast)
    assert (report.counts["sending"], report.counts["uncertain"]) == (0, 0)  # the sends under way finished
    assert report.counts[SENT] == len(fake.sent()) < count
    assert report.counts[PENDING] == count - report.counts[SENT]  # the rest waits for the next start

    async with serving(serve_app, fake, tmp_path):  # the next start goes on where it stopped
        await wait_until(lambda: store.report(broadcast).counts[SENT] == count, "the broadcast is sent", 60)
    check_invariant(serve_app.database, fake, broadcast, count)


async def test_hocvu_serve_does_not_deliver_with_several_workers_or_on_postgresql(
    serve_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    from hocvu.web import _start_delivery, delivery_refused

    settings = dataclasses.replace(serve_app.settings, secrets={"TELEGRAM_BOT_TOKEN": TOKEN})
    two = dataclasses.replace(settings, server=dataclasses.replace(settings.server, workers=2))
    with caplog.at_level(logging.INFO, logger="hocvu.web"):
        assert _start_delivery(two, serve_app) is None  # what the lifespan does at start
    assert (
        "not delivered by `hocvu serve` with 2 web workers (each would deliver): run one `hocvu worker`" in caplog.text
    )
    assert delivery_tasks() == []
    incomplete = dataclasses.replace(settings, secrets={"ZALO_APP_ID": "1", "ZALO_OA_SECRET_KEY": "k"})
    with caplog.at_level(logging.INFO, logger="hocvu.web"):
        assert _start_delivery(incomplete, serve_app) is None  # serving goes on, saying why nothing is sent
    assert "broadcasts are not delivered by `hocvu serve`: the Zalo OA channel needs ZALO_APP_SECRET" in caplog.text

    postgresql = Database(require_postgres())
    try:
        on_server = dataclasses.replace(serve_app, database=postgresql)
        assert "on PostgreSQL: run `hocvu worker`" in (delivery_refused(settings, on_server) or "")
    finally:
        postgresql.dispose()
    off = dataclasses.replace(settings, broadcast=dataclasses.replace(settings.broadcast, deliver_in_serve=False))
    assert "deliver_in_serve is off" in (delivery_refused(off, serve_app) or "")
    assert delivery_refused(settings, serve_app) is None


# -- the Zalo Bot ----------------------------------------------------------------------------------------


async def test_zalo_bot_deliveries_are_classified_like_the_other_channels(db: Database) -> None:
    from channels.broadcast_store import BLOCKED, FAILED, UNCERTAIN
    from channels.broadcast_zalo_bot import ZaloBotBroadcastSender
    from channels.zalo_bot_api import ZaloBotApi
    from tests.support.fake_http import ABANDONED
    from tests.support.fake_zalo_bot import TOKEN as BOT_TOKEN
    from tests.support.fake_zalo_bot import FakeZaloBot
    from tests.test_broadcast import drain

    text = "Bài học: nhận biết tin nhắn lừa đảo"
    store = BroadcastStore(db)
    with FakeZaloBot() as fake:
        sender = ZaloBotBroadcastSender(ZaloBotApi(fake.base_url, BOT_TOKEN, timeout=CLIENT_TIMEOUT))
        # One at a time, in order, each fault meant for its own broadcast's recipient.
        settings = EngineSettings(concurrency=1, base_delay=0.05, max_attempts=4)
        engine = DeliveryEngine(store, [sender], MemoryGate(100.0), settings)
        faults = {
            "flaky": {"status": 500, "times": 2},  # retried, then sent
            "busy": {"status": 429},  # put back for a second, the attempt not counted, then sent
            "slow": {"delay": 2 * CLIENT_TIMEOUT + 1},  # the client gives up after the request left
            "gone": {"status": 403},
            "wrong": {"refuse": "chat not found"},
            "broken": {"status": 502, "times": 10},  # never goes through
        }
        broadcasts = {}
        await sender.start()
        try:
            for user, fault in faults.items():
                fake.fail_next("sendMessage", **fault)  # type: ignore[arg-type]
                broadcasts[user] = store.create(text, [Recipient("zalo_bot", user)], "operator")
                await drain(engine)
        finally:
            await sender.close()
        found = {user: rows(db, b)[user] for user, b in broadcasts.items()}
        assert {u: r.status for u, r in found.items()} == {
            "flaky": SENT,
            "busy": SENT,
            "slow": UNCERTAIN,
            "gone": BLOCKED,
            "wrong": FAILED,
            "broken": FAILED,
        }
        assert (found["flaky"].attempts, found["busy"].attempts) == (3, 1)
        assert found["flaky"].message_id and found["flaky"].message_id.startswith("sent-")
        assert "chat not found" in (found["wrong"].error or "")
        assert "gave up after 4 attempts" in (found["broken"].error or "")
        assert all(r.error for u, r in found.items() if r.status != SENT)
        for user in faults:  # at most one send that may have reached each of them
            reached = [
                r for r in fake.calls("sendMessage") if r.body["chat_id"] == user and r.status in (200, ABANDONED)
            ]
            assert len(reached) <= 1, user
        assert fake.texts("flaky") == fake.texts("busy") == [text]

    # Zalo gone altogether: the request never left, so it is tried again, then failed with the reason.
    unreachable = ZaloBotBroadcastSender(ZaloBotApi("http://127.0.0.1:9", BOT_TOKEN, timeout=CLIENT_TIMEOUT))
    engine = DeliveryEngine(store, [unreachable], MemoryGate(100.0), EngineSettings(base_delay=0.05, max_attempts=2))
    closed = store.create(text, [Recipient("zalo_bot", "nobody")], "operator")
    await unreachable.start()
    try:
        await drain(engine)
    finally:
        await unreachable.close()
    row = rows(db, closed)["nobody"]
    assert row.status == FAILED and "could not connect" in (row.error or "") and row.attempts == 2


def test_a_zalo_bot_answer_that_is_not_the_apis_is_uncertain() -> None:
    from channels.broadcast_store import UNCERTAIN
    from channels.broadcast_zalo_bot import _refused
    from channels.zalo_bot_api import ZaloBotError

    garbled = ZaloBotError("sendMessage", "HTTP 200 with an answer that is not a JSON object")
    assert _refused(garbled).status == UNCERTAIN
    proxy_error = ZaloBotError("sendMessage", "HTTP 502 with an answer that is not a JSON object", retry=True, code=502)
    assert _refused(proxy_error).status == PENDING


async def test_the_shared_gate_serves_more_sends_in_flight_than_it_has_redis_connections() -> None:
    """128 sends in flight (a paid broadcast's ~1,000/s) ask the gate at once: they wait for a connection,
    none fails with redis-py's "Too many connections" (its plain pool stops at 100)."""
    with own_redis_db((14, 15)) as url:
        gate = RedisGate(url, 10_000)
        try:
            paused = await asyncio.gather(*(gate.paused_for() for _ in range(300)))
            free = await asyncio.gather(*(gate.chat_free("telegram", str(n)) for n in range(300)))
        finally:
            await gate.close()
    assert paused == [0.0] * 300 and all(free)


# Answers the fake Bot API does not give, from a server that answers exactly what it is told.
TELEGRAM_ANSWERS: list[tuple[str, int, object, str, str]] = [
    ("sent", 200, {"ok": True, "result": {"message_id": 7, "chat": {"id": 1}}}, SENT, ""),
    (
        "blocked",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        "blocked",
        "blocked by the user",
    ),
    (
        "no chat",
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
        "failed",
        "chat not found",
    ),
    (
        "migrated",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded",
            "parameters": {"migrate_to_chat_id": -1001234},
        },
        "failed",
        "supergroup -1001234",
    ),
    ("token", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, PENDING, "token was refused"),
    (
        "long wait",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 900",
            "parameters": {"retry_after": 900},
        },
        PENDING,
        "wait 900 s",
    ),
    ("proxy", 502, "<html><body>502 Bad Gateway</body></html>", PENDING, "HTTP 502"),
    ("server", 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, PENDING, "HTTP 500"),
    ("not ok", 200, {"ok": False}, "uncertain", "not the Bot API's"),
    ("not json", 200, "<html>hello</html>", "uncertain", "not the Bot API's"),
]


async def test_each_telegram_answer_gets_its_outcome_and_no_error_quotes_the_token() -> None:
    from aiohttp import web

    answers = {name: (status, body) for name, status, body, _, _ in TELEGRAM_ANSWERS}
    received: list[dict[str, object]] = []

    async def send_message(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        status, answer = answers[body["text"]]
        if isinstance(answer, str):
            return web.Response(status=status, text=answer, content_type="text/html")
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/sendMessage", send_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with TelegramBroadcastSender(TOKEN, f"http://127.0.0.1:{port}/bot", timeout=CLIENT_TIMEOUT) as sender:
            for name, _, _, status, reason in TELEGRAM_ANSWERS:
                outcome = await sender.send(Due(1, 1, "telegram", "42", name, 0))
                assert (outcome.status, reason in (outcome.error or "")) == (status, True), (name, outcome)
                assert TOKEN not in (outcome.error or "") and TOKEN.split(":")[1] not in (outcome.error or "")
                if name == "sent":
                    assert outcome.message_id == "7"
                if name == "long wait":  # longer than any pause is worth: this row waits, the others go on
                    assert outcome.refund and not outcome.pause_all and outcome.retry_in == 900
    finally:
        await runner.cleanup()
    assert received[0] == {"chat_id": 42, "text": "sent", "link_preview_options": {"is_disabled": True}}


def test_hocvu_worker_sends_to_the_zalo_bot_when_its_token_is_set(settings: Settings) -> None:
    from hocvu.broadcast_cli import can_deliver, worker_config

    with_bot = dataclasses.replace(settings, secrets={"ZALO_BOT_TOKEN": "123:secret"})
    assert can_deliver(with_bot) and not can_deliver(dataclasses.replace(settings, secrets={}))
    config = worker_config(with_bot)
    assert config.zalo_bot is not None and config.zalo_oa is None and config.telegram_token == ""


def test_the_sqlite_worker_delivers_a_zalo_bot_broadcast_from_the_cli(tmp_path: Path) -> None:
    import signal

    import yaml

    from tests.support.fake_zalo_bot import TOKEN as BOT_TOKEN
    from tests.support.fake_zalo_bot import FakeZaloBot
    from tests.test_broadcast import _env, _wait, _worker, hocvu

    with FakeZaloBot() as fake:
        config = tmp_path / "config.yml"
        settings = {
            "data_dir": str(tmp_path / "data"),
            "database": {"url": f"sqlite:///{tmp_path / 'hocvu.db'}"},
            "zalo_bot": {"api_base_url": fake.base_url},
            "broadcast": {"request_timeout": CLIENT_TIMEOUT, "retry_delay": 0.05, "recover_after": 30.0},
            "people": {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"},
        }
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        env = {**_env(), "ZALO_BOT_TOKEN": BOT_TOKEN}
        del env["TELEGRAM_BOT_TOKEN"]
        created = hocvu(
            config, "broadcast", "create", "--text", "Chào bà con", "--to", "zalo_bot:u1,zalo_bot:u2", env=env
        )
        assert "broadcast 1 created for 2 recipient(s)" in created.stdout, created.stderr
        worker = _worker(config, env, tmp_path / "worker.log")
        try:
            _wait(lambda: "done" in hocvu(config, "broadcast", "list", env=env).stdout, 60, "the broadcast is done")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert fake.texts("u1") == fake.texts("u2") == ["Chào bà con"]
        assert "sent 2, pending 0" in hocvu(config, "broadcast", "status", "1", env=env).stdout


# -- claims and outcomes in batches ----------------------------------------------------------------------


def test_two_batch_claimers_never_claim_one_row(db: Database) -> None:
    import threading

    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(600), "operator")
    ids = sorted(r.id for r in rows(db, broadcast).values())
    won: list[set[int]] = [set(), set()]
    start = threading.Barrier(2)

    def claimer(index: int) -> None:
        mine = BroadcastStore(Database(db.url))  # its own engine and connections: another worker
        start.wait()
        order = ids if index == 0 else ids[::-1]  # they meet in the middle, batch against batch
        for first in range(0, len(order), 50):
            won[index] |= mine.claim_many(order[first : first + 50])
        mine.db.dispose()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won[0] | won[1] == set(ids)
    assert not won[0] & won[1]
    assert store.claim_many(ids) == set()  # all sending now: none is claimed again


async def test_two_engines_sharing_a_broadcast_send_each_row_once(db: Database, fake: FakeTelegram) -> None:
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào bà con", recipients(400), "operator")
    other = Database(db.url)
    try:
        engines = [telegram_engine(db, fake, Clock(hanoi(7, 10))), telegram_engine(other, fake, Clock(hanoi(7, 10)))]
        for engine in engines:
            engine.quiet = None
            engine.clock = lambda: datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)
        async with engines[0], engines[1]:
            worked = await asyncio.gather(*(engine.run_until_idle() for engine in engines))
    finally:
        other.dispose()
    found = check_invariant(db, fake, broadcast, 400)
    assert Counter(r.status for r in found.values()) == {SENT: 400}
    assert len(fake.sent()) == 400
    assert sum(worked) >= 400  # both read the same candidates; each row went to whichever claimed it
