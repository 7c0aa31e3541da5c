"""Engine, sessions and migrations.

SQLite (the embedded default) gets WAL mode, a busy timeout and enforced foreign keys on every
connection, so the chat, a CLI command and a test can share one file without "database is locked".
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from errors import ServiceError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration. Checked with one query at start-up, so an up-to-date database never pays for
# importing Alembic; a test keeps it equal to the migrations' head.
SCHEMA_REVISION = "0012"
BUSY_TIMEOUT_MS = 10_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class DatabaseUnreachable(ServiceError):
    """The database cannot be connected to (the server down, a wrong host or port, credentials refused, a SQLite
    file that cannot be opened); the message names its URL without the password."""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transactions out of the driver's hands so _on_sqlite_begin decides how they start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed transaction
    cursor.close()


READ_ONLY = "hocvu_read_only"  # an execution option: this transaction only reads


def _on_sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and writes later
    # fails at once with SQLITE_BUSY_SNAPSHOT when another writer committed in between (WAL mode), instead
    # of waiting: with IMMEDIATE, concurrent writers queue on the busy timeout. A transaction that only
    # reads needs no lock in WAL mode, so it must not queue behind writers.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(self.engine, "connect", _on_sqlite_connect)
            event.listen(self.engine, "begin", _on_sqlite_begin)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here and start the moment the
        # previous one commits; left to SQLite, they would poll its lock with sleeps of 1 to 100 ms.
        # Other processes (a CLI command) still meet the busy timeout.
        self._writer = threading.RLock() if self.is_sqlite else contextlib.nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self._writer, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction on a Core connection, for the statements every message runs: without the ORM's
        unit of work they cost a fraction of a session's CPU. Committed when the block ends."""
        with self._writer, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads; on SQLite it takes no write lock."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    def upgrade(self, revision: str = "head", *, quiet: bool = False) -> None:
        """Bring the schema to `revision` with Alembic, from any working directory."""
        from alembic import command

        if quiet:  # Alembic logs every plugin at INFO: noise in a chat terminal on first start
            logging.getLogger("alembic").setLevel(logging.WARNING)

        with self.engine.begin() as connection:
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config(self.url)).get_current_head()

    def is_current(self) -> bool:
        """Whether the schema is at SCHEMA_REVISION, without importing Alembic; DatabaseUnreachable when the
        database cannot be connected to, which no migration would fix."""
        try:
            connection = self.engine.connect()
        except DBAPIError as exc:
            raise DatabaseUnreachable(f"the database is unreachable ({self.safe_url}): {_reason(exc)}") from exc
        with connection:
            try:
                return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == SCHEMA_REVISION
            except DBAPIError:  # no alembic_version table yet
                return False

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _reason(exc: DBAPIError) -> str:
    """The driver's own words, first line (without SQLAlchemy's SQL echo and link to its docs)."""
    words = str(exc.orig).strip().splitlines()
    return words[0] if words else type(exc.orig).__name__


def alembic_config(url: str) -> Any:
    """An Alembic config built in code, so no alembic.ini or working directory is needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
