"""Broadcast delivery benchmark: the delivery engine (channels/broadcast.py) on PostgreSQL against the fake
Bot API (tests/support/fake_telegram.py) over real HTTP, the fake in a process of its own.

Two runs, each a broadcast to `--count` recipients (default 3,000) on a scratch schema of the tests'
PostgreSQL ($HOCVU_TEST_POSTGRES), dropped afterwards:
1. throughput: the fake's limit off, the engine's rate unbounded (in memory), `--concurrency` sends in
   flight: messages per second from the first send to the last, and the database round trips per delivery
   (statements the engine sent to PostgreSQL, counted by SQLAlchemy, over the deliveries);
2. sustained: the fake enforcing `--fake-rate` (30) messages in any sliding second (429 beyond), the engine
   at `--rate` (28) through the scale path's gate (the rate shared in Redis through `limits`, database
   `--redis`, default redis://127.0.0.1:6379/12, **emptied at the start**): the rate over the broadcast
   and the 429s the fake answered (target: none).
Every run checks the invariant: each recipient sent exactly once.

    .venv/bin/python -m bench.broadcast [--count 3000] [--concurrency 128] [--rate 28] [--fake-rate 30]
        [--skip-sustained]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import event

from channels.broadcast import DeliveryEngine, EngineSettings, Gate, MemoryGate, RedisGate
from channels.broadcast_store import SENT, BroadcastStore, Recipient
from channels.broadcast_telegram import TelegramBroadcastSender
from storage.database import Database
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.learning_support import scratch_schema
from tests.support.services import POSTGRES_URL

FIRST_CHAT = 5_000_000


def _fake_process(pipe: Connection) -> None:
    """The fake Bot API, answering this benchmark's commands over a pipe."""
    with FakeTelegram() as fake:
        pipe.send(fake.base_url)
        while True:
            command, value = pipe.recv()
            if command == "stop":
                return
            if command == "cpu":
                pipe.send(time.process_time())
            elif command == "limit":
                fake.limit_rate(value)
            elif command == "stats":  # of the sends to chats from `value` on
                sent = [r for r in fake.sent() if int(r.params["chat_id"]) >= value]
                seconds = Counter(int(r.at) for r in sent)
                times = sorted(r.at for r in sent)
                chats = Counter(int(r.params["chat_id"]) for r in sent)
                pipe.send(
                    {
                        "sent": len(sent),
                        "distinct": len(chats),
                        "twice": sum(1 for n in chats.values() if n > 1),
                        "rate_limited": fake.rate_limited,
                        "busiest_second": max(seconds.values(), default=0),
                        "span": times[-1] - times[0] if len(times) > 1 else 0.0,
                    }
                )


class _Fake:
    def __init__(self) -> None:
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(target=_fake_process, args=(child,), daemon=True)
        self._process.start()
        self.base_url: str = self._pipe.recv()

    def command(self, name: str, value: Any = None) -> Any:
        self._pipe.send((name, value))
        return self._pipe.recv() if name in ("stats", "cpu") else None

    def stop(self) -> None:
        self._pipe.send(("stop", None))
        self._process.join(10)


async def _run(url: str, base_url: str, count: int, first: int, gate: Gate, concurrency: int) -> dict[str, Any]:
    db = Database(url)
    statements = 0

    def counted(*args: Any) -> None:
        nonlocal statements
        statements += 1

    store = BroadcastStore(db)
    broadcast = store.create(
        "Bình dân học vụ số: bài học tuần này", [Recipient("telegram", str(first + n)) for n in range(count)], "bench"
    )
    event.listen(db.engine, "before_cursor_execute", counted)
    sender = TelegramBroadcastSender(TOKEN, base_url, timeout=10.0, connections=concurrency)
    engine = DeliveryEngine(store, [sender], gate, EngineSettings(concurrency=concurrency))
    started = time.perf_counter()
    async with engine:
        while True:
            await engine.run_until_idle()
            wait = store.next_due_in(engine.channels)
            if wait is None:
                break
            await asyncio.sleep(min(wait, 0.5))
    elapsed = time.perf_counter() - started
    event.remove(db.engine, "before_cursor_execute", counted)
    report = store.report(broadcast)
    await gate.close()
    db.dispose()
    return {"elapsed": elapsed, "statements": statements, "counts": report.counts, "sent": report.counts[SENT]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    # Sends in flight: 1,000 messages/s with each send ~100 ms away (Telegram's real round trip) needs ~100.
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--rate", type=int, default=28)
    parser.add_argument("--fake-rate", type=int, default=30)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--skip-sustained", action="store_true")
    args = parser.parse_args()
    import redis

    fake = _Fake()
    try:
        with scratch_schema(POSTGRES_URL, prefix="bench") as url:
            migrating = Database(url)
            migrating.upgrade(quiet=True)
            migrating.dispose()
            cpu, fake_cpu = time.process_time(), fake.command("cpu")
            result = asyncio.run(
                _run(url, fake.base_url, args.count, FIRST_CHAT, MemoryGate(1_000_000), args.concurrency)
            )
            cpu, fake_cpu = time.process_time() - cpu, fake.command("cpu") - fake_cpu
            stats = fake.command("stats", FIRST_CHAT)
            assert stats["distinct"] == args.count and stats["twice"] == 0, stats
            print(
                f"throughput (fake's limit off, PostgreSQL, {args.concurrency} in flight): {args.count} messages in "
                f"{result['elapsed']:.2f} s = {args.count / result['elapsed']:.0f} messages/s "
                f"(first to last send at the fake: {args.count / max(stats['span'], 1e-9):.0f}/s); "
                f"{result['statements'] / args.count:.2f} database round trips per delivery; CPU per message: "
                f"engine {cpu / args.count * 1000:.2f} ms, fake Bot API {fake_cpu / args.count * 1000:.2f} ms"
            )
            if not args.skip_sustained:
                redis.Redis.from_url(args.redis).flushdb()
                fake.command("limit", args.fake_rate)
                gate = RedisGate(args.redis, args.rate)
                result = asyncio.run(
                    _run(url, fake.base_url, args.count, FIRST_CHAT + args.count, gate, args.concurrency)
                )
                stats = fake.command("stats", FIRST_CHAT + args.count)
                assert stats["sent"] == args.count and stats["twice"] == 0, stats
                print(
                    f"sustained (fake enforcing {args.fake_rate}/s, engine at {args.rate}/s through Redis): "
                    f"{args.count} messages in {result['elapsed']:.1f} s = {args.count / result['elapsed']:.2f} messages/s; "
                    f"429s from the fake: {stats['rate_limited']}; busiest second at the fake: {stats['busiest_second']}; "
                    f"{result['statements'] / args.count:.2f} database round trips per delivery"
                )
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
