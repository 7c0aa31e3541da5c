"""What every channel needs, once: the durable inbox, de-duplication, one turn per user in arrival order,
the flood limit, the thread pool that runs the synchronous core, the volunteers' desk and data deletion.

A channel (`Channel`) is left with its platform: turning a stored event into `UserMessage`s, rendering
replies and sending them. Zalo, or any later channel, reuses this runner instead of copying Telegram's.

An event's way (`receive`, then `_process` in the background):
1. the webhook hands over the raw event; `Inbox.put` stores it, and only then may the platform be told it
   arrived (the route answers 200 after `receive` returns). A key seen before is a duplicate: dropped.
2. the channel decodes it and calls `converse` for a user's message: the flood limit, then the user's
   turn (in this process an asyncio lock, FIFO, so in arrival order; across workers a Redis lease), the
   core in a thread, and the replies queued to the sender while the turn is held, so they keep their order;
3. when the replies were sent or given up on, the event is marked done: together with the others finished
   within `DONE_DELAY`, in one write, which costs a fraction of one write per event.

A process killed in between leaves its events in the inbox, leased; once a lease runs out (a live worker
renews its own every lease/3 seconds) any worker's sweep claims them and processes them again. So an
acknowledged event is never lost; what remains is a window in which a reply was sent but the event not yet
marked done (up to DONE_DELAY plus one write), and a crash there sends that reply again (docs/telegram.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from bot.assistant import Assistant
from bot.messages import Handover, Response, UserMessage
from bot.texts import t
from channels import metrics
from channels.flood import FloodLimit, Verdict
from channels.inbox import Inbox, InboxItem
from channels.turns import UserTurns

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5  # an event whose worker died this often is taken to be what kills it: logged and dropped
DONE_DELAY = 0.05  # seconds: events finished within this are marked done in one write


class Channel(Protocol):
    """A platform's shell around the core."""

    name: str  # "telegram": the `UserMessage.channel` of its users

    async def handle(self, payload: str, runner: Runner) -> None:
        """Act on one stored event; a user's message goes to `runner.converse`."""
        ...

    def deliver(self, user_id: str, response: Response) -> Awaitable[None]:
        """Queue the response's replies, in order, before returning (so a later turn's cannot overtake them);
        the awaitable ends when they were sent or given up on."""
        ...

    def note(self, user_id: str, text: str) -> Awaitable[None]:
        """Queue one short plain message (the flood limit's "slow down")."""
        ...

    async def forget(self, user_id: str) -> None:
        """Delete what the channel itself keeps about a user: part of deleting their data."""
        ...


class VolunteerDesk(Protocol):
    """Where volunteers see handover requests and answer them (the Telegram volunteers' group is the first)."""

    async def post(self, channel: str, user_id: str, event: Handover) -> bool:
        """Show the core's note to volunteers; False when it could not be posted."""
        ...

    async def forget(self, channel: str, user_id: str) -> None:
        """Forget which posts belonged to the user: part of deleting their data."""
        ...


class Runner:
    def __init__(
        self,
        assistant: Assistant,
        *,
        flood: FloodLimit,
        core_threads: int,
        lease: float,
        turns: UserTurns | None = None,
        desk: VolunteerDesk | None = None,
    ) -> None:
        self.assistant = assistant
        self.flood = flood
        self.turns = turns  # several workers: one turn per user across all of them
        self.desk = desk
        self.lease = lease
        self._channels: dict[str, tuple[Channel, Inbox]] = {}
        self._core = ThreadPoolExecutor(max_workers=core_threads, thread_name_prefix="hocvu-core")
        self._io = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hocvu-inbox")
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: dict[str, set[str]] = {}
        self._finished: dict[str, list[str]] = {}  # per channel: processed, not yet marked done
        self._finishing = asyncio.Event()
        self._marker: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def add(self, channel: Channel, inbox: Inbox) -> None:
        self._channels[channel.name] = (channel, inbox)
        self._in_flight[channel.name] = set()

    def channel(self, name: str) -> Channel:
        return self._channels[name][0]

    # -- life ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start sweeping: renewing this worker's leases and taking over events left by a dead one."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="hocvu-inbox-sweep")
        self._marker = asyncio.create_task(self._mark_done_forever(), name="hocvu-inbox-done")

    async def stop(self, grace: float) -> None:
        """Finish events in flight for up to `grace` seconds; the rest stay in the inbox for the next start."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._tasks:
            _, unfinished = await asyncio.wait(set(self._tasks), timeout=grace)
            if unfinished:
                log.warning("stopping with %d event(s) unfinished; they stay in the inbox", len(unfinished))
                for task in unfinished:
                    task.cancel()
                await asyncio.gather(*unfinished, return_exceptions=True)
        if self._marker is not None:
            self._marker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._marker
        await self._mark_done()  # what finished since the last write
        self._core.shutdown(wait=True)
        self._io.shutdown(wait=True)
        if self.turns is not None:
            await self.turns.close()
        await self.flood.close()

    # -- events --------------------------------------------------------------------------------------

    async def receive(self, channel: str, key: str, payload: str) -> bool:
        """Store an event and process it in the background; False for a duplicate.

        Returns once the event is stored: only then may the platform be told it arrived. Raises when the
        inbox cannot store it, so the platform is told to deliver it again.
        """
        inbox = self._channels[channel][1]
        if not await self._db(inbox.put, key, payload):
            metrics.DUPLICATES.labels(channel).inc()
            log.info("%s event %s was delivered again; already taken", channel, key)
            return False
        metrics.UPDATES.labels(channel).inc()
        self._spawn(channel, InboxItem(key, payload, 0))
        return True

    def _spawn(self, channel: str, item: InboxItem) -> None:
        self._in_flight[channel].add(item.key)
        task = asyncio.create_task(self._process(channel, item), name=f"hocvu-{channel}-{item.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, channel: str, item: InboxItem) -> None:
        adapter = self._channels[channel][0]
        try:
            if item.attempts >= MAX_ATTEMPTS:
                log.error("%s event %s: its worker stopped %d times; dropped", channel, item.key, item.attempts)
                metrics.FAILED.labels(channel).inc()
            else:
                try:
                    await adapter.handle(item.payload, self)
                except Exception:  # a bug, or an event no code path expects: retrying would fail again
                    log.exception("%s event %s could not be processed; dropped", channel, item.key)
                    metrics.FAILED.labels(channel).inc()
        except BaseException:  # cancelled at a stop: not done, so it stays in the inbox for the next start
            self._in_flight[channel].discard(item.key)
            raise
        # Still in flight (its lease renewed) until the write that marks it done.
        self._finished.setdefault(channel, []).append(item.key)
        self._finishing.set()
        if self._marker is None:  # a runner used without start(), as in some tests
            self._marker = asyncio.create_task(self._mark_done_forever(), name="hocvu-inbox-done")

    async def _mark_done_forever(self) -> None:
        while True:
            await self._finishing.wait()
            await asyncio.sleep(DONE_DELAY)  # let the events finishing meanwhile share the write
            self._finishing.clear()
            await self._mark_done()

    async def _mark_done(self) -> None:
        finished, self._finished = self._finished, {}
        for channel, keys in finished.items():
            inbox = self._channels[channel][1]
            try:
                await self._db(inbox.done, keys)
            except Exception:  # the inbox is unreachable: the leases run out and the events are processed again
                log.exception("%s: %d event(s) could not be marked done", channel, len(keys))
            finally:
                self._in_flight[channel].difference_update(keys)

    async def _sweep_forever(self) -> None:
        while True:
            for name, (_, inbox) in self._channels.items():
                try:
                    await self._sweep(name, inbox)
                except Exception as exc:
                    log.warning("%s inbox sweep failed: %s", name, exc)
            await asyncio.sleep(self.lease / 3)

    async def _sweep(self, name: str, inbox: Inbox) -> None:
        mine = set(self._in_flight[name])
        if mine:
            await self._db(inbox.renew, mine)
        for item in await self._db(inbox.claim_stale, 100):
            log.warning("%s event %s was left unfinished by a stopped worker; processing it", name, item.key)
            self._spawn(name, item)
        metrics.INBOX_PENDING.labels(name).set(await self._db(inbox.pending))

    # -- conversations -------------------------------------------------------------------------------

    async def admit(self, channel: str, key: str) -> Verdict:
        """The flood limit for `key` (a user, or a group chat)."""
        verdict = await self.flood.check(f"{channel}:{key}")
        if verdict is not Verdict.PASS:
            metrics.FLOOD.labels(channel, verdict.value).inc()
        return verdict

    async def converse(self, message: UserMessage) -> None:
        """One message from a user: flood limit, the user's turn, the core, replies, handover and deletion."""
        channel = self.channel(message.channel)
        verdict = await self.admit(message.channel, message.user_id)
        if verdict is Verdict.WARN:
            await channel.note(message.user_id, t("slow_down", language_of(message.language_hint)))
        if verdict is not Verdict.PASS:
            return
        started = asyncio.get_running_loop().time()
        async with self._user_turn(message.channel, message.user_id):
            response = await self._run_core(self.assistant.handle, message)
            sent = channel.deliver(message.user_id, response)
            if response.forget_user:  # the core deleted the user's data; the channel's records go too
                await channel.forget(message.user_id)
                if self.desk is not None:
                    await self.desk.forget(message.channel, message.user_id)
            if response.handover is not None:
                failed = await self._to_desk(message.channel, message.user_id, response.handover)
                if failed is not None:
                    sent = _both(sent, failed)
            for notice in response.notices:
                if notice.channel in self._channels:  # a channel this process does not serve (the terminal's)
                    sent = _both(sent, self.channel(notice.channel).note(notice.user_id, notice.text))
        metrics.TURNS.labels(message.channel).inc()
        metrics.ANSWER_SECONDS.labels(message.channel).observe(asyncio.get_running_loop().time() - started)
        if response.fallback:
            metrics.FALLBACKS.labels(message.channel).inc()
        await sent

    async def _to_desk(self, channel: str, user_id: str, event: Handover) -> Awaitable[None] | None:
        """Post the event at the desk; when a request could not be posted, the user is told at once."""
        posted = self.desk is not None and await self.desk.post(channel, user_id, event)
        if posted or event.kind != "open":
            return None
        failed = await self._run_core(self.assistant.handover_failed, channel, user_id)
        return self.channel(channel).deliver(user_id, failed)

    async def volunteer_reply(self, channel: str, user_id: str, text: str) -> Handover | None:
        """A volunteer's answer to a user of any channel; returns what the desk must show in turn."""
        async with self._user_turn(channel, user_id):
            response = await self._run_core(self.assistant.volunteer_reply, channel, user_id, text)
            sent = self.channel(channel).deliver(user_id, response)
        await sent
        return response.handover

    @contextlib.asynccontextmanager
    async def _user_turn(self, channel: str, user_id: str) -> AsyncIterator[None]:
        """One message per user at a time, in arrival order; the lock is forgotten when nobody holds it."""
        key = f"{channel}:{user_id}"
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self.turns is None:
                    yield
                else:
                    async with self.turns.hold(key):
                        yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, function, *args)

    async def _run_core(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._core, function, *args)


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    await first
    await second


def language_of(hint: str | None) -> str:
    """The language of a note sent before the core knows the user's: English only when the client says so."""
    return "en" if (hint or "").lower().startswith("en") else "vi"
