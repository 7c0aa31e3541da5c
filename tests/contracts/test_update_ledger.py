"""The UpdateLedger contract: an update is claimed exactly once, whichever worker asks, also when workers ask
at the same moment; on SQL (SQLite, PostgreSQL) and on Redis, each worker with a ledger of its own.

The SQL ledger's pruning is tested beside it, in tests/test_telegram_store.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from channels.telegram_store import RedisUpdateLedger, SqlTelegramStore, UpdateLedger
from storage.database import Database
from tests.support.learning_support import migrated_database
from tests.support.services import require_redis

OpenLedger = Callable[[int], UpdateLedger]  # a new worker's ledger for a bot id, on the shared backend


def _bot_id() -> int:
    return int(time.time() * 1_000_000)  # a key space of its own per test, in this run and later ones


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def open_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenLedger]:
    if request.param == "redis":
        url = require_redis()
        yield lambda bot_id: RedisUpdateLedger(url, bot_id)
        return
    with ExitStack() as stack:
        db = stack.enter_context(migrated_database(request.param, tmp_path))

        def open_sql(bot_id: int) -> UpdateLedger:
            worker = Database(db.url)  # a connection pool of its own, like another process
            stack.callback(worker.dispose)
            return SqlTelegramStore(worker, bot_id)

        yield open_sql


def test_each_update_is_claimed_once_whichever_worker_asks(open_ledger: OpenLedger) -> None:
    bot_id = _bot_id()
    first, second = open_ledger(bot_id), open_ledger(bot_id)
    assert first.first_time(1)
    assert not second.first_time(1) and not first.first_time(1)
    assert second.first_time(2) and not first.first_time(2)


def test_a_claim_is_remembered_after_a_restart(open_ledger: OpenLedger) -> None:
    bot_id = _bot_id()
    assert open_ledger(bot_id).first_time(912_345_678)  # update ids run into the billions
    assert not open_ledger(bot_id).first_time(912_345_678)
    assert open_ledger(bot_id).first_time(912_345_679)


def test_workers_claiming_one_update_at_the_same_moment_get_it_once(open_ledger: OpenLedger) -> None:
    bot_id = _bot_id()
    workers = [open_ledger(bot_id) for _ in range(4)]
    barrier = threading.Barrier(len(workers), timeout=30)

    def claim(ledger: UpdateLedger) -> bool:
        barrier.wait()  # all ask together, as after a webhook retry delivered to every worker
        return ledger.first_time(7)

    with ThreadPoolExecutor(len(workers)) as pool:
        claims = list(pool.map(claim, workers))
    assert claims.count(True) == 1, claims


def test_bots_sharing_a_backend_do_not_share_claims(open_ledger: OpenLedger) -> None:
    bot_id = _bot_id()
    assert open_ledger(bot_id).first_time(1)
    other_bot = open_ledger(bot_id + 1)  # update ids are per bot: both bots see an update 1
    assert other_bot.first_time(1) and not other_bot.first_time(1)
