"""SQL storage on SQLite and PostgreSQL: migrations, retention, locking and deleting a user's rows.

What the seams promise whatever stores them (state, journal, learning) is in tests/contracts/.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, column, func, inspect, select, table

from bot.certificates import CertificateFacts, make_code
from bot.journal import LoggedTurn
from bot.learning import REVOKED_REPLACED, CertificateLookup, CertificateRecord, HolderName, UserRef
from bot.state import ConversationState
from channels.telegram_store import SqlTelegramStore
from errors import ServiceError
from hocvu.cli import main
from hocvu.config import load_settings
from storage.database import SCHEMA_REVISION, Database, DatabaseUnreachable, alembic_config, sqlite_url
from storage.models import (
    Base,
    CertificateRow,
    ConversationLog,
    ConversationStateRow,
    QuizAnswerRow,
    QuizSessionRow,
    User,
)
from storage.stores import SqlJournal, SqlLearningStore, SqlStateStore, purge_logs, purge_secrets
from tests.conftest import TEST_SECRET_KEY
from tests.support.learning_support import database_url

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ALICE = UserRef("test", "alice", "Alice")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_url(request.param, tmp_path) as url:
        database = Database(url)
        database.upgrade()
        yield database
        database.dispose()


def _count(db: Database, model: type[Base]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


CLOSED_PORT = "postgresql+psycopg://hocvu:db-pass-decoy@127.0.0.1:1/hocvu"  # nobody listens on port 1


def test_an_unreachable_database_is_said_to_be_unreachable_not_out_of_date() -> None:
    db = Database(CLOSED_PORT)
    try:
        with pytest.raises(DatabaseUnreachable) as raised:
            db.is_current()
    finally:
        db.dispose()
    message = str(raised.value)
    assert "unreachable (postgresql+psycopg://hocvu:***@127.0.0.1:1/hocvu)" in message
    assert "refused" in message and "db-pass-decoy" not in message and "up to date" not in message
    assert isinstance(raised.value, ServiceError)  # hocvu prints it and exits 1


@pytest.mark.parametrize(
    "command",
    [
        ["report", "--period", "2026-11"],
        ["kb", "gaps", "--period", "2026-11", "--format", "md"],
        ["cert", "verify"],  # with a code signed by this server's key, so the database is asked
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_hocvu_commands_say_the_database_is_unreachable(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT)
    monkeypatch.setenv("HOCVU_SECRET_KEY", TEST_SECRET_KEY)
    if command[0] == "cert":
        facts = CertificateFacts("vneid", 90, date(2026, 11, 2), 7)
        command = [*command, make_code(facts, load_settings().signing_keys().current)]
    assert main(command) == 1
    said = capsys.readouterr().err
    assert "the database is unreachable (postgresql+psycopg://hocvu:***@127.0.0.1:1/hocvu)" in said
    assert "up to date" not in said and "db-pass-decoy" not in said
    if command[0] == "cert":
        assert "`--offline` checks the signature alone" in said


def test_a_database_without_the_schema_is_not_current(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "empty.db"))
    try:
        assert not db.is_current()
    finally:
        db.dispose()


def test_migrations_create_the_schema_and_are_idempotent(db: Database) -> None:
    assert db.current_revision() == db.head_revision() == SCHEMA_REVISION
    assert db.is_current()
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    db.upgrade()  # a restart runs it again: nothing happens
    assert db.current_revision() == db.head_revision()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_whose_telegram_tables_came_first_upgrades(kind: str, tmp_path: Path) -> None:
    # Before revision 0002 the Telegram channel created its tables on first use, as they were then.
    with database_url(kind, tmp_path) as url:
        database = Database(url)
        database.upgrade("0001")
        then = MetaData()
        processed = Table(
            "telegram_processed_updates",
            then,
            Column("bot_id", BigInteger, primary_key=True),
            Column("update_id", BigInteger, primary_key=True),
            Column("seen_at", DateTime, index=True),
        )
        links = Table(
            "telegram_handover_links",
            then,
            Column("bot_id", BigInteger, primary_key=True),
            Column("message_id", BigInteger, primary_key=True),
            Column("user_id", String(64), index=True),
            Column("created_at", DateTime),
        )
        then.create_all(database.engine)
        with database.write() as connection:
            connection.execute(processed.insert(), {"bot_id": 1, "update_id": 7, "seen_at": datetime(2026, 1, 1)})
            connection.execute(
                links.insert(), {"bot_id": 1, "message_id": 5, "user_id": "111", "created_at": datetime(2026, 1, 1)}
            )
        database.upgrade()
        assert database.current_revision() == SCHEMA_REVISION
        # The card still finds its user, a Telegram user; the inbox (0004) took over from the ledger (0005).
        assert SqlTelegramStore(database, 1).user_for(5) == ("telegram", "111")
        assert "telegram_processed_updates" not in inspect(database.engine).get_table_names()
        database.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrating_to_one_certificate_per_topic_keeps_the_best_and_revokes_the_rest(kind: str, tmp_path: Path) -> None:
    # Before revision 0003 every pass of a final test issued another certificate.
    with database_url(kind, tmp_path) as url:
        database = Database(url)
        database.upgrade("0002")
        # Revision 0002's columns only: the models have more.
        names = ("id", "channel", "external_id", "role", "consent", "created_at", "updated_at")
        users = table("users", *(column(name) for name in names))
        certificates = table(
            "certificates", *(column(n) for n in ("user_id", "code", "topic", "score_percent", "holder", "issued_at"))
        )
        day = datetime(2026, 11, 1)
        issued = [  # (user, code, topic, score), in the order they were issued
            (1, "HV-AAAAAAAA-AAAAAAAA", "vneid", 80),
            (1, "HV-BBBBBBBB-BBBBBBBB", "vneid", 90),  # the best, first among equals: kept
            (1, "HV-CCCCCCCC-CCCCCCCC", "vneid", 90),
            (1, "HV-DDDDDDDD-DDDDDDDD", "online_safety", 85),
            (2, "HV-EEEEEEEE-EEEEEEEE", "vneid", 80),
        ]
        with database.write() as connection:
            for uid in (1, 2):
                connection.execute(
                    users.insert().values(
                        id=uid,
                        channel="test",
                        external_id=f"u{uid}",
                        role="citizen",
                        consent=False,
                        created_at=day,
                        updated_at=day,
                    )
                )
            for uid, code, topic, score in issued:
                connection.execute(
                    certificates.insert().values(
                        user_id=uid, code=code, topic=topic, score_percent=score, holder="Lan", issued_at=day
                    )
                )
        database.upgrade()
        assert database.current_revision() == SCHEMA_REVISION
        store = SqlLearningStore(database)
        kept = {(c.topic, c.code) for c in store.certificates(UserRef("test", "u1"))}
        assert kept == {("vneid", "HV-BBBBBBBB-BBBBBBBB"), ("online_safety", "HV-DDDDDDDD-DDDDDDDD")}
        assert [c.code for c in store.certificates(UserRef("test", "u2"))] == ["HV-EEEEEEEE-EEEEEEEE"]
        for code in ("HV-AAAAAAAA-AAAAAAAA", "HV-CCCCCCCC-CCCCCCCC"):
            assert store.find_certificate(code) == CertificateLookup(code, None, REVOKED_REPLACED)
        assert store.holder_name(UserRef("test", "u1")) == HolderName()  # to be asked before the next final test
        # And back: revision 0002's schema, without what 0003 added.
        config = alembic_config(url)
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert database.current_revision() == "0002"
        assert "revoked_certificates" not in inspect(database.engine).get_table_names()
        assert "certificate_name" not in {c["name"] for c in inspect(database.engine).get_columns("users")}
        database.upgrade()
        assert database.current_revision() == SCHEMA_REVISION
        database.dispose()


def test_the_migrated_schema_is_the_models(db: Database) -> None:
    # Models and migrations are written by hand, together: nothing one has may be missing from the other.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []


def test_hocvu_db_upgrade_works_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["db", "upgrade"]) == 0
    assert f"revision {SCHEMA_REVISION}" in capsys.readouterr().out
    assert Database(f"sqlite:///{tmp_path / 'cli.db'}").current_revision() == SCHEMA_REVISION


def test_the_database_and_the_data_dir_are_private_to_the_service_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)  # made by an older version, before the umask
    data_dir.chmod(0o755)
    config = tmp_path / "config.yml"
    config.write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        assert main(["--config", str(config), "db", "upgrade"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in files), files


def test_hocvu_db_purge_applies_the_retention_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    db = Database(url)
    db.upgrade()
    SqlJournal(db).record(LoggedTurn("test", "alice", "old", "vi", None, None, False, 0.0, 1.0))
    with db.session() as session:
        session.scalars(select(ConversationLog)).one().created_at = datetime(2020, 1, 1)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "purge", "--days", "30"]) == 0
    assert "deleted 1 conversation log rows older than 30 days" in capsys.readouterr().out
    assert _count(db, ConversationLog) == 0


# What the guard before issue 19 let through, as it stored it: its redactions next to the secrets it missed.
OLD_GUARD_LOG = [
    "mk ngân hàng của tôi là abc123",
    "pass fb của em là Hoa1990, cccd [số định danh đã ẩn]",
    "CCCD012345678901",
    "OTP123456 sao không nhận được",
    "mã otp là một hai ba bốn năm sáu",
    "cvv 123",
    "thẻ 4111_1111_1111_1111 bị trừ tiền",
    "<button 1:a:079123456789>",
]
OLD_GUARD_QUESTIONS = ("mật khẩu Hunter2 đúng không", "số 012345678901nhé", "cccd 0123/4567/8901")
SECRETS = ("abc123", "Hoa1990", "012345678901", "123456", "bốn năm sáu", "123", "4111", "079123456789",
           "Hunter2", "4567")  # fmt: skip
CLEAN = ["quên mật khẩu vneid thì làm sao", "cccd [số định danh đã ẩn] cách đăng ký", "<button 1:st:vneid-install:2>"]


def _stored_text(db: Database) -> str:
    with db.session() as session:
        rows = [*session.scalars(select(ConversationLog.redacted_text)), *session.scalars(select(User.display_name))]
        rows += [str(data) for data in session.scalars(select(ConversationStateRow.data))]
        rows += list(session.scalars(select(CertificateRow.holder)))
    return "\n".join(str(row) for row in rows)


def test_purging_secrets_redacts_what_an_older_guard_stored_and_nothing_else(db: Database) -> None:
    journal, states = SqlJournal(db), SqlStateStore(db)
    for text in [*OLD_GUARD_LOG, *CLEAN]:
        journal.record(LoggedTurn("telegram", "alice", text, "vi", None, None, False, 0.0, 1.0))
    states.save("telegram", "alice", ConversationState(lang="vi", last_article="vneid-install",
                                                       recent_questions=(*OLD_GUARD_QUESTIONS, CLEAN[0])))  # fmt: skip
    states.save("telegram", "bob", ConversationState(lang="en", recent_questions=(CLEAN[0],)))
    store = SqlLearningStore(db)
    lan = UserRef("telegram", "lan", "Lan CCCD 079123456789")  # a display name is user text too
    store.start_session(lan, "topic", "vneid", "", ("q1",), "vi", NOW)
    store.add_certificate(lan, CertificateRecord("HV-ABCDEFGH-IJKLMNOP", "vneid", 90, "Lan 079123456789", NOW))
    assert all(secret in _stored_text(db) for secret in SECRETS)

    purged = purge_secrets(db, batch=3)  # batches smaller than the table: every batch is read

    assert (purged.log_rows, purged.states, purged.users, purged.certificates) == (len(OLD_GUARD_LOG), 1, 1, 1)
    stored = _stored_text(db)
    assert not [secret for secret in SECRETS if secret in stored], stored
    with db.session() as session:
        log = list(session.scalars(select(ConversationLog.redacted_text).order_by(ConversationLog.id)))
    assert log[0] == "mk ngân hàng của tôi là [mật khẩu đã ẩn]"
    assert log[-3:] == CLEAN  # text the guard finds nothing in is left as it was
    assert log[7] == "<button 1:a:[số định danh đã ẩn]>"
    alice = states.load("telegram", "alice")
    assert (alice.lang, alice.last_article, alice.recent_questions[-1]) == ("vi", "vneid-install", CLEAN[0])
    assert alice.recent_questions[0] == "mật khẩu [mật khẩu đã ẩn] đúng không"
    assert states.load("telegram", "bob").recent_questions == (CLEAN[0],)
    assert store.certificates(lan)[0].holder == "Lan [số định danh đã ẩn]"

    assert purge_secrets(db).total == 0  # idempotent
    assert _stored_text(db) == stored


def test_hocvu_db_purge_secrets_says_how_many_rows_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    db = Database(url)
    db.upgrade()
    for text in OLD_GUARD_LOG[:3]:
        SqlJournal(db).record(LoggedTurn("test", "alice", text, "vi", None, None, False, 0.0, 1.0))
    SqlStateStore(db).save("test", "alice", ConversationState(recent_questions=OLD_GUARD_QUESTIONS))
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "purge", "--secrets"]) == 0
    out = capsys.readouterr().out
    assert "deleted 0 conversation log rows older than 90 days" in out
    assert "in 4 rows: 3 conversation log rows, 1 conversation states, 0 user names" in out
    assert main(["db", "purge", "--secrets"]) == 0
    assert "in 0 rows" in capsys.readouterr().out
    assert "Hoa1990" not in _stored_text(db) and "Hunter2" not in _stored_text(db)
    db.dispose()


def test_reading_state_does_not_wait_for_a_writer(db: Database) -> None:
    # Every message reads its user's state first; on SQLite a read that queued behind a writer's lock
    # would wait for it (up to the 10 s busy timeout).
    states = SqlStateStore(db)
    states.save("test", "u1", ConversationState(lang="en"))
    writing, done = threading.Event(), threading.Event()

    def long_write() -> None:
        with db.write() as connection:
            connection.execute(User.__table__.update().values(display_name="x"))
            writing.set()
            done.wait(5)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert writing.wait(5)
        started = time.monotonic()
        assert states.load("test", "u1").lang == "en"
        assert time.monotonic() - started < 1.0
    finally:
        done.set()
        writer.join()


def test_the_sql_journal_links_each_turn_to_its_users_row(db: Database) -> None:
    # So that deleting the user deletes their turns; a forgotten user's turns belong to nobody (tests/contracts).
    SqlJournal(db).record(
        LoggedTurn("test", "alice", "số [số định danh đã ẩn]", "vi", "ask_question", None, True, 0.5, 12.0)
    )
    with db.session() as session:
        row = session.scalars(select(ConversationLog)).one()
        assert row.user_id is not None
        assert row.user_id == session.scalar(select(User.id).where(User.external_id == "alice"))


def test_retention_purges_old_conversation_logs(db: Database) -> None:
    SqlJournal(db).record(LoggedTurn("test", "alice", "old", "vi", None, None, False, 0.0, 1.0))
    SqlJournal(db).record(LoggedTurn("test", "alice", "new", "vi", None, None, False, 0.0, 1.0))
    with db.session() as session:
        old = session.scalars(select(ConversationLog).where(ConversationLog.redacted_text == "old")).one()
        old.created_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=91)
    assert purge_logs(db, 90).log_rows == 1
    with db.session() as session:
        assert session.scalars(select(ConversationLog.redacted_text)).all() == ["new"]


def test_retention_also_drops_the_recent_questions_saved_in_the_state_of_users_gone_quiet(db: Database) -> None:
    states = SqlStateStore(db)
    states.save("test", "gone", ConversationState(lang="vi", recent_questions=("số tk của tôi bị khóa",)))
    states.save("test", "active", ConversationState(lang="en", recent_questions=("how do I pay by QR",)))
    with db.session() as session:
        gone = session.scalars(select(User).where(User.external_id == "gone")).one()
        row = session.get(ConversationStateRow, gone.id)
        assert row is not None
        row.updated_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=91)
    assert purge_logs(db, 90).states_trimmed == 1
    assert states.load("test", "gone") == ConversationState(lang="vi")  # language kept, questions gone
    assert states.load("test", "active").recent_questions == ("how do I pay by QR",)


def test_a_long_running_journal_applies_retention_by_itself(db: Database) -> None:
    SqlJournal(db).record(LoggedTurn("test", "alice", "old", "vi", None, None, False, 0.0, 1.0))
    with db.session() as session:
        session.scalars(select(ConversationLog)).one().created_at = datetime(2020, 1, 1)
    SqlJournal(db, retention_days=30).record(LoggedTurn("test", "alice", "new", "vi", None, None, False, 0.0, 1.0))
    with db.session() as session:
        assert session.scalars(select(ConversationLog.redacted_text)).all() == ["new"]


def test_deleting_a_user_removes_every_row_about_them(db: Database) -> None:
    store, bob = SqlLearningStore(db), UserRef("test", "bob")
    for user in (ALICE, bob):
        SqlStateStore(db).save(user.channel, user.user_id, ConversationState(lang="vi"))
        SqlJournal(db).record(LoggedTurn(user.channel, user.user_id, "hi", "vi", "greet", None, False, 0.0, 1.0))
        session = store.start_session(user, "topic", "vneid", "", ("q1",), "vi", NOW)
        store.record_answer(user, session.id, 0, "q1", 0, False, NOW)
        store.lesson_done(user, "lesson-vneid-01", 3, 3, NOW)
        assert store.lessons_done(user) == {"lesson-vneid-01"}
        store.record_feedback(user, "vneid-install", True, NOW)
        store.add_certificate(user, CertificateRecord(f"HV-{user.user_id.upper():A<8}-AAAAAAAA", "vneid", 90, "x", NOW))
    assert store.delete_user(ALICE) is True
    assert store.delete_user(ALICE) is False
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            if "user_id" in table.c:
                owners = set(session.execute(select(table.c.user_id)).scalars())
                assert owners <= {session.scalar(select(User.id).where(User.external_id == "bob"))}, table.name
        assert session.scalars(select(User.external_id)).all() == ["bob"]
    assert _count(db, QuizAnswerRow) == 1 and _count(db, QuizSessionRow) == 1


def test_step_mode_state_survives_a_restart(db: Database) -> None:
    """The walk-through, the procedures paused under a side question and the "not understood" count are kept."""
    state = ConversationState(
        lang="vi",
        step_article="vneid-install",
        step_index=3,
        paused=("vneid-register-level2:4", "vneid-forgot-passcode:0"),
        unclear=1,
        follow_up="vneid-install",
        on_step=True,
    )
    SqlStateStore(db).save("test", "grandmother", state)
    loaded = SqlStateStore(db).load("test", "grandmother")
    assert loaded == state
    assert loaded.paused_steps() == [("vneid-register-level2", 4), ("vneid-forgot-passcode", 0)]
