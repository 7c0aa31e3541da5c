"""The delivery engine: broadcasts' deliveries sent at the platform's pace, each row at most once.

One loop per process (the embedded default runs it in-process; `hocvu worker` runs it in procrastinate
jobs, channels/broadcast_worker.py). Nothing goes out inside the quiet hours (people.quiet_hours_*,
default 21:00-07:00 Asia/Ho_Chi_Minh): then the due rows are held until the morning (their next attempt is
moved there; none is claimed, failed or counted as an attempt). Per due row, in this order:
1. wait while every worker is paused (a 429's `retry_after`, shared through the gate), then for a slot of
   the global rate (default 25 messages/s, shared through the gate); a pause begun meanwhile is waited
   out and a new slot taken;
2. the chat's own limit (one message per second per chat): a chat that is not free is put back for a
   second, unclaimed;
3. the claim: pending → sending, one conditional UPDATE (channels/broadcast_store.py); lost, the row is
   someone else's and is skipped;
4. the send, through the channel's sender, whose Outcome is written over the claim.
Every wait for the rate comes before the claim, so a claimed row is held for one request only (and at
most about one 1/rate interval of spacing, below): `recover` can take any row left `sending` longer than
`recover_after` (which must exceed a request's timeout) for a dead worker's without ever mislabelling a
live one waiting its turn. Between the claim and its request, the gate spaces this process's requests at
least 1/rate apart (measured from when each really left, never catching up), so the claim's round trip,
or a busy machine's late wake-up, cannot bunch requests that the slots had spread out.
Outcomes: sent; blocked (403: the user blocked the bot); failed with a reason (refused for good, or still
failing after `max_attempts` transient errors); offered (the platform takes it only as a reply to the user,
as Zalo does once a user's window is closed: on a channel that pulls, `bot.offers.PULL_CHANNELS`, it waits
for the user to write and pull it, bot/offers.py; on any other it fails); pending again (a 429: only that row, and the attempt does
not count; a transient error before the request left: after a back-off with jitter); uncertain (the request
left and no answer came: never retried automatically, `hocvu broadcast resend-uncertain` is the
operator's call). An exception no sender foresaw after the claim makes the row uncertain too: it may have
been sent.

The database in groups: the claims that come while one batch of claims is in the database go together in
the next (one UPDATE ... RETURNING for all, each row taken on its own conditions, as alone), and so do the
outcomes (one executemany): group commit, without holding any row back to wait for company. A worker
waits for its row's outcome to be written before it takes another, so no more rows than sends in flight
are ever `sending`. At 32 sends in flight this is about 0.2 database round trips per delivery instead of 2.

The gates: `MemoryGate` (one process: the rate and the pause in memory) and `RedisGate` (several
processes: the global rate in Redis through `limits`, the pause as a Redis key). Both also pace each
process evenly (one slot every 1/rate s), so a second's messages are spread over it rather than sent in a
burst the platform may count against the next second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from bot.offers import PULL_CHANNELS
from bot.people import QuietHours, next_allowed_send
from channels.broadcast_store import FAILED, OFFERED, PENDING, UNCERTAIN, BroadcastStore, Due, Outcome, now

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class Sender(Protocol):
    channel: str

    async def start(self) -> None:
        """Open the client (its connection pool); called once before the first send."""
        ...

    async def close(self) -> None: ...

    async def send(self, due: Due) -> Outcome: ...


class Gate(Protocol):
    async def paused_for(self) -> float:
        """Seconds every worker must still wait after a 429 (0: none)."""
        ...

    async def pause(self, seconds: float) -> None: ...

    async def chat_free(self, channel: str, user_id: str) -> bool:
        """Whether the chat may get a message now (counts it when it may)."""
        ...

    async def slot(self) -> None:
        """Wait for a slot of the global rate."""
        ...

    async def spaced(self) -> None:
        """Right before a request: wait until this process's last one is 1/rate s old."""
        ...

    async def close(self) -> None: ...


class _Pacer:
    """One slot every 1/rate seconds in this process, on a fixed schedule (a late wake-up does not slow the
    rate down)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


class _Spacer:
    """At least 1/rate seconds between two requests of this process, measured from when each really left:
    whatever stood between a slot and its request (the claim's round trip, a busy machine's late wake-up),
    requests never bunch. It never catches up, so it waits at most about one interval per request."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._last = -1e9

    async def wait(self) -> None:
        while (gap := self._last + self.interval - time.monotonic()) > 0:
            await asyncio.sleep(gap)
        self._last = time.monotonic()


class MemoryGate:
    """One process: the global rate paced in memory, the chats' last sends and the pause in memory."""

    def __init__(self, rate: float, *, per_chat: float = 1.0) -> None:
        self._pacer = _Pacer(rate)
        self._spacer = _Spacer(rate)
        self.per_chat = per_chat
        self._chats: dict[tuple[str, str], float] = {}
        self._paused_until = 0.0
        self._swept = time.monotonic()

    async def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def chat_free(self, channel: str, user_id: str) -> bool:
        now = time.monotonic()
        if now - self._swept > 60:  # forget chats whose second is long past
            self._chats = {k: t for k, t in self._chats.items() if now - t < self.per_chat}
            self._swept = now
        key = (channel, user_id)
        if now - self._chats.get(key, -1e9) < self.per_chat:
            return False
        self._chats[key] = now
        return True

    async def slot(self) -> None:
        await self._pacer.wait()

    async def spaced(self) -> None:
        await self._spacer.wait()

    async def close(self) -> None:
        return None


class RedisGate:
    """Several processes: the global rate counted in Redis by `limits` (a moving window of one second), each
    chat's one message per second likewise, and the pause as a key with a time to live."""

    def __init__(self, redis_url: str, rate: int, *, prefix: str = "hocvu-broadcast") -> None:
        import redis.asyncio
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        plain = redis_url.removeprefix("async+")
        # Sends in flight wait their turn for a connection: redis-py's plain pool raises "Too many connections"
        # past 100, which 128 sends in flight (a paid broadcast's ~1,000/s) reached at once.
        self._pool = redis.asyncio.BlockingConnectionPool.from_url(
            plain, max_connections=32, timeout=10, socket_timeout=5, socket_connect_timeout=5
        )
        self._redis = redis.asyncio.Redis(connection_pool=self._pool)
        options: dict[str, Any] = {"connection_pool": self._pool}
        storage = RedisStorage(f"async+{plain}", implementation="redispy", key_prefix=prefix, **options)
        self._limiter = MovingWindowRateLimiter(storage)
        self._rate = RateLimitItemPerSecond(rate)
        self._chat = RateLimitItemPerSecond(1)
        self._pacer = _Pacer(rate)
        self._spacer = _Spacer(rate)
        self._pause_key = f"{prefix}:paused"

    async def paused_for(self) -> float:
        ttl = await self._redis.pttl(self._pause_key)
        return max(0, int(ttl)) / 1000.0

    async def pause(self, seconds: float) -> None:
        ms = max(1, int(seconds * 1000))
        await self._redis.set(self._pause_key, b"1", px=ms, nx=True)
        await self._redis.pexpire(self._pause_key, ms, gt=True)  # a longer pause wins

    async def chat_free(self, channel: str, user_id: str) -> bool:
        return bool(await self._limiter.hit(self._chat, "chat", channel, user_id))

    async def slot(self) -> None:
        await self._pacer.wait()
        while not await self._limiter.hit(self._rate, "global"):
            stats = await self._limiter.get_window_stats(self._rate, "global")
            await asyncio.sleep(min(1.0, max(0.005, stats.reset_time - time.time())))

    async def spaced(self) -> None:
        await self._spacer.wait()

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.aclose()


class _GroupCommit(Generic[T, R]):
    """Calls that come while a batch is in the database go together in the next one: one statement (one
    round trip, one thread hop) for many rows, without holding any row back to wait for company."""

    def __init__(self, run: Callable[[list[T]], Sequence[R]], limit: int = 500) -> None:
        self._run = run
        self._limit = limit
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: T) -> asyncio.Future[R]:
        """The item's result to come; the batch runs whether or not the caller still waits for it."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._limit], self._waiting[self._limit :]
                try:
                    results = await asyncio.to_thread(self._run, [item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None


@dataclass
class EngineSettings:
    concurrency: int = 16  # sends in flight in this process
    batch: int = 200  # candidates read at once
    max_attempts: int = 5  # transient failures before a row fails
    base_delay: float = 1.0  # the first back-off, doubled per attempt, with jitter
    chat_interval: float = 1.0  # a chat not free now is tried again after this


class DeliveryEngine:
    def __init__(
        self,
        store: BroadcastStore,
        senders: Sequence[Sender],
        gate: Gate,
        settings: EngineSettings | None = None,
        *,
        on_outcome: Callable[[Due, Outcome], Any] | None = None,
        quiet: QuietHours | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.store = store
        self.senders = {s.channel: s for s in senders}
        self.gate = gate
        self.settings = settings or EngineSettings()
        self.on_outcome = on_outcome
        self.quiet = quiet  # None: deliveries go out at any hour
        self.clock = clock  # naive UTC, as in the database; the tests' own clock crosses the night at once
        self._held: datetime | None = None  # the morning until which this process last held the due rows
        # Claims and outcomes written in groups: the rows' own conditions decide each, as one by one.
        self._claims = _GroupCommit[int, bool](self._claim_batch)
        self._outcomes = _GroupCommit[tuple[int, Outcome], None](self._finish_batch)
        self._busy: set[int] = set()  # rows this process is working on
        self._deadline: float | None = None  # of the current run_until_idle: no row is started after it
        self._stop: asyncio.Event | None = None  # of the current run_until_idle: set, no row is started
        self._opened = contextlib.AsyncExitStack()  # closes the senders that __aenter__ started

    @property
    def channels(self) -> list[str]:
        return list(self.senders)

    async def __aenter__(self) -> DeliveryEngine:
        """The senders' clients open while the engine is used (`async with engine:`)."""
        async with contextlib.AsyncExitStack() as stack:
            for sender in self.senders.values():
                await sender.start()
                stack.push_async_callback(sender.close)
            self._opened = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._opened.aclose()

    async def run_until_idle(self, budget: float | None = None, stop: asyncio.Event | None = None) -> int:
        """Send what is due now, until nothing is, or until `budget` seconds have passed or `stop` is set:
        then no new row is claimed and the sends under way finish (a job that ends in time is never
        cancelled mid-send). Returns how many rows were worked on."""
        loop = asyncio.get_running_loop()
        self._deadline = None if budget is None else loop.time() + budget
        self._stop = stop
        worked = 0
        queue: asyncio.Queue[Due | None] = asyncio.Queue(maxsize=self.settings.batch)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.settings.concurrency)]
        try:
            while not self._past_deadline():
                if await self._hold_if_quiet(always=True):
                    break
                candidates = await self._due()
                fresh = [d for d in candidates if d.id not in self._busy]
                if not fresh:
                    await queue.join()  # the rows in flight finish; some may come back due
                    candidates = await self._due()
                    if not [d for d in candidates if d.id not in self._busy]:
                        break
                    continue
                for due in fresh:
                    self._busy.add(due.id)
                    await queue.put(due)
                    worked += 1
                await queue.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._deadline = self._stop = None
        return worked

    async def _due(self) -> list[Due]:
        return await asyncio.to_thread(self.store.due, self.settings.batch, self.channels, self.clock())

    def quiet_until(self) -> datetime | None:
        """The end of the quiet hours (naive UTC) when it is quiet now; None when deliveries may go out."""
        if self.quiet is None:
            return None
        at = self.clock().replace(tzinfo=UTC)
        allowed = next_allowed_send(at, self.quiet)
        return allowed.astimezone(UTC).replace(tzinfo=None) if allowed > at else None

    async def _hold_if_quiet(self, *, always: bool = False) -> bool:
        """In quiet hours, the due rows are held until the morning (their next attempt moved there: not
        claimed, not failed, no attempt counted) and True is returned. `always`: even when this process held
        them for the same morning already (rows created or put back since are held too)."""
        until = self.quiet_until()
        if until is None:
            return False
        if always or self._held != until:
            held = await asyncio.to_thread(self.store.hold, until, self.channels)
            if self._held != until:
                log.info("broadcast: quiet hours; %d deliveries held until %s UTC", held, f"{until:%Y-%m-%d %H:%M}")
            self._held = until
        return True

    def _past_deadline(self) -> bool:
        if self._stop is not None and self._stop.is_set():
            return True
        return self._deadline is not None and asyncio.get_running_loop().time() >= self._deadline

    async def _sleep(self, seconds: float) -> None:
        """A wait before any claim, cut short by a stop (nothing is held yet, so nothing is left half done)."""
        if self._stop is None:
            await asyncio.sleep(seconds)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def run(self, stop: asyncio.Event, *, poll: float = 1.0, recover_after: float = 120.0) -> None:
        """The in-process loop: send what is due, sleep until the next row is due (at most `poll` s)."""
        while not stop.is_set():
            await asyncio.to_thread(self.store.recover, recover_after, self.clock())
            await self.run_until_idle(stop=stop)
            await asyncio.to_thread(self.store.close_finished)
            wait = await asyncio.to_thread(self.store.next_due_in, self.channels, self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(poll, wait) if wait is not None else poll)

    async def _worker(self, queue: asyncio.Queue[Due | None]) -> None:
        while True:
            due = await queue.get()
            try:
                if due is None:
                    return
                if not self._past_deadline():  # past it, the row stays pending for the next run
                    await self.deliver(due)
            except Exception:
                log.exception("broadcast: delivery %s", due.id if due else None)
            finally:
                if due is not None:
                    self._busy.discard(due.id)
                queue.task_done()

    async def deliver(self, due: Due) -> Outcome | None:
        """One row: None when it was not this process's to send (claimed elsewhere, no longer due, held
        for the night, or its chat not free yet)."""
        # The waits for a pause and the rate come before the claim, so a claimed row is held only for its one
        # request (and a spacing of about 1/rate): a row left `sending` longer than that belongs to a worker
        # that died (`recover`), never to one waiting its turn.
        while True:
            while (paused := await self.gate.paused_for()) > 0 and not self._past_deadline():
                await self._sleep(paused)
            if self._past_deadline():
                return None
            await self.gate.slot()
            if await self.gate.paused_for() <= 0:  # a 429 may have come while this row waited for its slot
                break
        if self._past_deadline():  # stopped (or out of time) while it waited: it stays pending, unclaimed
            return None
        if await self._hold_if_quiet():  # the night may have begun while the row waited its turn
            return None
        if not await self.gate.chat_free(due.channel, due.user_id):
            await asyncio.to_thread(self.store.postpone, due.id, self.settings.chat_interval, self.clock())
            return None
        if not await self._claim(due):
            return None
        try:  # a claim's round trip must not bunch requests that the slots spread out
            await self.gate.spaced()
        except asyncio.CancelledError:  # stopped before the request left: it is simply pending again
            await asyncio.shield(self._finish(due, Outcome(PENDING, refund=True)))
            raise
        try:
            outcome = await self.senders[due.channel].send(due)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(due, Outcome(UNCERTAIN, error="stopped while sending")))
            raise
        except Exception as exc:  # the request may have left: never sent again without the operator
            log.exception("broadcast: sending delivery %s", due.id)
            outcome = Outcome(UNCERTAIN, error=f"unexpected error while sending: {type(exc).__name__}")
        if outcome.pull_only:  # no free window: kept for the user to pull where the channel lets them
            outcome = Outcome(OFFERED if due.channel in PULL_CHANNELS else FAILED, error=outcome.error)
        if outcome.status == PENDING:
            if outcome.pause_all:
                log.warning("broadcast: the platform asked every sender to wait %.1f s", outcome.pause_all)
                await self.gate.pause(outcome.pause_all)
            elif not outcome.refund:
                attempts = due.attempts + 1
                if attempts >= self.settings.max_attempts:
                    outcome = Outcome(FAILED, error=f"{outcome.error} (gave up after {attempts} attempts)")
                else:
                    delay = self.settings.base_delay * 2 ** (attempts - 1) * (0.5 + random.random())
                    outcome = Outcome(PENDING, error=outcome.error, retry_in=delay)
        await self._finish(due, outcome)
        return outcome

    def _claim_batch(self, ids: list[int]) -> list[bool]:
        claimed = self.store.claim_many(ids, self.clock())
        return [i in claimed for i in ids]

    def _finish_batch(self, outcomes: list[tuple[int, Outcome]]) -> list[None]:
        self.store.finish_many(outcomes, self.clock())
        return [None] * len(outcomes)

    async def _claim(self, due: Due) -> bool:
        claim = self._claims.submit(due.id)
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:  # stopped during the claim: a row it took goes back, nothing was sent
            if await claim:
                await asyncio.shield(self._finish(due, Outcome(PENDING, refund=True)))
            raise

    async def _finish(self, due: Due, outcome: Outcome) -> None:
        # Waited for: a row is written before its worker takes another, so no more rows than sends in
        # flight are ever `sending` (what a kill -9 can leave uncertain).
        await self._outcomes.submit((due.id, outcome))
        if self.on_outcome is not None:
            result = self.on_outcome(due, outcome)
            if isinstance(result, Awaitable):
                await result
