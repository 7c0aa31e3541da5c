"""The real services some tests need: PostgreSQL, Redis and the Rasa environment.

Run by hand, a test whose service is missing is skipped, with the reason in pytest's summary. Under CI
(`CI=true`) and in `make test` (`HOCVU_REQUIRE_SERVICES=1`) it fails instead, naming the service and
how to start it: a suite that skipped its only concurrency tests must not pass.
"""

from __future__ import annotations

import os
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
