"""/stats as volunteers and admins live it in the chat: their region's figures for this month and this quarter,
equal to what plain Python counts in generated rows, with the chart as an image; citizens told politely."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import insert

from bot import regions
from bot.people import VOLUNTEER, Region
from bot.reports import DEFAULT_SKILLS
from hocvu.app import App
from hocvu.config import PeopleSettings, Settings
from storage.models import CertificateRow, ConversationLog, User
from tests.conftest import Chat
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import FakeTelegram
from tests.support.learning_support import database_url, open_app
from tests.support.serving import serving

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HANOI = 1
HOAN_KIEM = next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Hoàn Kiếm")
BA_DINH = next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Ba Đình")
ELSEWHERE = next(c.code for c in regions.communes_of(HANOI) if c.code not in (HOAN_KIEM, BA_DINH))
ADMIN, VOLUNTEER_ID = "1", "2"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=VN)  # this month: December; this quarter: Q4


def utc(text: str) -> datetime:
    """A naive UTC moment from a Viet Nam local time, as the database stores it."""
    return datetime.fromisoformat(text).replace(tzinfo=VN).astimezone(UTC).replace(tzinfo=None)


# (id, commune, created, age band, topics certified and when, [(when, answered?)] questions)
PEOPLE: list[tuple[int, int, str, str | None, list[tuple[str, str]], list[tuple[str, bool]]]] = [
    (101, HOAN_KIEM, "2026-12-02 09:00", "60p", [(t, "2026-12-03 10:00") for t in DEFAULT_SKILLS], [
        ("2026-12-03 08:00", True), ("2026-12-04 08:00", True), ("2026-12-05 08:00", True),
        ("2026-12-05 09:00", False),
    ]),
    (102, HOAN_KIEM, "2026-11-10 09:00", "u40", [(t, "2026-11-20 10:00") for t in DEFAULT_SKILLS], [
        ("2026-11-11 08:00", True),
    ]),
    (103, BA_DINH, "2026-10-05 09:00", "60p", [("vneid", "2026-10-06 10:00"), ("online_safety", "2026-12-01 00:30")], []),
    (104, BA_DINH, "2026-12-05 23:30", None, [], [("2026-12-06 08:00", False), ("2026-12-06 09:00", False)]),
    # Outside the volunteer's communes: never in their figures.
    (105, ELSEWHERE, "2026-12-01 09:00", "60p", [(t, "2026-12-02 10:00") for t in DEFAULT_SKILLS], [
        ("2026-12-02 08:00", True),
    ]),
]  # fmt: skip


def insert_rows(app: App) -> None:
    users: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    for uid, commune, created, age, certified, asked in PEOPLE:
        users.append(
            {
                "id": uid,
                "channel": "telegram",
                "external_id": str(9000 + uid),
                "role": "citizen",
                "consent": False,
                "created_at": utc(created),
                "updated_at": utc(created),
                "province_code": HANOI,
                "commune_code": commune,
                "age_band": age,
                "certificate_name_answered": False,
            }
        )
        for topic, when in certified:
            number = len(certificates) + 1
            certificates.append(
                {
                    "id": number,
                    "user_id": uid,
                    "code": f"HV-T{number:07d}",
                    "topic": topic,
                    "score_percent": 90,
                    "issued_at": utc(when),
                }
            )
        for when, answered in asked:
            log.append(
                {
                    "user_id": uid,
                    "channel": "telegram",
                    "created_at": utc(when),
                    "redacted_text": "cach dang ky vneid" if answered else "gia vang hom nay",
                    "lang": "vi",
                    "intent": "ask_question" if answered else None,
                    "article_id": "vneid-register" if answered else None,
                    "fallback": not answered,
                    "score": 0.5,
                    "latency_ms": 3.0,
                    "warnings": "",
                }
            )
    assert app.database is not None
    with app.database.write() as connection:
        connection.execute(insert(User), users)
        connection.execute(insert(CertificateRow), certificates)
        connection.execute(insert(ConversationLog), log)


def expected(start: str, end: str, before: str) -> dict[str, Any]:
    """The figures of the volunteer's communes for [start, end), and for [before, start), by plain Python."""

    def local(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=VN)

    def figures(lo: datetime, hi: datetime) -> dict[str, int]:
        mine = [p for p in PEOPLE if p[1] in (HOAN_KIEM, BA_DINH)]
        there = [p for p in mine if local(p[2]) < hi]
        skilled = [p for p in there if {t for t, when in p[4] if local(when) < hi} >= set(DEFAULT_SKILLS)]
        questions = [q for p in mine for q in p[5] if lo <= local(q[0]) < hi]
        return {
            "registered": len(there),
            "active": sum(any(lo <= local(q[0]) < hi for q in p[5]) for p in mine),
            "answered": sum(answered for _, answered in questions),
            "dont_know": sum(not answered for _, answered in questions),
            "skilled": len(skilled),
            "elderly": sum(p[3] == "60p" for p in there),
            "skilled_elderly": sum(p[3] == "60p" for p in skilled),
            "certificates": sum(lo <= local(when) < hi for p in mine for _, when in p[4]),
        }

    now, then = figures(local(start), local(end)), figures(local(before), local(start))
    return {"now": now, "then": then}


def change(now: int, before: int) -> str:
    return f"{now - before:+d}" if now != before else "±0"


def share(part: int, whole: int) -> str:
    return "–" if not whole else f"{100 * part / whole:.1f}%".replace(".", ",")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stats-chat-data")


@pytest.fixture
def app(settings: Settings, data_dir: Path, tmp_path: Path) -> Iterator[App]:
    configured = dataclasses.replace(settings, people=PeopleSettings(admins=(f"telegram:{ADMIN}",)))
    with database_url("sqlite", tmp_path) as url:
        built = open_app(configured, data_dir, url)
        assert built.assistant.people is not None and built.assistant.stats is not None
        built.assistant.people.store.set_role(
            f"telegram:{VOLUNTEER_ID}", VOLUNTEER, Region(commune_codes=(HOAN_KIEM, BA_DINH)), "test", NOW
        )
        built.assistant.stats.clock = lambda: NOW
        insert_rows(built)
        yield built
        assert built.database is not None
        built.database.dispose()


def test_a_volunteer_sees_their_communes_figures_for_the_month_and_quarter_with_the_chart(app: App) -> None:
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    response = volunteer.say("/stats")
    text = response.plain_text()
    assert "Phường Hoàn Kiếm" in text and "tháng 12/2026" in text and "quý 4/2026" in text
    for heading, (start, end, before) in {
        "tháng 12/2026": ("2026-12-01", "2027-01-01", "2026-11-01"),
        "quý 4/2026": ("2026-10-01", "2027-01-01", "2026-07-01"),
    }.items():
        part = text.split(heading, 1)[1].split("\n\n", 1)[0]
        figures = expected(start, end, before)
        now, then = figures["now"], figures["then"]
        assert f"Người dùng: {now['registered']} ({change(now['registered'], then['registered'])})" in part
        assert f"hoạt động: {now['active']} ({change(now['active'], then['active'])})" in part
        assert f"Câu hỏi trả lời được: {now['answered']}; chưa trả lời được: {now['dont_know']}" in part
        assert share(now["answered"], now["answered"] + now["dont_know"]) in part
        assert f"Có kỹ năng số cơ bản: {now['skilled']} người, {share(now['skilled'], now['registered'])}" in part
        elderly = f"{now['skilled_elderly']}/{now['elderly']} ({share(now['skilled_elderly'], now['elderly'])})"
        assert f"Người cao tuổi có kỹ năng số: {elderly}" in part
        certificates = f"{now['certificates']} ({change(now['certificates'], then['certificates'])})"
        assert f"Chứng chỉ cấp: {certificates}" in part
    # The known answers, so that the test cannot pass on two equal mistakes.
    assert "Người dùng: 4 (+2)" in text and "Có kỹ năng số cơ bản: 2 người, 50,0%" in text
    [image] = [r.image_png for r in response.replies if r.image_png is not None]
    picture = Image.open(io.BytesIO(image))
    assert picture.format == "PNG" and picture.size == (1200, 800)


def test_the_words_work_typed_without_diacritics_and_in_english(app: App) -> None:
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    for said in ("thống kê tháng này", "thong ke", "tỷ lệ kỹ năng số", "ty le ky nang so"):
        assert "Người dùng: 4 (+2)" in volunteer.say(said).plain_text(), said
    volunteer.say("/lang")
    volunteer.press("English")
    assert "Users: 4 (+2)" in volunteer.say("/stats").plain_text()


def test_an_admin_sees_the_country_or_a_province_named(app: App) -> None:
    admin = Chat(app, ADMIN, "telegram")
    assert "Cả nước" in admin.say("/stats").plain_text()
    # Hà Nội: the volunteer's communes and one more (the chat's own users have no place, so are not in it).
    text = admin.say("/stats ha noi").plain_text()
    assert "Thành phố Hà Nội" in text and "Người dùng: 5 (+3)" in text.split("quý", 1)[0]
    assert "Không tìm thấy nơi này" in admin.say("/stats Atlantis").plain_text()


def test_a_citizen_gets_a_polite_answer(app: App) -> None:
    citizen = Chat(app, "555", "telegram")
    for said in ("/stats", "thong ke"):
        response = citizen.say(said)
        assert "dành cho tình nguyện viên" in response.plain_text(), said
        assert "Người dùng:" not in response.plain_text() and not any(r.image_png for r in response.replies)


# -- on Telegram, through the fake Bot API ---------------------------------------------------------------


async def test_stats_on_telegram_sends_the_figures_and_the_chart_as_a_photo(settings: Settings, tmp_path: Path) -> None:
    app = build_fake_app(settings, tmp_path / "data")
    assert app.assistant.people is not None and app.assistant.stats is not None
    chat = 4242
    app.assistant.people.store.set_role(
        f"telegram:{chat}", VOLUNTEER, Region(commune_codes=(HOAN_KIEM, BA_DINH)), "test", NOW
    )
    app.assistant.stats.clock = lambda: NOW
    insert_rows(app)
    try:
        with FakeTelegram() as fake:
            async with serving(app, fake, tmp_path):
                fake.push(fake.message(chat, "/stats"))
                deadline = asyncio.get_running_loop().time() + 30
                while len(fake.sent(chat)) < 3 and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.05)
            sent = fake.sent(chat)
    finally:
        assert app.database is not None
        app.database.dispose()
    assert [r.method for r in sent] == ["sendMessage", "sendPhoto", "sendMessage"]
    assert "Người dùng: 4 (+2)" in fake.texts(chat)[0] and "Biểu đồ tháng này" in fake.texts(chat)[2]
