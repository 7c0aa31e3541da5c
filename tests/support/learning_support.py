"""Helpers for the learning and storage tests: databases on SQLite and PostgreSQL, and apps on them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from channels.telegram_store import SqlTelegramStore
from hocvu.app import App, build_app
from hocvu.config import DatabaseSettings, Settings
from storage.database import Database
from tests.support.fakes import FakeEmbedder
from tests.support.services import require_postgres


@contextmanager
def scratch_schema(server: str, prefix: str = "t") -> Iterator[str]:
    """A database URL on `server` whose tables live in a fresh schema, dropped afterwards."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the tests' PostgreSQL, so tests never share rows (skipped or failed when it is down)."""
    with scratch_schema(require_postgres()) as url:
        yield url


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'hocvu.db'}"
    else:
        with postgres_schema() as url:
            yield url


@contextmanager
def migrated_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A database of `kind` ("sqlite" or "postgresql") with the schema at head, of its own, disposed afterwards."""
    with database_url(kind, tmp_path) as url:
        database = Database(url)
        database.upgrade(quiet=True)
        try:
            yield database
        finally:
            database.dispose()


@contextmanager
def telegram_stores(kind: str, tmp_path: Path) -> Iterator[Callable[[int], SqlTelegramStore]]:
    """Opens a worker's SqlTelegramStore for a bot id, each on its own connection to one shared database:
    what several workers see."""
    with ExitStack() as stack:
        db = stack.enter_context(migrated_database(kind, tmp_path))

        def open_store(bot_id: int) -> SqlTelegramStore:
            worker = Database(db.url)
            stack.callback(worker.dispose)
            return SqlTelegramStore(worker, bot_id)

        yield open_store


def learning_app(settings: Settings, data_dir: Path, url: str) -> App:
    """The product on the given database, with the fast FakeEmbedder (retrieval quality is not the subject)."""
    configured = dataclasses.replace(settings, data_dir=data_dir, database=DatabaseSettings(url=url), secrets={})
    return build_app(configured, embedder=FakeEmbedder())


def open_app(settings: Settings, data_dir: Path, url: str, *, migrate: bool = True) -> App:
    if migrate and not url.startswith("sqlite"):
        db = Database(url)
        db.upgrade()
        db.dispose()
    return learning_app(settings, data_dir, url)
