"""Per-user flood limit: short bursts pass, sustained floods are slowed down, on the `limits` library.

Transport policy (how fast a messenger user may write), not a conversation rule, so it lives with the
channels: each channel chooses the key ("telegram:12345", a group's id...) and how to say "slow down" on
its transport, and the core never sees a dropped message. The first message over the limit gets one polite "slow
down" (Verdict.WARN); later ones in the same flood are dropped quietly (Verdict.DROP), so the bot never
floods back. A flood warns once per burst window: a new flood after it warns again.

The windows, both moving (a message counts for exactly the window's length after it was let through;
a refused message counts for nothing, so a flood does not extend itself):

- `burst` messages per ceil(burst * 60 / per_minute) seconds (at least 1 s): a burst of `burst` at once
  passes, and a burst per window is `per_minute` a minute on average. The defaults (8, 20): 8 per 24 s.
- `per_minute` messages per 60 s, so that bursts spaced one burst window apart cannot add up to more than
  `per_minute` in any minute. Left out when the burst window is a minute or longer (burst >= per_minute):
  it would refuse part of the burst, and the burst window alone already holds the average.

Whole seconds only (`limits` counts in seconds), so the sustained rate is at most 60 * burst per minute
even if per_minute is higher. A message refused by the minute window has already taken a slot of the
burst window: a user over the per-minute limit also waits out the (shorter) burst window. Harmless:
only someone flooding pays it.

"Already warned" is a third moving window, 1 per the burst window, so one message per flood warns however
many workers see it, in one atomic step of the storage; a flood that goes on past the burst window (refused
by the minute window) gets one more "slow down" per burst window, which is not flooding back. Nothing clears
it when a message passes: clearing is a second step that a message refused at the same moment on another
worker can slip between, and that user would be told twice.

Where the counts live (`storage_uri`):

- "memory://": in this process. Right for one process; with N worker processes each counts alone and a
  user gets N times the budget.
- "redis://host:port/db" (or "rediss://", with or without `async+`): in Redis, shared by every worker,
  every update atomic (the `limits` Lua scripts). Keys are `<prefix>:<window>/<user key>/...` and expire
  on their own. If Redis is down or slow (no answer within `timeout`, 0.5 s) the limit fails open: the
  message passes (a conversation matters more than a flood limit) and a warning is logged, at most once a
  minute per gate.

Idle users cost nothing: Redis expires their keys, and in memory a user's old entries go when the user is
next counted, and users with nothing left in any window are swept out once per longest window. (Not `limits`'
own async MemoryStorage: it expires entries by sweeping every key, a thread hop per key, and starts the next
sweep as soon as one ends while messages arrive; with a minute's users in memory that sweep alone cost a
server about 3 ms of CPU per message, docs/benchmarks.md.)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Protocol
from urllib.parse import urlsplit

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

log = logging.getLogger(__name__)

_REDIS_SCHEMES = ("redis", "rediss")
_LOG_EVERY = 60.0  # seconds between two warnings that the storage is unavailable


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"  # over the limit: tell the user once
    DROP = "drop"  # still over the limit, already told


class FloodLimit(Protocol):
    async def check(self, key: str) -> Verdict:
        """Count one message from `key` (e.g. "telegram:12345") and say what to do with it."""
        ...

    async def close(self) -> None:
        """Release the storage's connections; the limit is not used afterwards."""
        ...


def windows(burst: int, per_minute: int) -> tuple[tuple[int, int], ...]:
    """The moving windows as (messages, seconds), shortest first; see the module docstring."""
    if burst < 1 or per_minute < 1:
        raise ValueError(f"flood limit needs burst >= 1 and per_minute >= 1, not {burst}, {per_minute}")
    burst_seconds = max(1, math.ceil(burst * 60 / per_minute))
    if burst_seconds >= 60:
        return ((burst, burst_seconds),)
    return ((burst, burst_seconds), (per_minute, 60))


class _Windows(Protocol):
    """What FloodGate needs of a moving-window limiter (limits' MovingWindowRateLimiter has it)."""

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool: ...

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None: ...


class MemoryWindows:
    """Moving windows in this process, as limits' MovingWindowRateLimiter counts them: a message counts for
    exactly the window's length after it was let through, and a refused one counts for nothing.

    Per key, the (monotonic) times of the messages let through, oldest first; those older than the window are
    dropped when the key is next hit. Keys with nothing left in their window are dropped in one pass, at most
    once per `sweep_every` seconds, so memory follows the users of the last minute or two.
    """

    def __init__(self, sweep_every: float = 60.0) -> None:
        self._times: dict[str, tuple[int, deque[float]]] = {}  # key -> (window in seconds, times let through)
        self._sweep_every = sweep_every
        self._next_sweep = time.monotonic() + sweep_every

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        key = item.key_for(*identifiers)
        seconds = item.get_expiry()
        found = self._times.get(key)
        if found is None:
            found = self._times[key] = (seconds, deque())
        times = found[1]
        while times and times[0] < now - seconds:
            times.popleft()
        if len(times) + cost > item.amount:
            return False
        times.extend([now] * cost)
        return True

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._times.pop(item.key_for(*identifiers), None)

    def __len__(self) -> int:
        return len(self._times)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_every
        idle = [key for key, (seconds, times) in self._times.items() if not times or times[-1] < now - seconds]
        for key in idle:
            del self._times[key]


class FloodGate:
    """The flood limit on a `limits` storage: in this process ("memory://") or shared in Redis.

    `prefix` namespaces the Redis keys (several bots or environments on one Redis); `timeout` bounds one
    check against a slow Redis before it fails open. `windows` and `where` (the storage, without
    credentials) are for a startup log line.
    """

    def __init__(
        self,
        burst: int,
        per_minute: int,
        storage_uri: str = "memory://",
        *,
        prefix: str = "hocvu:flood",
        timeout: float = 0.5,
    ) -> None:
        self.windows = windows(burst, per_minute)
        self._items: list[RateLimitItem] = [
            RateLimitItemPerSecond(amount, seconds, namespace="msgs") for amount, seconds in self.windows
        ]
        self._warned = RateLimitItemPerSecond(1, min(seconds for _, seconds in self.windows), namespace="warned")
        self._timeout = timeout
        self._limiter, self._close, self.where = _open_limiter(
            storage_uri, prefix, timeout, sweep_every=max(seconds for _, seconds in self.windows)
        )
        self._quiet_until = 0.0  # no warning that the storage is unavailable before this (monotonic) time
        self._unchecked = 0  # messages let through unchecked since the last such warning
        self._reported = False  # a warning said the storage is unavailable, and nothing said it is back

    async def check(self, key: str) -> Verdict:
        try:
            async with asyncio.timeout(self._timeout):
                verdict = await self._check(key)
        except Exception as exc:  # Redis down, slow or confused: never worth losing a message over
            return self._fail_open(key, exc)
        if self._reported:
            self._reported = False
            log.info("flood limit: %s answers again", self.where)
        return verdict

    async def _check(self, key: str) -> Verdict:
        for item in self._items:
            if not await self._limiter.hit(item, key):
                return Verdict.WARN if await self._limiter.hit(self._warned, key) else Verdict.DROP
        return Verdict.PASS

    def _fail_open(self, key: str, exc: Exception) -> Verdict:
        """Let the message through: a conversation matters more than the flood limit. Warn once a minute."""
        self._unchecked += 1
        now = time.monotonic()
        if now >= self._quiet_until:
            cause = exc.storage_error if isinstance(exc, StorageError) else exc
            log.warning(
                "flood limit: %s unavailable (%s: %s); letting messages through unchecked: %d since the last "
                "warning, the latest from %s; the next warning in a minute at the earliest",
                self.where,
                type(cause).__name__,
                str(cause) or f"no answer within {self._timeout} s",
                self._unchecked,
                key,
            )
            self._quiet_until = now + _LOG_EVERY
            self._unchecked = 0
            self._reported = True
        return Verdict.PASS

    async def close(self) -> None:
        await self._close()


def _open_limiter(
    uri: str, prefix: str, timeout: float, *, sweep_every: float
) -> tuple[_Windows, Callable[[], Awaitable[None]], str]:
    """The moving windows for `uri`, a coroutine function closing them, and where they are (no credentials)."""
    plain = uri.removeprefix("async+")
    parts = urlsplit(plain)
    if plain == "memory://":

        async def close_memory() -> None:
            return None

        return MemoryWindows(sweep_every), close_memory, "memory"
    if parts.scheme in _REDIS_SCHEMES:
        import redis.asyncio

        # A pool of our own (the `connection_pool` option of limits' RedisStorage): timeouts that keep a
        # hung Redis from holding messages up, and a pool we can close.
        pool = redis.asyncio.ConnectionPool.from_url(plain, socket_timeout=timeout, socket_connect_timeout=timeout)
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(
            f"async+{plain}", implementation="redispy", key_prefix=prefix, wrap_exceptions=True, **options
        )
        where = f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"
        return MovingWindowRateLimiter(storage), pool.aclose, where
    raise ValueError(f"flood limit storage must be memory://, redis://... or rediss://..., not {parts.scheme or uri!r}")
