"""People on SQLite and PostgreSQL: profiles by code, roles with their audit, subscriptions with consent, deletion;
and the pure parts: matching place names, regions, quiet hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import regions
from bot.learning import UserRef
from bot.people import (
    ADMIN,
    CITIZEN,
    ENDED_STOP_WORD,
    VOLUNTEER,
    PeopleError,
    Profile,
    QuietHours,
    Region,
    Role,
    may_reach,
    next_allowed_send,
    parse_region,
    parse_user_key,
)
from storage.database import Database
from storage.models import RoleChangeRow, Subscription, User
from storage.people_store import SqlPeopleStore
from storage.stores import SqlLearningStore
from tests.support.learning_support import migrated_database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LAN = UserRef("telegram", "1001", "Lan")
HANOI = 1
HOAN_KIEM = next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Hoàn Kiếm")


# -- place names ----------------------------------------------------------------------------------


def test_the_2025_units_are_34_provinces_and_about_3300_communes_with_no_district() -> None:
    assert len(regions.provinces()) == 34
    total = sum(len(regions.communes_of(p.code)) for p in regions.provinces())
    assert 3200 < total < 3400
    assert not any(
        c.name.startswith(("Quận ", "Huyện ")) for p in regions.provinces() for c in regions.communes_of(p.code)
    )


@pytest.mark.parametrize(
    "typed",
    ["Hà Nội", "ha noi", "HA NOI", "tp ha noi", "Thành phố Hà Nội", "thanh pho ha noi", "hanoi", "ha noii", "hn"],
)
def test_a_province_is_found_however_it_is_typed(typed: str) -> None:
    assert [p.code for p in regions.find_provinces(typed)][:1] == [HANOI]


@pytest.mark.parametrize("typed", ["Hoàn Kiếm", "hoan kiem", "phuong hoan kiem", "P. Hoàn Kiếm", "hoan kiemm"])
def test_a_commune_is_found_however_it_is_typed(typed: str) -> None:
    assert [c.code for c in regions.find_communes(typed, HANOI)][:1] == [HOAN_KIEM]


def test_names_that_exist_nowhere_find_nothing_and_huge_input_is_cheap() -> None:
    assert regions.find_provinces("xyzzy") == []
    assert regions.find_communes("xa khong co that", HANOI) == []
    assert regions.find_communes("a" * 5000, HANOI) == []
    assert len(regions.find_communes("an", HANOI)) <= regions.MAX_CHOICES


def test_a_region_names_an_unknown_commune_clearly() -> None:
    with pytest.raises(PeopleError, match="no commune or ward is named 'Khong Co That'"):
        parse_region(None, ["Khong Co That"])
    with pytest.raises(PeopleError, match="Hà Nội has no commune or ward named 'Zzz Qqq'"):
        parse_region(None, ["Zzz Qqq, Ha Noi"])
    with pytest.raises(PeopleError, match="several"):
        parse_region(None, ["Tan Lap"])  # in several provinces
    with pytest.raises(PeopleError, match="no province"):
        parse_region("Atlantis", [])
    assert parse_region(None, ["Hoan Kiem, Ha Noi"]) == Region(commune_codes=(HOAN_KIEM,))
    assert parse_region("nghe an", []).province_code == regions.find_provinces("Nghệ An")[0].code


def test_user_keys_name_a_channel() -> None:
    assert parse_user_key("telegram:123") == ("telegram", "123")
    for bad in ("123", "facebook:1", "telegram:", "telegram:1 2"):
        with pytest.raises(PeopleError, match="not a user key"):
            parse_user_key(bad)


# -- may this volunteer reach this user -------------------------------------------------------------


def test_a_volunteer_reaches_only_users_of_their_region() -> None:
    other = next(c.code for c in regions.communes_of(HANOI) if c.code != HOAN_KIEM)
    in_commune = Profile(HANOI, HOAN_KIEM)
    elsewhere_in_hanoi = Profile(HANOI, other)
    nowhere = Profile()
    by_commune = Role("telegram:9", VOLUNTEER, Region(commune_codes=(HOAN_KIEM,)), "cli:op", NOW)
    by_province = Role("telegram:9", VOLUNTEER, Region(province_code=HANOI), "cli:op", NOW)
    admin = Role("telegram:1", ADMIN, None, "config", NOW)
    assert may_reach(by_commune, in_commune) and not may_reach(by_commune, elsewhere_in_hanoi)
    assert may_reach(by_province, elsewhere_in_hanoi) and not may_reach(by_province, Profile(2, None))
    assert not may_reach(by_province, nowhere) and not may_reach(by_commune, nowhere)
    assert may_reach(admin, nowhere)
    assert not may_reach(None, in_commune)
    assert not may_reach(Role("telegram:9", VOLUNTEER, None, "x", NOW), in_commune)


# -- quiet hours ------------------------------------------------------------------------------------

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-12-07 08:00", "2026-12-07 08:00"),  # daytime: now
        ("2026-12-07 20:59", "2026-12-07 20:59"),
        ("2026-12-07 21:00", "2026-12-08 07:00"),  # evening: tomorrow morning
        ("2026-12-07 23:30", "2026-12-08 07:00"),
        ("2026-12-08 00:10", "2026-12-08 07:00"),  # after midnight: this morning
        ("2026-12-08 06:59", "2026-12-08 07:00"),
        ("2026-12-08 07:00", "2026-12-08 07:00"),
    ],
)
def test_quiet_hours_hold_a_delivery_until_morning_in_viet_nam(local: str, expected: str) -> None:
    now = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=VN).astimezone(UTC)
    allowed = next_allowed_send(now, QuietHours())
    assert allowed.tzinfo is not None and allowed.astimezone(VN).strftime("%Y-%m-%d %H:%M") == expected


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = QuietHours(time(12, 0), time(13, 30))
    noon = datetime(2026, 12, 7, 12, 15, tzinfo=VN)
    assert next_allowed_send(noon, lunch) == datetime(2026, 12, 7, 13, 30, tzinfo=VN)
    assert next_allowed_send(noon + timedelta(hours=2), lunch) == noon + timedelta(hours=2)
    assert next_allowed_send(noon, QuietHours(time(0, 0), time(0, 0))) == noon
    with pytest.raises(ValueError):
        next_allowed_send(datetime(2026, 12, 7, 12, 0), lunch)


# -- the store ------------------------------------------------------------------------------------


def test_a_profile_is_stored_by_code_with_its_names(db: Database) -> None:
    store = SqlPeopleStore(db)
    assert store.profile(LAN) == Profile()
    store.save_profile(LAN, Profile(HANOI, HOAN_KIEM, "60p", offered=True))
    assert store.profile(LAN) == Profile(HANOI, HOAN_KIEM, "60p", True)
    with db.session() as session:
        row = session.scalars(select(User).where(User.external_id == LAN.user_id)).one()
        assert (row.province_code, row.commune_code, row.province, row.commune) == (
            HANOI,
            HOAN_KIEM,
            "Thành phố Hà Nội",
            "Phường Hoàn Kiếm",
        )
    store.save_profile(LAN, Profile(offered=True))  # cleared, still offered
    assert store.profile(LAN) == Profile(offered=True)


def test_role_changes_are_recorded_with_who_and_when(db: Database) -> None:
    store = SqlPeopleStore(db)
    region = Region(commune_codes=(HOAN_KIEM,))
    assert store.set_role("zalo_oa:77", VOLUNTEER, region, "telegram:1", NOW) is None
    assert store.role("zalo_oa:77") == Role("zalo_oa:77", VOLUNTEER, region, "telegram:1", NOW)
    before = store.set_role("zalo_oa:77", CITIZEN, None, "cli:root", NOW + timedelta(hours=1))
    assert before is not None and before.role == VOLUNTEER
    assert store.role("zalo_oa:77") is None and store.roles() == []
    changes = store.role_changes("zalo_oa:77")
    assert [(c.before, c.after, c.changed_by, c.changed_at) for c in changes] == [
        (CITIZEN, VOLUNTEER, "telegram:1", NOW),
        (VOLUNTEER, CITIZEN, "cli:root", NOW + timedelta(hours=1)),
    ]
    assert changes[0].region == region


def test_subscriptions_keep_consent_and_how_they_ended(db: Database) -> None:
    store = SqlPeopleStore(db)
    assert store.subscribe(LAN, "vneid", NOW)
    assert not store.subscribe(LAN, "vneid", NOW + timedelta(minutes=1))  # already: consent time unchanged
    assert store.subscribe(LAN, "online_safety", NOW)
    assert [(s.topic, s.consented_at) for s in store.subscriptions(LAN)] == [("vneid", NOW), ("online_safety", NOW)]
    assert store.unsubscribe(LAN, None, ENDED_STOP_WORD, NOW) == ["vneid", "online_safety"]
    assert store.subscriptions(LAN) == [] and store.unsubscribe(LAN, None, ENDED_STOP_WORD, NOW) == []
    later = NOW + timedelta(days=1)
    assert store.subscribe(LAN, "vneid", later)  # opting in again is a new consent
    assert [(s.topic, s.consented_at) for s in store.subscriptions(LAN)] == [("vneid", later)]
    with db.session() as session:
        ended = session.scalars(select(Subscription).where(Subscription.topic == "online_safety")).one()
        assert (ended.active, ended.ended_by) == (False, ENDED_STOP_WORD)


def test_deleting_a_user_deletes_where_they_live_and_their_subscriptions(db: Database) -> None:
    store = SqlPeopleStore(db)
    store.save_profile(LAN, Profile(HANOI, HOAN_KIEM, "60p", offered=True))
    store.subscribe(LAN, "vneid", NOW)
    assert SqlLearningStore(db).delete_user(LAN)
    assert store.profile(LAN) == Profile() and store.subscriptions(LAN) == []
    with db.session() as session:
        assert session.scalar(select(User.id).where(User.commune_code == HOAN_KIEM)) is None
        assert session.scalar(select(Subscription.id)) is None
        assert session.scalar(select(RoleChangeRow.id)) is None


# -- `hocvu users ...` ------------------------------------------------------------------------------


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A config file with one admin, and the database of this test (SQLite, or PostgreSQL migrated first)."""
    config = tmp_path / "config.yml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\npeople:\n  admins: [telegram:1]\n", encoding="utf-8")
    monkeypatch.setenv("HOCVU_CONFIG", str(config))
    yield config


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_hocvu_users_promote_demote_and_list_record_who_did_it(
    kind: str, operator: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hocvu.cli import main

    with migrated_database(kind, tmp_path) as db:
        monkeypatch.setenv("DATABASE_URL", db.url)
        assert (
            main(["users", "promote", "zalo_oa:55", "--commune", "Hoan Kiem, Ha Noi", "--commune", "ba dinh, ha noi"])
            == 0
        )
        out = capsys.readouterr().out
        assert out.startswith("zalo_oa:55: citizen -> volunteer for Phường Hoàn Kiếm (Hà Nội), Phường Ba Đình (Hà Nội)")
        assert "recorded as cli:" in out
        assert main(["users", "promote", "telegram:7", "--province", "nghe an"]) == 0
        assert main(["users", "promote", "telegram:8", "--admin"]) == 0
        assert main(["users", "demote", "telegram:7"]) == 0
        capsys.readouterr()
        assert main(["users", "list", "--changes"]) == 0
        listed = capsys.readouterr().out
        assert "telegram:1\tadmin\t(people.admins in config.yml)" in listed
        assert "zalo_oa:55\tvolunteer\tPhường Hoàn Kiếm (Hà Nội), Phường Ba Đình (Hà Nội)\tcli:" in listed
        assert "telegram:8\tadmin" in listed and "telegram:7\t" not in listed
        assert "telegram:7 citizen -> volunteer (Nghệ An)" in listed and "telegram:7 volunteer -> citizen" in listed
        store = SqlPeopleStore(db)
        assert len(store.role_changes()) == 4
        assert all(c.changed_by.startswith("cli:") for c in store.role_changes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["users", "promote", "zalo_oa:55", "--commune", "Khong Co That, Ha Noi"],
            "Hà Nội has no commune or ward named 'Khong Co That'",
        ),
        (["users", "promote", "zalo_oa:55", "--commune", "Tan Lap"], "several"),
        (["users", "promote", "zalo_oa:55", "--commune", ", Ha Noi"], "a commune name is empty"),
        (["users", "promote", "zalo_oa:55", "--province", "Atlantis"], "no province is named 'Atlantis'"),
        (["users", "promote", "facebook:1", "--admin"], "'facebook:1' is not a user key"),
        (["users", "demote", "12345"], "'12345' is not a user key"),
    ],
)
def test_hocvu_users_names_what_is_wrong_and_changes_nothing(
    args: list[str],
    message: str,
    operator: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hocvu.cli import main

    with migrated_database("sqlite", tmp_path) as db:
        monkeypatch.setenv("DATABASE_URL", db.url)
        assert main(args) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"hocvu users {args[1]}: ") and message in error, error
        assert SqlPeopleStore(db).role_changes() == []


def test_bad_people_settings_are_named(tmp_path: Path) -> None:
    from errors import ConfigError
    from hocvu.config import load_settings

    config = tmp_path / "config.yml"
    config.write_text(
        "people:\n  admins: [telegram123]\n  quiet_hours_start: '9pm'\n  timezone: Mars/Olympus\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    text = str(raised.value)
    assert "'people.admins' has 'telegram123' is not a user key" in text
    assert "'people.quiet_hours_start' '9pm' is not a time of day like 21:00" in text
    assert "'people.timezone' is 'Mars/Olympus'" in text


def test_a_double_tap_on_subscribe_stores_one_consent(db: Database) -> None:
    import threading

    stores = [SqlPeopleStore(Database(db.url)) for _ in range(4)]
    SqlPeopleStore(db).save_profile(LAN, Profile(offered=True))  # the user's row exists, as after any message
    barrier, results = threading.Barrier(len(stores)), []

    def tap(store: SqlPeopleStore) -> None:
        barrier.wait()
        results.append(store.subscribe(LAN, "vneid", NOW))

    threads = [threading.Thread(target=tap, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.db.dispose()
    assert sorted(results) == [False, False, False, True]
    assert [s.topic for s in SqlPeopleStore(db).subscriptions(LAN)] == ["vneid"]


def test_the_audience_is_subscribers_of_the_topics_in_the_region_only(db: Database) -> None:
    store = SqlPeopleStore(db)
    ba_dinh = next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Ba Đình")
    people = {
        "in": (Profile(HANOI, HOAN_KIEM), ("vneid",)),
        "other-topic": (Profile(HANOI, HOAN_KIEM), ("online_safety",)),
        "other-commune": (Profile(HANOI, ba_dinh), ("vneid",)),
        "no-place": (Profile(), ("vneid",)),
        "stopped": (Profile(HANOI, HOAN_KIEM), ("vneid",)),
    }
    for name, (profile, topics) in people.items():
        user = UserRef("zalo_bot", name)
        store.save_profile(user, profile)
        for topic in topics:
            store.subscribe(user, topic, NOW)
    store.unsubscribe(UserRef("zalo_bot", "stopped"), None, ENDED_STOP_WORD, NOW)

    def ids(topics: tuple[str, ...], region: Region | None) -> list[str]:
        return [u.user_id for u in store.audience(topics, region)]

    assert ids(("vneid",), Region(commune_codes=(HOAN_KIEM,))) == ["in"]
    assert ids(("vneid",), Region(province_code=HANOI)) == ["in", "other-commune"]
    assert ids(("vneid", "online_safety"), Region(commune_codes=(HOAN_KIEM, ba_dinh))) == [
        "in",
        "other-commune",
        "other-topic",
    ]
    assert ids(("vneid",), None) == ["in", "no-place", "other-commune"]  # an admin's: everyone subscribed
    assert ids(("vneid",), Region(province_code=2)) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0008_keeps_users_and_subscriptions_and_goes_back(kind: str, tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from storage.database import alembic_config
    from tests.support.learning_support import database_url

    with database_url(kind, tmp_path) as url:
        database = Database(url)
        database.upgrade("0007")
        with database.write() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, channel, external_id, role, consent, created_at, updated_at, "
                    "certificate_name_answered, province) VALUES (1, 'telegram', '42', 'citizen', false, "
                    ":now, :now, false, 'Ha Noi')"
                ),
                {"now": datetime(2026, 1, 1)},
            )
            connection.execute(
                text("INSERT INTO subscriptions (user_id, topic, active, created_at) VALUES (1, 'vneid', true, :now)"),
                {"now": datetime(2026, 1, 1)},
            )
        database.upgrade()
        store = SqlPeopleStore(database)
        old = UserRef("telegram", "42")
        assert store.profile(old) == Profile()  # a name without a code is not a place: asked again
        # A row from before consent was stored is not an opt-in: nobody is written to without one.
        assert store.subscriptions(old) == [] and store.audience(("vneid",), None) == []
        assert store.subscribe(old, "vneid", NOW)  # choosing it now is one, stamped now
        assert [(s.topic, s.consented_at) for s in store.subscriptions(old)] == [("vneid", NOW)]
        command.downgrade(alembic_config(database.url), "0007")
        tables = inspect(database.engine).get_table_names()
        assert "roles" not in tables and "role_changes" not in tables
        assert "province_code" not in {c["name"] for c in inspect(database.engine).get_columns("users")}
        database.dispose()
