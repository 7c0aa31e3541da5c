"""The real services some tests need: PostgreSQL, Redis and the Rasa environment.

Run by hand, a test whose service is missing is skipped, with the reason in pytest's summary. Under CI
(`CI=true`) and in `make test` (`HOCVU_REQUIRE_SERVICES=1`) it fails instead, naming the service and
how to start it: a suite that skipped its only concurrency tests must not pass.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

POSTGRES_URL = os.environ.get("HOCVU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOCVU_TEST_REDIS", "redis://127.0.0.1:6379/0")

_TRUE = {"1", "true", "yes", "on"}


def required() -> bool:
    """Whether a missing service fails the test run instead of skipping its tests."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("CI", "HOCVU_REQUIRE_SERVICES"))


def missing(service: str, reason: str, how: str) -> NoReturn:
    """Skip, or fail under CI, because `service` is not there."""
    message = f"{service} is required but unavailable: {reason}. {how}"
    if required():
        pytest.fail(f"{message} (CI=true or HOCVU_REQUIRE_SERVICES=1: missing services fail the run)", pytrace=False)
    pytest.skip(message)


def postgres_reason() -> str | None:
    """Why PostgreSQL cannot be used at POSTGRES_URL, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=2).close()
    except Exception as exc:
        return f"not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


def require_postgres() -> str:
    """The PostgreSQL server URL for tests, or skip/fail saying why it cannot be used."""
    reason = postgres_reason()
    if reason:
        missing("PostgreSQL", reason, "Start it, or point HOCVU_TEST_POSTGRES at one.")
    return POSTGRES_URL


def require_redis() -> str:
    """The Redis URL for tests, or skip/fail saying why it cannot be used."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        missing("Redis", f"not reachable at {REDIS_URL}: {exc}", "Start it, or point HOCVU_TEST_REDIS at one.")
    return REDIS_URL


LEASE = 60.0  # seconds a claim on a Redis database outlives a test run that died without letting it go


@contextmanager
def own_redis_db(numbers: tuple[int, ...], *, wait: float = 900.0) -> Iterator[str]:
    """The URL of a Redis database of the caller's own while the block runs, emptied first: the first of
    `numbers` that no other test run holds (two runs on one Redis would otherwise count each other's keys, or
    one would empty the other's database mid-test); when every one is held, it waits for one.

    For code whose keys cannot be given a prefix of the test's (`hocvu serve`'s inbox, flood limit and turns). A
    claim is a key in REDIS_URL's database, renewed while the block runs, so a killed run frees its database
    after LEASE seconds.
    """
    import redis

    base = require_redis()
    claims = redis.Redis.from_url(base)
    me = f"{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait
    while (
        number := next((n for n in numbers if claims.set(_claim(n), me, nx=True, px=int(LEASE * 1000))), None)
    ) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"no Redis database among {numbers} came free within {wait:.0f} s (other test runs hold them)")
        time.sleep(0.5)
    # Renewed, and finally let go, only while it is still this run's (not taken over after a lapse).
    renew_if_mine = claims.register_script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
    )
    delete_if_mine = claims.register_script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
    )
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LEASE / 3):
            renew_if_mine(keys=[_claim(number)], args=[me, int(LEASE * 1000)])

    renewing = threading.Thread(target=renew, name=f"redis-db-{number}-claim", daemon=True)
    renewing.start()
    url = f"{base.rsplit('/', 1)[0]}/{number}"
    try:
        redis.Redis.from_url(url).flushdb()
        yield url
    finally:
        done.set()
        renewing.join()
        delete_if_mine(keys=[_claim(number)], args=[me])
        claims.close()


def _claim(number: int) -> str:
    return f"hocvu-test:redis-db:{number}"
