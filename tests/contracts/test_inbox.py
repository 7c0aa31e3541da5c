"""The Inbox contract, on SQLite, PostgreSQL and Redis: every worker with an inbox of its own on one backend.

An event delivered twice is accepted once, also when workers get it at the same moment; an event not done is
claimed again once its lease ran out, by one worker at a time, oldest first; done keys are forgotten only
when old. Leases here are short (SHORT) where the test waits for one to run out, and long (LONG) where one
must not run out during the test, so no assertion depends on how fast the machine is.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from channels import inbox as inbox_module
from channels.inbox import KEEP, KEY_LENGTH, Inbox, InboxItem, RedisInbox, SqlInbox
from storage.database import Database
from storage.models import InboxEntry
from tests.support.learning_support import migrated_database
from tests.support.services import require_redis

SHORT = 0.3  # seconds: a lease the test waits out
LONG = 60.0  # seconds: a lease that outlives the test
WITHIN = 15.0  # seconds to wait for something that takes SHORT, on a busy machine


@dataclass
class Backend:
    """One shared backend; every `open` is a new worker's inbox on it, as another process would have."""

    open_inbox: Callable[[str, float, timedelta], Inbox]
    stored_payload: Callable[[str, str], str | None]  # what is at rest for an item, read past the inbox

    def open(self, source: str, *, lease: float = LONG, keep: timedelta = KEEP) -> Inbox:
        return self.open_inbox(source, lease, keep)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with ExitStack() as stack:
        if request.param == "redis":
            yield stack.enter_context(_RedisBackend())
            return
        db = stack.enter_context(migrated_database(request.param, tmp_path))

        def open_sql(source: str, lease: float, keep: timedelta) -> Inbox:
            worker = Database(db.url)  # a connection pool of its own, like another process
            stack.callback(worker.dispose)
            return SqlInbox(worker, source, lease=lease, keep=keep)

        def stored_sql(source: str, key: str) -> str | None:
            with db.read() as connection:
                return connection.scalar(
                    select(InboxEntry.payload).where(InboxEntry.source == source, InboxEntry.key == key)
                )

        yield Backend(open_sql, stored_sql)


class _RedisBackend:
    """Redis is shared with other runs: the sources a test used are deleted afterwards."""

    def __enter__(self) -> Backend:
        import redis

        self.url = require_redis()
        self.client = redis.Redis.from_url(self.url, socket_timeout=5.0, decode_responses=True)
        self.inboxes: list[RedisInbox] = []
        return Backend(self.open, self.stored)

    def open(self, source: str, lease: float, keep: timedelta) -> Inbox:
        inbox = RedisInbox(self.url, source, lease=lease, keep=keep)
        self.inboxes.append(inbox)
        return inbox

    def stored(self, source: str, key: str) -> str | None:
        value = self.client.hget(f"hocvu:inbox:{{{source}}}:payloads", key)
        return None if value is None else str(value)

    def __exit__(self, *_exc: object) -> None:
        for source in {inbox.source for inbox in self.inboxes}:
            keys = list(self.client.scan_iter(match=f"hocvu:inbox:{{{source}}}:*"))
            if keys:
                self.client.delete(*keys)
        for inbox in self.inboxes:
            inbox.close()
        self.client.close()


def _source() -> str:
    return f"test:{time.time_ns()}"  # a key space of its own per test, in this run and later ones


def _claim_until(inbox: Inbox, count: int, *, limit: int = 100) -> list[InboxItem]:
    """Claims until `count` items came, as leases run out, in the order they came."""
    claimed: list[InboxItem] = []
    deadline = time.monotonic() + WITHIN
    while len(claimed) < count:
        assert time.monotonic() < deadline, f"{len(claimed)} of {count} items claimed in {WITHIN} s: {claimed}"
        batch = inbox.claim_stale(limit)
        claimed += batch
        if not batch:
            time.sleep(0.02)
    return claimed


def test_a_second_delivery_is_a_duplicate_done_or_not(backend: Backend) -> None:
    source = _source()
    first, second = backend.open(source), backend.open(source)
    assert first.put("912345678", '{"update_id": 912345678}')
    assert not first.put("912345678", '{"update_id": 912345678}')
    assert not second.put("912345678", "{}")  # another worker, while the first is still processing it
    first.done(["912345678"])
    assert not first.put("912345678", "{}") and not second.put("912345678", "{}")
    assert backend.open(source).put("912345679", "{}")  # after a restart, a new event is still new


def test_a_fresh_item_is_not_claimable_while_its_lease_runs(backend: Backend) -> None:
    source = _source()
    assert backend.open(source, lease=LONG).put("1", "{}")
    assert backend.open(source).claim_stale() == []
    assert backend.open(source).pending() == 1


def test_a_stale_item_goes_to_one_claimer(backend: Backend) -> None:
    source = _source()
    assert backend.open(source, lease=SHORT).put("1", '{"text": "chào"}')  # and its worker dies
    claimer, other = backend.open(source, lease=LONG), backend.open(source, lease=LONG)
    assert _claim_until(claimer, 1) == [InboxItem("1", '{"text": "chào"}', 1)]
    assert other.claim_stale() == [] and claimer.claim_stale() == []
    assert other.pending() == 1


def test_an_item_is_claimed_again_each_time_its_lease_runs_out_counting_attempts(backend: Backend) -> None:
    source = _source()
    assert backend.open(source, lease=SHORT).put("1", "{}")
    claimers = [backend.open(source, lease=SHORT) for _ in range(2)]  # each dies in turn
    assert [item.attempts for item in _claim_until(claimers[0], 1)] == [1]
    assert [item.attempts for item in _claim_until(claimers[1], 1)] == [2]
    assert [item.attempts for item in _claim_until(claimers[0], 1)] == [3]


def test_a_done_item_is_never_claimed(backend: Backend) -> None:
    source = _source()
    worker = backend.open(source, lease=SHORT)
    assert worker.put("done", "{}") and worker.put("dies", "{}")
    worker.done(["done"])
    backend.open(source, lease=LONG).renew(["done"])  # a late renewal does not bring it back
    # Once the other item, put with the same lease, is stale, the done one would be too.
    assert [item.key for item in _claim_until(backend.open(source), 1)] == ["dies"]
    assert backend.open(source).claim_stale() == []


def test_renewing_keeps_an_item_from_being_claimed(backend: Backend) -> None:
    source = _source()
    worker = backend.open(source, lease=SHORT)
    assert worker.put("renewed", "{}") and worker.put("dies", "{}")
    backend.open(source, lease=LONG).renew(["renewed", "unknown"])  # the worker, now renewing for a minute
    # The other item, put after it with the same lease, runs out first: without the renewal both would.
    claimer = backend.open(source)
    assert [item.key for item in _claim_until(claimer, 1)] == ["dies"]
    assert claimer.claim_stale() == []
    assert claimer.pending() == 2  # renewing an unknown key stored nothing


def test_one_event_put_by_eight_workers_at_once_is_new_once(backend: Backend) -> None:
    source = _source()
    workers = [backend.open(source) for _ in range(8)]
    barrier = threading.Barrier(len(workers), timeout=30)

    def put(inbox: Inbox) -> bool:
        barrier.wait()  # all at the same moment, as a webhook retry reaching every worker
        return inbox.put("7", "{}")

    with ThreadPoolExecutor(len(workers)) as pool:
        stored = list(pool.map(put, workers))
    assert stored.count(True) == 1, stored
    assert workers[0].pending() == 1


def test_two_workers_claiming_at_once_share_the_stale_items_without_overlap(backend: Backend) -> None:
    source = _source()
    dead = backend.open(source, lease=SHORT)
    keys = [f"k{n}" for n in range(50)]
    for key in keys:
        assert dead.put(key, f'{{"n": "{key}"}}')
    time.sleep(2 * SHORT)  # let the leases run out, so both start on many stale items (correct without it too)
    claimers = [backend.open(source, lease=LONG) for _ in range(2)]
    barrier = threading.Barrier(len(claimers), timeout=30)
    total = [0]
    lock = threading.Lock()

    def claim(inbox: Inbox) -> list[InboxItem]:
        barrier.wait()
        mine: list[InboxItem] = []
        deadline = time.monotonic() + WITHIN
        while time.monotonic() < deadline:
            with lock:
                if total[0] >= len(keys):
                    break
            batch = inbox.claim_stale(limit=5)
            mine += batch
            with lock:
                total[0] += len(batch)
        return mine

    with ThreadPoolExecutor(len(claimers)) as pool:
        first, second = pool.map(claim, claimers)
    assert not {item.key for item in first} & {item.key for item in second}
    claimed = first + second
    assert sorted(item.key for item in claimed) == sorted(keys)
    assert all(item.attempts == 1 and item.payload == f'{{"n": "{item.key}"}}' for item in claimed)


def test_items_not_done_survive_a_restart_and_come_oldest_first(backend: Backend) -> None:
    source = _source()
    before = backend.open(source, lease=SHORT)
    order = ["c", "a", "10", "9", "b"]  # neither alphabetical nor numerical: the order they arrived in
    for key in order:
        assert before.put(key, f"payload {key}")
    before.done(["10"])
    before.renew(["c"])  # its lease now runs out last, but it is still the oldest
    del before  # the process is killed: the next one starts with an inbox of its own
    time.sleep(2 * SHORT)  # every lease above was set before this: all have run out after it
    after = backend.open(source)
    assert after.pending() == 4
    assert after.claim_stale(limit=2) == [InboxItem(key, f"payload {key}", 1) for key in ["c", "a"]]
    assert after.claim_stale(limit=2) == [InboxItem(key, f"payload {key}", 1) for key in ["9", "b"]]
    assert after.claim_stale() == []
    assert not after.put("a", "again")  # still a duplicate


def test_pruning_forgets_old_done_keys_but_never_a_pending_item(backend: Backend) -> None:
    source = _source()
    inbox = backend.open(source)
    assert inbox.put("done", "{}") and inbox.put("pending", "{}")
    inbox.done(["done"])
    assert inbox.prune() == 0  # nothing is older than `keep` (two days)
    assert not inbox.put("done", "{}")
    time.sleep(0.01)  # so the key was done before now, on the backend's clock too
    assert inbox.prune(older_than=timedelta(0)) == 1
    assert inbox.put("done", "{}")  # forgotten: new again
    assert not inbox.put("pending", "{}")  # older than that too, but pending
    assert inbox.pending() == 2


def test_done_keys_are_forgotten_after_keep_without_anyone_calling_prune(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "PRUNE_EVERY", 2)  # puts prune: the first, the third...
    inbox = backend.open(_source(), keep=timedelta(milliseconds=1))
    assert inbox.put("done", "{}")
    inbox.done(["done"])
    time.sleep(0.01)
    assert inbox.put("pending", "{}") and inbox.put("pending too", "{}")
    assert inbox.put("done", "{}")  # forgotten: new again
    assert not inbox.put("pending", "{}") and not inbox.put("pending too", "{}")
    assert inbox.pending() == 3


def test_pending_counts_the_items_not_done(backend: Backend) -> None:
    source = _source()
    inbox = backend.open(source, lease=SHORT)
    assert inbox.pending() == 0
    for key in ("1", "2", "3"):
        assert inbox.put(key, "{}")
    assert not inbox.put("1", "{}")
    assert inbox.pending() == 3
    assert len(_claim_until(backend.open(source), 3)) == 3
    assert inbox.pending() == 3  # claimed is still pending
    inbox.done(["2"])
    inbox.done(["2"])
    inbox.done(["never put"])
    assert inbox.pending() == 2


def test_many_keys_are_done_at_once_and_only_those(backend: Backend) -> None:
    source = _source()
    inbox = backend.open(source)
    keys = [f"k{i}" for i in range(1203)]  # more than one statement's or script's worth
    for key in keys:
        assert inbox.put(key, "{}")
    inbox.done([*keys[:1200], "never put", keys[0]])
    assert inbox.pending() == 3
    assert all(not inbox.put(key, "{}") for key in keys)  # done keys are still duplicates
    inbox.done([])
    assert inbox.pending() == 3
    with pytest.raises(TypeError):
        inbox.done("k1200")  # a string is a Collection[str]: it would be one key per character
    assert inbox.pending() == 3


def test_two_sources_never_collide(backend: Backend) -> None:
    telegram, zalo = _source(), _source() + ":zalo"
    ours, theirs = backend.open(telegram, lease=SHORT), backend.open(zalo, lease=SHORT)
    assert ours.put("42", "ours") and theirs.put("42", "theirs")
    ours.done(["42"])
    assert not theirs.put("42", "again")
    assert ours.pending() == 0 and theirs.pending() == 1
    assert _claim_until(backend.open(zalo), 1) == [InboxItem("42", "theirs", 1)]
    assert backend.open(telegram).claim_stale() == []
    assert ours.prune(older_than=timedelta(-1)) == 1  # everything done of ours...
    assert not theirs.put("42", "again") and theirs.pending() == 1  # ...and none of theirs


def test_a_large_vietnamese_payload_round_trips_exactly_and_is_dropped_when_done(backend: Backend) -> None:
    source = _source()
    text = 'Tôi muốn học tiếng Việt: ắ ằ ẳ ẵ ặ ơ ư đ Đ 😀 "quoted" \\ \n\t\u2028 \x01 '
    decomposed = unicodedata.normalize("NFD", text)  # stored as sent, never normalised
    payload = '{"message": {"text": "' + (text + decomposed) * 800 + '"}}'
    assert len(payload.encode()) > 100_000
    worker = backend.open(source, lease=SHORT)
    assert worker.put("big", payload)
    (item,) = _claim_until(backend.open(source), 1)
    assert item.payload == payload
    assert backend.stored_payload(source, "big") == payload
    worker.done(["big"])
    assert backend.stored_payload(source, "big") is None  # a user's message is not kept once answered
    assert not worker.put("big", payload)


@pytest.mark.parametrize("key", ["", "x" * (KEY_LENGTH + 1)])
def test_a_key_no_backend_can_store_is_refused(backend: Backend, key: str) -> None:
    inbox = backend.open(_source())
    with pytest.raises(ValueError):
        inbox.put(key, "{}")
    assert inbox.put("x" * KEY_LENGTH, "{}")
