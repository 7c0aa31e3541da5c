"""A durable inbox for the events platforms send us (Telegram updates, Zalo messages), on SQL or Redis.

A webhook `put`s each event here before it answers 200 to the platform, processes it in the background,
and calls `done` only after the event's replies were sent. What that guarantees, and why:

- Processing is at-least-once: no event is lost once the platform was told it arrived. The event is
  stored before the answer, and stays pending until `done`. A fresh event is leased to the worker that
  put it; a worker that dies lets its lease run out (`lease` seconds, 30 by default), and then
  `claim_stale` hands the event to whichever worker asks: this one after a restart, or another. The
  price is that a worker that dies after sending the replies but before `done` has them sent again by
  the next one, and that a worker stalled beyond its lease without renewing it processes an event
  alongside its claimer. Hence the lease: short enough that a dead worker's events are picked up soon,
  renewed (every lease/3) by a live worker for as long as it is still working on them.
- De-duplication of deliveries is exactly-once: of any number of `put`s of one key, by any number of
  workers at the same moment, exactly one returns True, and every later one returns False for `keep`
  after the event was done (2 days by default: Telegram retries an undelivered update for 24 hours).
  So a webhook retry, or the platform redelivering after a restart, is never processed a second time.
  When `put` itself fails (a timeout after the write landed, say), the webhook answers an error, the
  platform delivers again, that delivery is a duplicate, and the stored event is claimed once its lease
  ran out: still processed.
- `claim_stale` gives each stale event to one claimer (two workers claiming at once never get the same
  one), oldest first, so a user's messages come back in the order they came, and counts `attempts`, so
  the runner can give up on an event that keeps killing its workers (by logging it and calling `done`).

Leases are measured with the backend's clock where it has one that every worker shares: Redis's (its TIME
command). On SQL they are the workers' clocks, in naive UTC like the rest of the schema, which must agree
to well within a lease (NTP does). Every call is one short transaction or Lua script: the inbox is
synchronous, and the runner calls it in a thread pool.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import Base, InboxEntry

KEEP = timedelta(days=2)  # Telegram retries an update it could not deliver for 24 hours
LEASE = 30.0
SOURCE_LENGTH = 64  # the columns' sizes (storage/models.py); Redis keeps to them too, so backends agree
KEY_LENGTH = 128
PRUNE_EVERY = 1000  # puts between two prunes, besides one at the first put (a process may not live long)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxItem:
    key: str  # the platform's id of the event (a Telegram update_id as a string, a Zalo msg_id)
    payload: str  # the event as received (JSON text)
    attempts: int  # how many times it was claimed after its first lease ran out (0 when fresh)


class Inbox(Protocol):
    def put(self, key: str, payload: str) -> bool:
        """Store an event before the platform is told it arrived; True when new (and then leased to the caller
        for `lease` seconds), False when the key was seen before (within `keep`), done or not: a duplicate."""
        ...

    def done(self, keys: Collection[str]) -> None:
        """Processed: the payloads are dropped, the keys kept for de-duplication for `keep`. Several at once,
        in one transaction or script: the runner marks the events finished within a few milliseconds together."""
        ...

    def renew(self, keys: Collection[str]) -> None:
        """Extend the lease of items this worker is still processing (called every lease/3)."""
        ...

    def claim_stale(self, limit: int = 100) -> list[InboxItem]:
        """Items not done whose lease ran out (their worker died), oldest first, leased anew to the caller with
        attempts+1. Two workers claiming at once never get the same item."""
        ...

    def pending(self) -> int:
        """Items not done (a metric: the queue depth)."""
        ...

    def prune(self, older_than: timedelta | None = None) -> int:
        """Forget done keys older than `older_than` (by default `keep`); never a pending item. Returns how many
        were removed. `put` calls it now and then: nobody else needs to."""
        ...

    def ping(self) -> None:
        """Raise when the backend is unreachable (readiness checks)."""
        ...


def _checked(value: str, what: str, longest: int) -> str:
    # PostgreSQL would refuse a longer value and SQLite would store it: refuse it everywhere alike.
    if not value or len(value) > longest:
        raise ValueError(f"an inbox {what} must have 1 to {longest} characters: {value[:200]!r}")
    return value


def _chunks(keys: Collection[str], size: int = 500) -> Iterator[list[str]]:
    if isinstance(keys, str):  # a str is a Collection[str] too: one key would become one key per character
        raise TypeError(f"expected a collection of keys, got the string {keys[:200]!r}")
    it = iter(keys)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


_INBOX = Base.metadata.tables[InboxEntry.__tablename__]
_C = _INBOX.c


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere in the database


class SqlInbox:
    """The inbox in the `inbox` table: SQLite for one process, PostgreSQL for several workers.

    A pending row holds the payload and a lease (locked_until); a done row only its key and done_at, and
    locked_until NULL, so the lease index claim_stale scans holds pending rows only.
    """

    def __init__(self, db: Database, source: str, *, lease: float = LEASE, keep: timedelta = KEEP) -> None:
        self.db = db
        self.source = _checked(source, "source", SOURCE_LENGTH)
        self.lease = timedelta(seconds=lease)
        self.keep = keep
        self._puts = itertools.count(1)  # next() on it is atomic: callers share the inbox across threads

    def put(self, key: str, payload: str) -> bool:
        now = _now()
        try:
            with self.db.write() as connection:  # every message: a Core statement, no ORM session
                connection.execute(
                    _INBOX.insert(),
                    {
                        "source": self.source,
                        "key": _checked(key, "key", KEY_LENGTH),
                        "payload": payload,
                        "received_at": now,
                        "locked_until": now + self.lease,
                        "attempts": 0,
                    },
                )
        except IntegrityError:  # the primary key (source, key) is there already, done or not
            return False
        if next(self._puts) % PRUNE_EVERY == 1:
            _prune_quietly(self)
        return True

    def done(self, keys: Collection[str]) -> None:
        chunks = list(_chunks(keys))
        if not chunks:
            return
        now = _now()
        with self.db.write() as connection:
            for chunk in chunks:
                connection.execute(
                    _INBOX.update()
                    .where(_C.source == self.source, _C.key.in_(chunk), _C.done_at.is_(None))
                    .values(payload=None, locked_until=None, done_at=now)
                )

    def renew(self, keys: Collection[str]) -> None:
        if not keys:
            return
        until = _now() + self.lease
        with self.db.write() as connection:
            for chunk in _chunks(keys):  # bounded statements, whatever the number of items in flight
                connection.execute(
                    _INBOX.update()
                    .where(_C.source == self.source, _C.key.in_(chunk), _C.done_at.is_(None))
                    .values(locked_until=until)
                )

    def claim_stale(self, limit: int = 100) -> list[InboxItem]:
        if limit <= 0:
            return []
        now = _now()
        with self.db.write() as connection:
            # SKIP LOCKED: on PostgreSQL a second claimer passes over the rows the first is taking instead of
            # waiting for them, and its re-check of a row the first has just leased finds it no longer stale.
            # SQLite ignores it: a write transaction there holds the database's only write lock.
            rows = connection.execute(
                select(_C.key, _C.payload, _C.attempts)
                .where(_C.source == self.source, _C.done_at.is_(None), _C.locked_until < now)
                .order_by(_C.received_at, _C.key)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            connection.execute(
                _INBOX.update()
                .where(_C.source == self.source, _C.key.in_([row.key for row in rows]))
                .values(locked_until=now + self.lease, attempts=_C.attempts + 1)
            )
        return [InboxItem(row.key, row.payload, row.attempts + 1) for row in rows]

    def pending(self) -> int:
        with self.db.read() as connection:
            count = connection.scalar(
                select(func.count()).select_from(_INBOX).where(_C.source == self.source, _C.done_at.is_(None))
            )
        return int(count or 0)

    def prune(self, older_than: timedelta | None = None) -> int:
        cutoff = _now() - (self.keep if older_than is None else older_than)
        with self.db.write() as connection:
            result = connection.execute(
                _INBOX.delete().where(_C.source == self.source, _C.done_at < cutoff)  # NULL (pending) is never <
            )
        return int(result.rowcount or 0)

    def ping(self) -> None:
        with self.db.read() as connection:  # the table, not just the server: a database never migrated is not ready
            connection.execute(select(_C.key).limit(0))


def _prune_quietly(inbox: SqlInbox | RedisInbox) -> None:
    # put has stored its event by now: a failed clean-up must not turn that into an error (the platform would
    # deliver again), and the next prune removes what this one did not.
    try:
        removed = inbox.prune()
    except Exception:
        log.warning("pruning the %s inbox failed", inbox.source, exc_info=True)
    else:
        log.debug("pruned %d done keys from the %s inbox", removed, inbox.source)


# -- Redis ---------------------------------------------------------------------------------------------
# Per source, five keys sharing one hash tag ({source}), so a Redis Cluster keeps them on one node, as a
# script touching several keys needs:
#   payloads  hash  key -> payload                 pending items; HLEN is the queue depth
#   leases    zset  key -> lease deadline (us)     pending items; ZRANGEBYSCORE finds the stale ones
#   received  hash  key -> arrival time (us)       pending items; orders what claim_stale returns
#   attempts  hash  key -> times claimed           pending items claimed at least once
#   done      zset  key -> time done (us)          done keys, for de-duplication until pruned
# Every change is one Lua script, so it is atomic: Redis runs one script at a time. Times come from the
# server's clock (TIME), the one clock every worker shares; microseconds are exact in Lua's doubles, and
# are formatted with %.0f, since Lua's own number-to-string conversion keeps only 14 digits.

_LUA_NOW = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function us(n) return string.format('%.0f', n) end
"""

# KEYS: payloads, leases, received, done. ARGV: key, payload, lease (us). 1 when stored, 0 for a duplicate.
_PUT = (
    _LUA_NOW
    + """
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 or redis.call('zscore', KEYS[4], ARGV[1]) then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[2], us(now + tonumber(ARGV[3])), ARGV[1])
redis.call('hset', KEYS[3], ARGV[1], us(now))
return 1
"""
)

# KEYS: payloads, leases, received, attempts, done. ARGV: keep (ms), then the keys. Returns how many were pending.
_DONE = (
    _LUA_NOW
    + """
local finished = 0
for i = 2, #ARGV do
  local key = ARGV[i]
  if redis.call('hdel', KEYS[1], key) == 1 then
    redis.call('zrem', KEYS[2], key)
    redis.call('hdel', KEYS[3], key)
    redis.call('hdel', KEYS[4], key)
    redis.call('zadd', KEYS[5], us(now), key)
    finished = finished + 1
  end
end
-- When nothing more is done for `keep`, every done key is older than that: the whole set may go, so a
-- source no longer used leaves nothing behind, pruned or not.
if finished > 0 then redis.call('pexpire', KEYS[5], ARGV[1]) end
return finished
"""
)

# KEYS: leases. ARGV: lease (us), then the keys. XX: a key done meanwhile is not leased again.
_RENEW = (
    _LUA_NOW
    + """
local deadline = us(now + tonumber(ARGV[1]))
for i = 2, #ARGV do redis.call('zadd', KEYS[1], 'XX', deadline, ARGV[i]) end
return 0
"""
)

# KEYS: payloads, leases, received, attempts. ARGV: limit, lease (us), how many stale items to order at most.
# Returns key, payload, attempts, key, payload, attempts... The stale items are found by their deadline, then
# put in order of arrival: a dead worker's items have deadlines renewed together, not in that order.
_CLAIM = (
    _LUA_NOW
    + """
local stale = redis.call('zrangebyscore', KEYS[2], '-inf', '(' .. us(now), 'LIMIT', 0, tonumber(ARGV[3]))
local items = {}
for i, key in ipairs(stale) do
  items[i] = {key, tonumber(redis.call('hget', KEYS[3], key)) or 0}
end
table.sort(items, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local deadline = us(now + tonumber(ARGV[2]))
local out = {}
for i = 1, math.min(#items, tonumber(ARGV[1])) do
  local key = items[i][1]
  local payload = redis.call('hget', KEYS[1], key)
  if payload then
    redis.call('zadd', KEYS[2], deadline, key)
    out[#out + 1] = key
    out[#out + 1] = payload
    out[#out + 1] = redis.call('hincrby', KEYS[4], key, 1)
  else  -- a lease without an item (never written so by these scripts): drop it rather than return nothing
    redis.call('zrem', KEYS[2], key)
  end
end
return out
"""
)

# KEYS: done. ARGV: older than (us). Returns how many keys were forgotten.
_PRUNE = (
    _LUA_NOW
    + """
return redis.call('zremrangebyscore', KEYS[1], '-inf', '(' .. us(now - tonumber(ARGV[1])))
"""
)


def _us(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1_000_000)


class RedisInbox:
    """The inbox in Redis, shared by any number of workers.

    Durable as far as Redis is: with its default snapshots a Redis crash loses the last minutes of events;
    `appendonly yes` with `appendfsync everysec` bounds that to a second. Needs Redis 5 or later, whose
    scripts may write after reading the clock.
    """

    SCAN = 5000  # stale items ordered per claim at most: a script blocks Redis while it runs

    def __init__(self, url: str, source: str, *, lease: float = LEASE, keep: timedelta = KEEP) -> None:
        import redis

        self.source = _checked(source, "source", SOURCE_LENGTH)
        self.lease = timedelta(seconds=lease)
        self.keep = keep
        # Short timeouts: put runs before the platform gets its answer, and a readiness check must not hang.
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, decode_responses=True)
        prefix = f"hocvu:inbox:{{{source}}}:"
        self._payloads, self._leases, self._received, self._attempts, self._done = (
            prefix + name for name in ("payloads", "leases", "received", "attempts", "done")
        )
        self._put = self._redis.register_script(_PUT)
        self._done_script = self._redis.register_script(_DONE)
        self._renew = self._redis.register_script(_RENEW)
        self._claim = self._redis.register_script(_CLAIM)
        self._prune = self._redis.register_script(_PRUNE)
        self._puts = itertools.count(1)

    def put(self, key: str, payload: str) -> bool:
        stored = self._put(
            keys=[self._payloads, self._leases, self._received, self._done],
            args=[_checked(key, "key", KEY_LENGTH), payload, _us(self.lease)],
        )
        if not stored:
            return False
        if next(self._puts) % PRUNE_EVERY == 1:
            _prune_quietly(self)
        return True

    def done(self, keys: Collection[str]) -> None:
        keep_ms = max(1, _us(self.keep) // 1000)
        for chunk in _chunks(keys):  # a script blocks Redis while it runs: keep each short
            self._done_script(
                keys=[self._payloads, self._leases, self._received, self._attempts, self._done],
                args=[keep_ms, *chunk],
            )

    def renew(self, keys: Collection[str]) -> None:
        for chunk in _chunks(keys):  # a script blocks Redis while it runs: keep each short
            self._renew(keys=[self._leases], args=[_us(self.lease), *chunk])

    def claim_stale(self, limit: int = 100) -> list[InboxItem]:
        if limit <= 0:
            return []
        flat: Sequence[Any] = self._claim(
            keys=[self._payloads, self._leases, self._received, self._attempts],
            args=[limit, _us(self.lease), max(limit, self.SCAN)],
        )
        return [InboxItem(str(flat[i]), str(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)]

    def pending(self) -> int:
        return int(self._redis.hlen(self._payloads))

    def prune(self, older_than: timedelta | None = None) -> int:
        age = self.keep if older_than is None else older_than
        return int(self._prune(keys=[self._done], args=[_us(age)]))

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()
