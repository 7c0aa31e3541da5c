"""The SQL ledger's pruning, which keeps the table small without forgetting updates Telegram may resend.

What every ledger promises (SQL and Redis) is in tests/contracts/test_update_ledger.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.telegram_store import LEDGER_TTL, SqlTelegramStore
from storage.models import ProcessedUpdate
from tests.support.learning_support import migrated_database


def _bot_id() -> int:
    return int(time.time() * 1_000_000)  # a key space of its own per test, in this run and later ones


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTelegramStore]:
    with migrated_database(request.param, tmp_path) as db:
        yield SqlTelegramStore(db, _bot_id())


def _claimed_at(store: SqlTelegramStore, update_id: int, when: datetime) -> None:
    with store.db.session() as session:
        session.add(ProcessedUpdate(bot_id=store.bot_id, update_id=update_id, seen_at=when))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_prune_forgets_only_updates_telegram_can_no_longer_resend(sql_store: SqlTelegramStore) -> None:
    _claimed_at(sql_store, 1, _now() - LEDGER_TTL - timedelta(hours=1))
    _claimed_at(sql_store, 2, _now() - LEDGER_TTL + timedelta(hours=1))
    assert sql_store.first_time(3)
    assert sql_store.prune() == 1
    assert not sql_store.first_time(2) and not sql_store.first_time(3), "recent updates must stay claimed"
    assert sql_store.first_time(1)  # forgotten: its row was pruned


def test_claiming_prunes_the_ledger_now_and_then(sql_store: SqlTelegramStore) -> None:
    sql_store.PRUNE_EVERY = 3
    _claimed_at(sql_store, 100, _now() - LEDGER_TTL - timedelta(days=1))
    assert all(sql_store.first_time(update_id) for update_id in (101, 102))
    assert not sql_store.first_time(100)  # not pruned yet
    assert sql_store.first_time(103)  # the third claim prunes
    assert sql_store.first_time(100)
    assert not any(sql_store.first_time(update_id) for update_id in (101, 102, 103))
