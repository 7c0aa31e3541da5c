"""The FloodLimit contract: a burst passes, then one "slow down", then silence; other users are not affected;
after the window the user passes again and a new flood warns again.

FloodGate is the one implementation, on two storages: in memory (one process) and in Redis (shared by every
worker). What only Redis does (one budget and one warning across workers, failing open when Redis is down)
is tested below the contract.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from channels.flood import FloodGate, FloodLimit, MemoryWindows, Verdict, windows
from tests.support.services import require_redis

PASS, WARN, DROP = Verdict.PASS, Verdict.WARN, Verdict.DROP

OpenGate = Callable[[int, int], FloodLimit]  # a worker's gate (burst, per_minute), on the test's shared storage

# A burst window of 30 s: nothing frees up while a test runs, however slow the machine.
LONG = (3, 6)
# A burst window of 1 s, for the tests that wait for it.
SHORT = (3, 180)


async def _gates(backend: str) -> AsyncIterator[OpenGate]:
    url = require_redis() if backend == "redis" else "memory://"
    prefix = f"hocvu-test:flood:{uuid.uuid4().hex}"  # a key space of its own per test
    opened: list[FloodGate] = []

    def open_gate(burst: int, per_minute: int) -> FloodLimit:
        gate = FloodGate(burst, per_minute, url, prefix=prefix)
        opened.append(gate)
        return gate

    yield open_gate
    for gate in opened:
        await gate.close()
    if backend == "redis":
        import redis

        with redis.Redis.from_url(url) as client:
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)


@pytest.fixture(params=["memory", "redis"])
async def open_gate(request: pytest.FixtureRequest) -> AsyncIterator[OpenGate]:
    async for gates in _gates(request.param):
        yield gates


@pytest.fixture
async def open_shared_gate() -> AsyncIterator[OpenGate]:
    async for gates in _gates("redis"):
        yield gates


async def _checks(gate: FloodLimit, key: str, n: int) -> list[Verdict]:
    return [await gate.check(key) for _ in range(n)]


async def test_a_burst_passes_then_one_warning_then_silence(open_gate: OpenGate) -> None:
    gate = open_gate(*LONG)
    assert await _checks(gate, "telegram:1", 6) == [PASS, PASS, PASS, WARN, DROP, DROP]


async def test_another_user_is_not_affected(open_gate: OpenGate) -> None:
    gate = open_gate(*LONG)
    await _checks(gate, "telegram:1", 5)
    assert await _checks(gate, "telegram:2", 4) == [PASS, PASS, PASS, WARN]
    assert await _checks(gate, "group:-100", 1) == [PASS]


async def test_after_the_window_the_user_passes_again_and_a_new_flood_warns_again(open_gate: OpenGate) -> None:
    gate = open_gate(*SHORT)
    assert await _checks(gate, "telegram:1", 5) == [PASS, PASS, PASS, WARN, DROP]
    deadline = time.monotonic() + 5  # the window is 1 s
    while (verdict := await gate.check("telegram:1")) is not PASS:
        assert verdict is DROP, "warned once per flood"
        assert time.monotonic() < deadline, "still refused long after the window"
        await asyncio.sleep(0.05)
    # A new flood: at most a burst passes (old messages may still be leaving the window), then one warning.
    more = [await gate.check("telegram:1") for _ in range(6)]
    first_refused = more.index(WARN)
    assert first_refused <= 3 and set(more[:first_refused]) <= {PASS}
    assert set(more[first_refused + 1 :]) == {DROP}


async def test_several_gates_in_one_process_are_independent_budgets() -> None:
    # Documented, not desired: "memory://" is for one process; this is why several workers need Redis.
    first, second = FloodGate(*LONG), FloodGate(*LONG)
    try:
        assert await _checks(first, "telegram:1", 3) == [PASS] * 3
        assert await _checks(second, "telegram:1", 3) == [PASS] * 3
    finally:
        await first.close()
        await second.close()


def test_the_windows() -> None:
    assert windows(8, 20) == ((8, 24), (20, 60))  # the defaults: 8 at once, 20 a minute
    assert windows(3, 180) == ((3, 1), (180, 60))
    assert windows(1, 1000) == ((1, 1), (1000, 60))  # whole seconds: at most 60 a minute in fact
    assert windows(30, 10) == ((30, 180),)  # a minute window would refuse part of the burst
    assert windows(10, 10) == ((10, 60),)
    assert FloodGate(8, 20).windows == ((8, 24), (20, 60))
    with pytest.raises(ValueError):
        windows(0, 20)
    with pytest.raises(ValueError, match="memcached"):
        FloodGate(8, 20, "memcached://127.0.0.1:11211")


async def test_in_memory_users_with_nothing_left_in_their_windows_are_forgotten() -> None:
    from limits import RateLimitItemPerSecond

    second = RateLimitItemPerSecond(1, 1)
    memory = MemoryWindows(sweep_every=0.5)
    assert [await memory.hit(second, "telegram:1") for _ in range(2)] == [True, False]
    await asyncio.sleep(1.1)  # past the window and the sweep's period
    assert await memory.hit(second, "telegram:2")
    assert len(memory) == 1  # telegram:1 is gone...
    assert await memory.hit(second, "telegram:1")  # ...and counts afresh


# -- Redis: one budget for every worker --------------------------------------------------------------------


async def test_workers_share_one_budget_and_only_one_warns(open_shared_gate: OpenGate) -> None:
    first, second = open_shared_gate(*LONG), open_shared_gate(*LONG)  # two workers
    verdicts = [await (first if i % 2 == 0 else second).check("telegram:1") for i in range(8)]
    assert verdicts == [PASS, PASS, PASS, WARN, DROP, DROP, DROP, DROP]
    assert await _checks(second, "telegram:2", 1) == [PASS]


async def test_concurrent_messages_on_two_workers_pass_one_budget(open_shared_gate: OpenGate) -> None:
    first, second = open_shared_gate(*LONG), open_shared_gate(*LONG)
    verdicts = await asyncio.gather(*((first, second)[i % 2].check("telegram:1") for i in range(12)))
    assert verdicts.count(PASS) == 3
    # At least one warning. Not exactly one: a message passing clears the warning after its own count, so
    # messages racing it can, rarely, warn twice; sequential ones (the test above) warn once.
    assert verdicts.count(WARN) >= 1


async def test_keys_live_under_the_prefix_and_expire() -> None:
    import redis

    url, prefix = require_redis(), f"hocvu-test:flood:{uuid.uuid4().hex}"
    gate = FloodGate(*LONG, url, prefix=prefix)
    try:
        await _checks(gate, "telegram:42", 4)
    finally:
        await gate.close()
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(f"{prefix}:*"))
        try:
            assert len(keys) == 3, keys  # the two windows and "warned"
            assert all(b"telegram:42" in key and client.ttl(key) > 0 for key in keys), keys
        finally:
            if keys:
                client.delete(*keys)


# -- Redis down: the conversation goes on ------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_redis_lets_messages_through_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    gate = FloodGate(*LONG, f"redis://:s3cret-password@127.0.0.1:{_closed_port()}/0")
    try:
        with caplog.at_level(logging.WARNING, logger="channels.flood"):
            assert await _checks(gate, "telegram:1", 6) == [PASS] * 6
    finally:
        await gate.close()
    warnings = [record for record in caplog.records if record.name == "channels.flood"]
    assert len(warnings) == 1, caplog.text  # once a minute at most
    assert "unavailable" in warnings[0].getMessage() and "telegram:1" in warnings[0].getMessage()
    assert "s3cret" not in caplog.text


async def test_a_redis_that_never_answers_lets_messages_through_in_time() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts, never answers

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    gate = FloodGate(*LONG, f"redis://127.0.0.1:{port}/0", timeout=0.2)
    try:
        started = time.monotonic()
        assert await gate.check("telegram:1") is PASS
        assert time.monotonic() - started < 2
    finally:
        await gate.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
