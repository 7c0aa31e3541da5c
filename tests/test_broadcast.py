"""The broadcast delivery engine (channels/broadcast*.py) against the fake Bot API over real HTTP.

The invariant every test checks: each recipient's row ends sent, blocked, failed with a reason, or
uncertain (no silent skip), and the fake saw at most one send per recipient that may have reached them
(answered 200, or abandoned by a client that timed out).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from channels.broadcast import DeliveryEngine, EngineSettings, MemoryGate
from channels.broadcast_store import (
    BLOCKED,
    FAILED,
    FINAL,
    OFFERED,
    PENDING,
    SENT,
    UNCERTAIN,
    BroadcastStore,
    Recipient,
    parse_recipients,
)
from channels.broadcast_telegram import TelegramBroadcastSender
from channels.telegram_store import SqlTelegramStore
from errors import InputError
from storage.database import Database
from storage.models import Delivery
from tests.support.fake_telegram import ABANDONED, BOT_ID, TOKEN, FakeTelegram
from tests.support.learning_support import migrated_database, scratch_schema
from tests.support.services import own_redis_db, require_postgres

FIRST_CHAT = 700_000
REDIS_DBS = (11, 13)  # this module's, claimed for a run (bench/webhook.py empties 9, bench/broadcast.py 12)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def recipients(count: int, first: int = FIRST_CHAT) -> list[Recipient]:
    return [Recipient("telegram", str(first + n)) for n in range(count)]


def rows(db: Database, broadcast_id: int) -> dict[str, Delivery]:
    with db.session() as session:
        found = session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)).all()
        session.expunge_all()
    return {row.user_id: row for row in found}


def reached(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    """Per chat and text, the sends that may have reached it: answered 200 (garbage included), or abandoned."""
    return Counter(
        (int(r.params["chat_id"]), r.params["text"])
        for r in fake.calls("sendMessage")
        if r.params.get("_status") in (200, ABANDONED)
    )


async def drain(engine: DeliveryEngine, timeout: float = 60.0) -> None:
    """Run the engine until nothing is pending, sleeping until retries are due."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await engine.run_until_idle()
        wait = await asyncio.to_thread(engine.store.next_due_in, engine.channels)
        if wait is None:
            return
        assert loop.time() < deadline, "the engine did not finish in time"
        await asyncio.sleep(min(wait, 0.5))


def check_invariant(db: Database, fake: FakeTelegram, broadcast_id: int, expected: int) -> dict[str, Delivery]:
    found = rows(db, broadcast_id)
    assert len(found) == expected
    left = {user: row.status for user, row in found.items() if row.status not in FINAL}
    assert not left, f"rows not finished: {left}"
    for row in found.values():
        if row.status in (FAILED, UNCERTAIN, BLOCKED):
            assert row.error, f"{row.user_id} is {row.status} without a reason"
    twice = {chat: n for chat, n in reached(fake).items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    sent_ids = {
        (int(r.params["chat_id"]), r.params["text"]): str(r.params["_message_id"])
        for r in fake.sent()
        if "_message_id" in r.params
    }
    text = BroadcastStore(db).report(broadcast_id).text
    for row in found.values():
        if row.status == SENT:
            assert sent_ids[(int(row.user_id), text)] == row.message_id
    return found


# -- input -------------------------------------------------------------------------------------------------


def test_recipient_lists_are_parsed_and_bad_entries_named() -> None:
    parsed = parse_recipients(["telegram:1,telegram:2 telegram:1", "# a comment", "zalo_oa:abc-1  # Lan"])
    assert parsed == [Recipient("telegram", "1"), Recipient("telegram", "2"), Recipient("zalo_oa", "abc-1")]
    with pytest.raises(InputError, match=r"2 malformed.*'viber:1'.*'telegram:abc'"):
        parse_recipients(["telegram:1, viber:1", "telegram:abc"])
    with pytest.raises(InputError, match="names nobody"):
        parse_recipients(["# nobody", "  ", ","])


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "the text is empty"), ("  \n ", "the text is empty"), ("x" * 20_000, "20,000 characters long")],
)
def test_bad_texts_create_nothing(db: Database, text: str, problem: str) -> None:
    store = BroadcastStore(db)
    with pytest.raises(InputError, match=problem):
        store.create(text, recipients(3), "operator")
    assert store.recent() == []


# -- the claim -------------------------------------------------------------------------------------------


def test_two_claimers_never_claim_one_row(db: Database) -> None:
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(300), "operator")
    ids = [row.id for row in rows(db, broadcast).values()]
    won: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def claimer(index: int) -> None:
        mine = BroadcastStore(Database(db.url))  # its own engine and connections: another worker
        start.wait()
        for delivery_id in ids:
            if mine.claim(delivery_id):
                won[index].append(delivery_id)
        mine.db.dispose()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won[0] + won[1]) == sorted(ids)
    assert not set(won[0]) & set(won[1])


def test_paused_and_cancelled_broadcasts_are_not_claimed(db: Database) -> None:
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(3), "operator")
    first = min(row.id for row in rows(db, broadcast).values())
    store.pause(broadcast)
    assert store.due(10, ["telegram"]) == []
    assert not store.claim(first)
    store.resume(broadcast)
    assert store.claim(first)
    store.cancel(broadcast)
    report = store.report(broadcast)
    assert (report.status, report.counts["cancelled"], report.counts["sending"]) == ("cancelled", 2, 1)
    with pytest.raises(InputError, match="cancelled: it cannot become sending"):
        store.resume(broadcast)
    with pytest.raises(InputError, match="no broadcast 999"):
        store.pause(999)


# -- sending ---------------------------------------------------------------------------------------------


CLIENT_TIMEOUT = 2.0  # a loaded machine (CI) must not time out an ordinary answer


def _engine(db: Database, fake: FakeTelegram, *, rate: float = 400.0) -> DeliveryEngine:
    blocked = SqlTelegramStore(db, BOT_ID)
    sender = TelegramBroadcastSender(TOKEN, fake.base_url, blocked=blocked, timeout=CLIENT_TIMEOUT)
    settings = EngineSettings(concurrency=16, base_delay=0.05, max_attempts=4)
    return DeliveryEngine(BroadcastStore(db), [sender], MemoryGate(rate), settings)


async def test_a_broadcast_with_faults_reaches_everyone_at_most_once(db: Database, fake: FakeTelegram) -> None:
    count = 3000  # as many as the issue asks: the faults among a whole commune's broadcast
    chats = [FIRST_CHAT + n for n in range(count)]
    blocked, flaky, broken, slow, garbled = chats[10:13], chats[20:23], chats[30], chats[40], chats[50]
    for chat in blocked:
        fake.block(chat)
    for chat in flaky:  # two 500s, then it goes through
        fake.fail_next("sendMessage", 500, times=2, chat_id=chat)
    fake.fail_next("sendMessage", 500, times=10, chat_id=broken)  # never goes through
    fake.delay_next("sendMessage", 2 * CLIENT_TIMEOUT + 1, chat_id=slow)  # the client times out after the request left
    fake.garbage_next("sendMessage", chat_id=garbled)
    fake.fail_next("sendMessage", 429, times=3, retry_after=1)  # whichever chats come next
    store = BroadcastStore(db)
    broadcast = store.create("Bài học hôm nay: bảo vệ mã OTP.", recipients(count), "operator")
    engine = _engine(db, fake)
    async with engine:
        await drain(engine, timeout=300.0)  # 3,000 rows at 400/s, on a machine other tests keep busy
    found = check_invariant(db, fake, broadcast, count)
    statuses = Counter(row.status for row in found.values())
    unexpected = {u: (r.status, r.error) for u, r in found.items() if r.status != SENT and int(u) not in chats[10:51]}
    assert statuses == {SENT: count - 6, BLOCKED: 3, UNCERTAIN: 2, FAILED: 1}, unexpected
    assert {found[str(c)].status for c in blocked} == {BLOCKED}
    assert all(SqlTelegramStore(db, BOT_ID).is_blocked(str(c)) for c in blocked)  # the channel knows too
    assert {found[str(c)].status for c in flaky} == {SENT}
    assert found[str(broken)].status == FAILED and "gave up after 4 attempts" in (found[str(broken)].error or "")
    assert found[str(slow)].status == UNCERTAIN and found[str(garbled)].status == UNCERTAIN
    assert sum(1 for r in fake.calls("sendMessage") if r.params["_status"] == 429) == 3
    assert store.close_finished() == 1
    report = store.report(broadcast)
    assert report.status == "done" and report.counts[SENT] == count - 6
    assert list(report.failed_by_reason) == [found[str(broken)].error]

    # Only the operator sends the uncertain ones again; then they go like any other.
    assert store.resend_uncertain(broadcast) == 2
    async with engine:
        await drain(engine)
    assert {rows(db, broadcast)[str(c)].status for c in (slow, garbled)} == {SENT}


async def test_a_429_pauses_every_sender_and_puts_back_only_its_row(db: Database, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1, chat_id=FIRST_CHAT + 5)
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(40), "operator")
    engine = _engine(db, fake, rate=1000.0)
    async with engine:
        await drain(engine)
    check_invariant(db, fake, broadcast, 40)
    calls = fake.calls("sendMessage")
    refused = next(r for r in calls if r.params["_status"] == 429)
    later = [r for r in calls if r.at > refused.at]
    # Only requests already under way when the 429 came (one per sender at most) may land within its
    # retry_after; without the pause, every remaining row would (the rate here is 1,000/s).
    early = [r for r in later if r.at < refused.at + 1.0]
    assert len(early) <= engine.settings.concurrency
    assert [r.params["_status"] for r in calls if int(r.params["chat_id"]) == FIRST_CHAT + 5] == [429, 200]


async def test_the_global_rate_is_kept(db: Database, fake: FakeTelegram) -> None:
    fake.limit_rate(25)  # a wide margin: the fake counts arrivals, which a busy machine bunches
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(60), "operator")
    engine = _engine(db, fake, rate=16.0)
    async with engine:
        await drain(engine)
    check_invariant(db, fake, broadcast, 60)
    assert fake.rate_limited == 0
    times = sorted(r.at for r in fake.sent())
    assert times[-1] - times[0] >= (60 - 16) / 16  # paced, not sent at once


async def test_a_chat_gets_at_most_one_message_a_second(db: Database, fake: FakeTelegram) -> None:
    store = BroadcastStore(db)
    first = store.create("Một", recipients(3), "operator")
    second = store.create("Hai", recipients(3), "operator")
    engine = _engine(db, fake)
    async with engine:
        await drain(engine)
    check_invariant(db, fake, first, 3)
    for n in range(3):
        sends = fake.sent(FIRST_CHAT + n)
        assert sorted(s.params["text"] for s in sends) == ["Hai", "Một"]
        assert sends[1].at - sends[0].at >= 0.9  # the gate's second, less the jitter of two requests
    assert store.report(second).counts[SENT] == 3


async def test_a_row_left_sending_by_a_dead_worker_becomes_uncertain(db: Database) -> None:
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào", recipients(2), "operator")
    first = min(row.id for row in rows(db, broadcast).values())
    assert store.claim(first)
    assert store.recover(older_than=60) == 0  # still fresh: maybe being sent right now
    from datetime import timedelta

    from channels.broadcast_store import now

    assert store.recover(older_than=60, at=now() + timedelta(seconds=61)) == 1
    report = store.report(broadcast)
    assert (report.counts[UNCERTAIN], report.counts[PENDING]) == (1, 1)


# -- the command line and `hocvu worker` ------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, fake: FakeTelegram, **broadcast: Any) -> Path:
    settings = {"telegram_rate": 400, "request_timeout": CLIENT_TIMEOUT, "retry_delay": 0.05, "recover_after": 3.0}
    config = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": f"sqlite:///{tmp_path / 'hocvu.db'}"},
        "telegram": {"base_url": fake.base_url},
        "broadcast": {**settings, **broadcast},
        "people": {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"},  # none: tests run at any hour
    }
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "TELEGRAM_BOT_TOKEN": TOKEN, **extra}


def hocvu(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hocvu.cli", "--config", str(config), *args],
        env=env or _env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def test_the_cli_refuses_bad_input_and_creates_nothing(tmp_path: Path, fake: FakeTelegram) -> None:
    config = _config(tmp_path, fake)
    cases = [
        (["--text", "", "--to", "telegram:1"], "the text is empty"),
        (["--text", "x" * 20_000, "--to", "telegram:1"], "20,000 characters long; telegram takes at most 4,096"),
        (["--text", "Xin chào", "--to", "telegram:1,telegram:abc,viber:2"], "2 malformed recipient(s)"),
        (["--text", "Xin chào", "--to", " , "], "names nobody"),
        (["--text", "x" * 2001, "--to", "telegram:1,zalo_oa:abc"], "zalo_oa takes at most 2,000"),
        (["--text", "Xin chào", "--to-file", str(tmp_path / "missing.txt")], "missing.txt"),
    ]
    for args, message in cases:
        result = hocvu(config, "broadcast", "create", *args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
    listing = hocvu(config, "broadcast", "list")
    assert listing.returncode == 0 and listing.stdout == ""
    assert fake.calls("sendMessage") == []


def test_the_cli_creates_follows_and_steers_a_broadcast_the_sqlite_worker_sends(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    config = _config(tmp_path, fake)
    people = tmp_path / "people.txt"
    people.write_text(
        "# the commune's list\ntelegram:801\ntelegram:802, telegram:803\ntelegram:801\n", encoding="utf-8"
    )
    preview = hocvu(config, "broadcast", "preview", "--text", "Lịch học tuần này", "--to-file", str(people))
    assert preview.stdout.startswith("3 recipient(s) on telegram") and "Lịch học tuần này" in preview.stdout
    fake.block(802)
    created = hocvu(config, "broadcast", "create", "--text", "Lịch học tuần này", "--to-file", str(people))
    assert "broadcast 1 created for 3 recipient(s)" in created.stdout, created.stderr
    assert "paused" in hocvu(config, "broadcast", "pause", "1").stdout
    worker = _worker(config, _env(), tmp_path / "worker.log")
    try:
        time.sleep(1.5)  # a paused broadcast is not sent, however long the worker runs
        assert fake.calls("sendMessage") == []
        assert "resumed" in hocvu(config, "broadcast", "resume", "1").stdout
        follow = hocvu(config, "broadcast", "status", "1", "--follow", "--list", "blocked")
        assert "3/3" in follow.stdout
        assert "sent 2, pending 0, failed 0, blocked 1, uncertain 0" in follow.stdout
        assert "blocked: telegram:802" in follow.stdout
        assert sorted(int(r.params["chat_id"]) for r in fake.sent()) == [801, 803]
        _wait(lambda: "done" in hocvu(config, "broadcast", "list").stdout, 10, "the broadcast is done")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    cancelled = hocvu(config, "broadcast", "cancel", "1")
    assert cancelled.returncode == 2 and "broadcast 1 is done: it cannot become cancelled" in cancelled.stderr


@pytest.fixture
def scale(tmp_path: Path, fake: FakeTelegram) -> Iterator[tuple[Path, dict[str, str], Database]]:
    """A config and environment for `hocvu worker` on PostgreSQL (migrated, procrastinate's schema applied)
    and a Redis database of its own."""
    with own_redis_db(REDIS_DBS) as redis_url, scratch_schema(require_postgres()) as url:
        env = _env(DATABASE_URL=url, REDIS_URL=redis_url)
        config = _config(tmp_path, fake)
        upgraded = hocvu(config, "db", "upgrade", env=env)
        assert "procrastinate's job tables created" in upgraded.stdout, upgraded.stderr
        assert "procrastinate" not in hocvu(config, "db", "upgrade", env=env).stdout  # once
        db = Database(url)
        try:
            yield config, env, db
        finally:
            db.dispose()


def _worker(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as stderr:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "hocvu.cli", "--config", str(config), "worker"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _stop(*workers: subprocess.Popen[bytes]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_a_worker_killed_mid_broadcast_then_restarted_sends_no_row_twice(
    tmp_path: Path, fake: FakeTelegram, scale: tuple[Path, dict[str, str], Database]
) -> None:
    config, env, db = scale
    count = 1500
    store = BroadcastStore(db)
    broadcast = store.create("Cảnh giác lừa đảo qua điện thoại", recipients(count), "operator")
    for chat in range(FIRST_CHAT + 100, FIRST_CHAT + 110):
        fake.block(chat)
    fake.fail_next("sendMessage", 500, times=20)
    fake.fail_next("sendMessage", 429, times=2, retry_after=1)
    first = _worker(config, env, tmp_path / "worker.log")
    try:
        _wait(lambda: len(fake.sent()) >= 300, 60, "the first worker has sent 300")
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait()
        sent_before = len(fake.sent())
        assert sent_before < count - 10, "the broadcast finished before the kill: nothing was tested"
        second = _worker(config, env, tmp_path / "worker.log")
        try:
            _wait(lambda: store.report(broadcast).status == "done", 120, "the restarted worker finishes")
        finally:
            _stop(second)
    finally:
        _stop(first)
    found = check_invariant(db, fake, broadcast, count)
    statuses = Counter(row.status for row in found.values())
    assert statuses[BLOCKED] == 10
    assert statuses[SENT] + statuses[UNCERTAIN] == count - 10
    assert statuses[UNCERTAIN] <= 16, "only the sends in flight at the kill may be uncertain"  # concurrency


def test_two_workers_keep_the_global_rate_together_and_never_send_a_row_twice(
    tmp_path: Path, fake: FakeTelegram, scale: tuple[Path, dict[str, str], Database]
) -> None:
    config, env, db = scale
    # No worker dies here: a row waiting its turn under the shared rate on a busy machine must not be taken
    # for one left by a dead worker (recover_after 3 s is for the kill test).
    config = _config(tmp_path, fake, telegram_rate=30, recover_after=120.0)
    fake.limit_rate(50)  # a wide margin: the fake counts arrivals, which a busy machine bunches
    count = 300
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào bà con", recipients(count), "operator")
    workers = [_worker(config, env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        _wait(lambda: store.report(broadcast).status == "done", 90, "the two workers finish")
    finally:
        _stop(*workers)
    found = check_invariant(db, fake, broadcast, count)
    assert Counter(row.status for row in found.values()) == {SENT: count}
    assert fake.rate_limited == 0
    seconds = Counter(int(r.at) for r in fake.sent())
    assert max(seconds.values()) <= 40  # 30 a second, whatever the split between the workers
    worked = [(tmp_path / f"worker{n}.log").read_text() for n in range(2)]
    assert all("deliveries worked on" in log for log in worked), "both workers sent"


# -- Zalo OA ---------------------------------------------------------------------------------------------


async def test_zalo_oa_deliveries_follow_the_channels_rules(tmp_path: Path) -> None:
    from datetime import timedelta

    from channels.broadcast_store import now
    from channels.broadcast_zalo import ZaloOaBroadcastSender
    from channels.zalo_oa_api import ZaloOaApi
    from channels.zalo_oa_auth import ZaloTokens
    from channels.zalo_oa_store import ZaloOaStore
    from tests.support.fake_zalo import APP_ID, APP_SECRET, SEND_PATH, FakeZalo

    text = "Bài học: chuyển tiền an toàn"
    with migrated_database("sqlite", tmp_path) as db, FakeZalo() as fake:
        tokens = ZaloTokens(db, APP_ID, APP_SECRET, fake.base_url, margin=3600, timeout=5.0)
        tokens.seed(fake.access_token, fake.refresh_token)
        followers = ZaloOaStore(db, APP_ID)
        for user in ("fresh", "slow", "refuses", "over", "left"):
            followers.interacted(user, None)
        followers.interacted("silent", None, at=now() - timedelta(days=8))
        followers.unreachable("left", "unfollowed")
        fake.closed_users["refuses"] = -213
        api = ZaloOaApi(fake.base_url, tokens, timeout=1.0)
        sender = ZaloOaBroadcastSender(api, followers, monthly_allowance=3)
        store = BroadcastStore(db)
        # One at a time, in order, each fault meant for its own broadcast's recipient.
        engine = DeliveryEngine(store, [sender], MemoryGate(100), EngineSettings(concurrency=1, base_delay=0.05))
        await api.start()
        try:
            fake.fail_next(SEND_PATH, status=500, times=2)  # retried, then sent
            first = store.create(text, [Recipient("zalo_oa", "fresh")], "operator")
            await drain(engine)
            fake.fail_next(SEND_PATH, delay=2.5)  # the client gives up after the request left
            second = store.create(text, [Recipient("zalo_oa", "slow")], "operator")
            await drain(engine)
            order = ["refuses", "silent", "stranger", "left", "over"]
            third = store.create(text, [Recipient("zalo_oa", u) for u in order], "operator")
            await drain(engine)
        finally:
            await api.close()
        assert rows(db, first)["fresh"].status == SENT and rows(db, first)["fresh"].attempts == 3
        assert rows(db, second)["slow"].status == UNCERTAIN, rows(db, second)["slow"].error
        found = rows(db, third)
        assert {u: found[u].status for u in order} == {  # no free window: offered (test_broadcast_offers.py)
            "refuses": BLOCKED,
            "silent": OFFERED,
            "stranger": FAILED,
            "left": BLOCKED,
            "over": OFFERED,
        }
        assert "window is closed" in (found["silent"].error or "")
        assert "never wrote" in (found["stranger"].error or "")
        assert "allowance" in (found["over"].error or "")
        assert followers.follower("refuses").unreachable_reason == "zalo error -213"  # type: ignore[union-attr]
        assert fake.texts() == [text]  # the slow one was abandoned; nobody else could be sent to
        assert [r.answer.get("error") for r in fake.calls(SEND_PATH)][-1] == -213


def test_a_worker_stopped_mid_broadcast_leaves_nothing_uncertain_and_the_next_one_finishes(
    tmp_path: Path, fake: FakeTelegram, scale: tuple[Path, dict[str, str], Database]
) -> None:
    config, env, db = scale
    config = _config(tmp_path, fake, telegram_rate=30)
    count = 300
    store = BroadcastStore(db)
    broadcast = store.create("Xin chào bà con", recipients(count), "operator")
    worker = _worker(config, env, tmp_path / "worker.log")
    try:
        _wait(lambda: len(fake.sent()) >= 60, 60, "60 are sent")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        _stop(worker)
    report = store.report(broadcast)
    assert report.counts[SENT] < count, "the broadcast finished before the stop: nothing was tested"
    assert (report.counts["sending"], report.counts[UNCERTAIN]) == (0, 0)
    assert report.counts[SENT] == len(fake.sent())
    again = _worker(config, env, tmp_path / "worker.log")
    try:
        _wait(lambda: store.report(broadcast).status == "done", 60, "the next worker finishes")
    finally:
        _stop(again)
    found = check_invariant(db, fake, broadcast, count)
    assert Counter(row.status for row in found.values()) == {SENT: count}
