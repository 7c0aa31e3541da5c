"""/broadcast as volunteers and admins live it in the chat, on a real SQLite database: a lesson to exactly the
audience the preview counted, a volunteer held to their region, a citizen told how to become a volunteer, a free
text that waits for an admin's /approve, and the broadcast's report."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, or_, select

from bot import regions
from bot.assistant import Assistant
from bot.learning import UserRef
from bot.messages import Notice, Reply, Response, UserMessage
from bot.people import ADMIN as ADMIN_ROLE
from bot.people import VOLUNTEER, Profile, Region
from channels.terminal import TerminalChat
from hocvu.app import App
from hocvu.config import PeopleSettings, Settings
from knowledge_base.topics import topic_name
from language.normalize import fold
from storage.models import Broadcast, Delivery
from storage.people_store import SqlPeopleStore
from tests.conftest import Chat
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import FakeTelegram
from tests.support.learning_support import database_url, open_app
from tests.support.serving import serving

HANOI = 1
HANOI_COMMUNES = regions.communes_of(HANOI)
HOAN_KIEM = next(c.code for c in HANOI_COMMUNES if c.name == "Phường Hoàn Kiếm")
BA_DINH = next(c.code for c in HANOI_COMMUNES if c.name == "Phường Ba Đình")
ELSEWHERE = next(c for c in HANOI_COMMUNES if c.code not in (HOAN_KIEM, BA_DINH))  # Hà Nội, not the volunteer's
NGHE_AN = next(p.code for p in regions.provinces() if p.short == "Nghệ An")
ADMIN, VOLUNTEER_ID = "1", "2"
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("broadcast-chat-data")


@pytest.fixture
def app(settings: Settings, data_dir: Path, tmp_path: Path) -> Iterator[App]:
    configured = dataclasses.replace(settings, people=PeopleSettings(admins=(f"telegram:{ADMIN}",)))
    with database_url("sqlite", tmp_path) as url:
        built = open_app(configured, data_dir, url)
        assert built.assistant.people is not None
        built.assistant.people.store.set_role(
            f"telegram:{VOLUNTEER_ID}", VOLUNTEER, Region(commune_codes=(HOAN_KIEM, BA_DINH)), "test", NOW
        )
        yield built
        assert built.database is not None
        built.database.dispose()


@dataclasses.dataclass(frozen=True)
class Person:
    user: UserRef
    commune: int | None
    age: str | None
    topics: frozenset[str]


def people(app: App, count: int = 120, seed: int = 4) -> list[Person]:
    """Generated citizens: places inside and outside the volunteer's communes, ages, subscriptions."""
    assert app.database is not None
    store, rng = SqlPeopleStore(app.database), random.Random(seed)
    found = []
    for n in range(count):
        user = UserRef(rng.choice(("telegram", "zalo_oa")), str(5000 + n))
        commune = rng.choice((HOAN_KIEM, BA_DINH, ELSEWHERE.code, None))
        age = rng.choice((None, "u40", "60p"))
        province = HANOI if commune is not None else None
        store.save_profile(user, Profile(province, commune, age, True))
        topics = frozenset(rng.sample(("online_safety", "vneid", "digital_payments"), rng.randint(0, 2)))
        for topic in topics:
            store.subscribe(user, topic, NOW)
        found.append(Person(user, commune, age, topics))
    return found


def delivered_to(app: App, broadcast_id: int) -> set[tuple[str, str]]:
    """Who a broadcast (or each run of it) has a delivery for."""
    assert app.database is not None
    with app.database.read() as connection:
        runs = select(Broadcast.id).where(or_(Broadcast.id == broadcast_id, Broadcast.plan_id == broadcast_id))
        rows = connection.execute(select(Delivery.channel, Delivery.user_id).where(Delivery.broadcast_id.in_(runs)))
        return {(channel, user_id) for channel, user_id in rows}


def broadcasts(app: App) -> int:
    assert app.database is not None
    with app.database.read() as connection:
        return int(connection.scalar(select(func.count()).select_from(Broadcast)) or 0)


def number(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found.group(1))


def text(chat: Chat) -> str:
    assert chat.last is not None
    return chat.last.plain_text()


def test_a_volunteer_sends_a_lesson_to_exactly_the_audience_the_preview_counted(app: App) -> None:
    crowd = people(app)
    desk = app.assistant.broadcasts
    assert desk is not None
    lesson = next(x for x in desk.lessons.values() if x.topic == "online_safety")
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    volunteer.say("/broadcast")
    assert "Gửi tin cho bà con" in text(volunteer)
    volunteer.press(topic_name("online_safety", "vi"))
    volunteer.press(lesson.text("vi").title[:60])
    # The default: every subscriber of the lesson's topic in the volunteer's communes.
    assert "Phường Hoàn Kiếm" in text(volunteer) and "Phường Ba Đình" in text(volunteer)
    volunteer.press("Tuổi")
    volunteer.press("Từ 60 tuổi")
    menu_count = number(text(volunteer), r"Số người nhận lúc này: (\d+)")
    volunteer.press("Tiếp tục")
    volunteer.press("Gửi ngay")
    preview = text(volunteer)
    assert "Xem trước" in preview and lesson.text("vi").title in preview
    previewed = number(preview, r"Số người nhận: (\d+)")
    expected = {
        (p.user.channel, p.user.user_id)
        for p in crowd
        if p.commune in (HOAN_KIEM, BA_DINH) and p.age == "60p" and "online_safety" in p.topics
    }
    assert previewed == menu_count == len(expected) > 0  # counted independently of the SQL
    volunteer.press("Xác nhận gửi")
    broadcast_id = number(text(volunteer), r"#(\d+)")
    assert f"đang gửi tới {previewed} người" in text(volunteer)
    assert delivered_to(app, broadcast_id) == expected
    assert broadcasts(app) == 1  # nothing made twice
    # Its report, from the button under the confirmation.
    volunteer.press("Xem kết quả")
    report = text(volunteer)
    assert f"Người nhận: {previewed}" in report and f"Đang chờ gửi: {previewed}" in report
    assert "Đã gửi: 0" in report and "Đã làm bài kiểm tra của bài học sau khi nhận: 0" in report
    # In English too, typed as a command.
    assert f"Recipients: {previewed}" in text(_english(app, volunteer, f"/broadcast status {broadcast_id}"))


def _english(app: App, chat: Chat, said: str) -> Chat:
    chat.say("/lang")
    chat.press("English")
    chat.say(said)
    return chat


def test_a_volunteer_cannot_reach_outside_their_region(app: App) -> None:
    people(app)
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    volunteer.say("/broadcast")
    volunteer.press(topic_name("vneid", "vi"))
    assert volunteer.last is not None
    volunteer.press(volunteer.last.replies[0].buttons[0][0].label)  # the topic's first lesson
    volunteer.press("Nơi ở")
    volunteer.press("Gõ tên xã")
    outside = fold(ELSEWHERE.name).lower().replace("phuong ", "").replace("xa ", "")
    volunteer.say(outside)  # typed without diacritics: found, and refused
    assert "nằm ngoài địa bàn của bạn" in text(volunteer) and "chưa có gì được tạo" in text(volunteer)
    volunteer.press("Quay lại")
    volunteer.press("Nơi ở")
    volunteer.press("Gõ tên xã")
    volunteer.say("tinh nghe an")
    assert "nằm ngoài địa bàn của bạn" in text(volunteer)
    assert broadcasts(app) == 0
    # One of their own communes, typed without its province: understood as theirs.
    volunteer.press("Quay lại")
    volunteer.press("Nơi ở")
    volunteer.press("Gõ tên xã")
    volunteer.say("hoan kiem")
    assert "Gửi tới:" in text(volunteer) and "Phường Hoàn Kiếm" in text(volunteer)
    assert "Phường Ba Đình" not in text(volunteer)


def test_a_citizen_is_told_politely_it_is_for_volunteers(app: App) -> None:
    citizen = Chat(app, "777", "telegram")
    for said in ("/broadcast", "gửi bài học cho bà con trong xã", "gui bai hoc cho xa"):
        citizen.say(said)
        assert "dành cho tình nguyện viên" in text(citizen) and "Đoàn Thanh niên" in text(citizen), said
        assert not citizen.last.replies[0].buttons  # type: ignore[union-attr]
    citizen.say("/approvals")
    assert "chỉ dành cho quản trị viên" in text(citizen)
    assert broadcasts(app) == 0


def test_the_words_start_the_flow_for_a_volunteer(app: App) -> None:
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    volunteer.say("gui bai hoc cho ba con trong xa")
    assert "Gửi tin cho bà con" in text(volunteer) and "Tự soạn tin" in str(volunteer.last)


def test_a_free_text_waits_for_an_admin_who_approves_it_in_the_chat(app: App) -> None:
    crowd = people(app)
    volunteer, admin = Chat(app, VOLUNTEER_ID, "telegram"), Chat(app, ADMIN, "telegram")
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    volunteer.say("Cảnh báo: có người giả danh công an gọi điện, xem tại vneid-gov.top")
    assert "không phải trang chính thức" in text(volunteer) and "vneid-gov.top" in text(volunteer)
    # A fire warning is the broadcast's text, not an emergency of the volunteer's.
    warning = "Cảnh báo cháy rừng: bà con không đốt rơm rạ. Thông tin chính thức tại vneid.gov.vn"
    volunteer.say(warning)
    assert "Gửi tới:" in text(volunteer)
    volunteer.press("Tiếp tục")
    volunteer.press("Gửi ngay")
    assert "sau khi quản trị viên duyệt" in text(volunteer) and warning in text(volunteer)
    previewed = number(text(volunteer), r"Số người nhận: (\d+)")
    volunteer.press("Xác nhận gửi")
    broadcast_id = number(text(volunteer), r"#(\d+)")
    assert "chờ" in text(volunteer) or "duyệt" in text(volunteer)
    assert volunteer.last is not None
    told = volunteer.last.notices
    assert told == (Notice("telegram", ADMIN, told[0].text),) and f"/approve {broadcast_id}" in told[0].text
    assert delivered_to(app, broadcast_id) == set()  # nothing goes before an admin says yes
    # The volunteer cannot approve their own text.
    volunteer.say(f"/approve {broadcast_id}")
    assert "chỉ dành cho quản trị viên" in text(volunteer)
    admin.say("/approvals")
    assert f"#{broadcast_id}" in text(admin) and warning in text(admin)
    admin.say(f"/approve {broadcast_id}")
    assert f"đang gửi tới {previewed} người" in text(admin)
    assert admin.last is not None and admin.last.notices[0].user_id == VOLUNTEER_ID
    expected = {(p.user.channel, p.user.user_id) for p in crowd if p.commune in (HOAN_KIEM, BA_DINH) and p.topics}
    assert delivered_to(app, broadcast_id) == expected and len(expected) == previewed
    admin.say(f"/approve {broadcast_id}")
    assert "không chờ duyệt" in text(admin)
    admin.say("/approvals")
    assert "Không có tin nào chờ duyệt" in text(admin)


def test_in_the_terminal_the_admins_message_is_shown_marked_as_not_sent(app: App) -> None:
    """`hocvu chat` has one person at it: what the core has for an admin is printed, saying for whom."""
    people(app)  # subscribers, so the text has an audience
    assert app.assistant.people is not None
    app.assistant.people.store.set_role("terminal:local", VOLUNTEER, Region(commune_codes=(HOAN_KIEM,)), "test", NOW)
    terminal = TerminalChat(app.assistant, user_id="local")

    def press(shown: str, label: str) -> str:
        found = re.search(rf"\[(\d+)\][^[\n]*{re.escape(label)}", shown)
        assert found is not None, (label, shown)
        return terminal.send(found.group(1))

    shown = press(terminal.send("/broadcast"), "Tự soạn tin")
    shown = press(terminal.send("Lịch học kỹ năng số chiều chủ nhật tại nhà văn hoá"), "Tiếp tục")
    shown = press(press(shown, "Gửi ngay"), "Xác nhận gửi")
    broadcast_id = number(shown, r"#(\d+)")
    replies, _, told = shown.partition("✉️")
    assert f"#{broadcast_id}" in replies and "/approve" not in replies  # the volunteer's own reply comes first
    assert told.startswith(f" (tin nhắn cho quản trị viên telegram:{ADMIN}, chưa được gửi vì đây là cửa sổ dòng lệnh)")
    assert f"/approve {broadcast_id}" in told


def test_in_the_terminal_a_notice_for_its_own_user_is_shown_as_it_is() -> None:
    class Core:
        people = None

        def handle(self, message: UserMessage) -> Response:
            told = (Notice("terminal", "local", "Text #3 was approved"), Notice("zalo_oa", "9", "Text #4 awaits"))
            return Response([Reply(text="OK")], "en", notices=told)

    shown = TerminalChat(cast(Assistant, Core()), user_id="local").send("/approve 3")
    assert (
        shown
        == "OK\n\nText #3 was approved\n\n✉️ (message for zalo_oa:9, not sent: this is the terminal)\nText #4 awaits"
    )


def test_an_admin_rejects_a_text_with_a_reason_the_author_reads(app: App) -> None:
    people(app)
    volunteer, admin = Chat(app, VOLUNTEER_ID, "telegram"), Chat(app, ADMIN, "telegram")
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    volunteer.say("Hop to dan pho toi nay luc 19h")
    volunteer.press("Tiếp tục")
    volunteer.press("Hẹn giờ")
    volunteer.say("1/1/2020 08:00")
    assert "đã qua" in text(volunteer)
    volunteer.say("2099-12-01 08:00")  # the form the guard would hide as an ID number
    assert "08:00 01/12/2099" in text(volunteer)
    volunteer.press("Xác nhận gửi")
    broadcast_id = number(text(volunteer), r"#(\d+)")
    admin.say(f"/reject {broadcast_id}")
    assert "/reject <số tin> <lý do>" in text(admin)
    admin.say(f"/reject {broadcast_id} chua dung lich cua xa")
    assert "Đã từ chối" in text(admin)
    assert admin.last is not None
    [notice] = admin.last.notices
    assert notice.user_id == VOLUNTEER_ID and "chua dung lich cua xa" in notice.text
    volunteer.say(f"/broadcast status {broadcast_id}")
    assert "bị từ chối" in text(volunteer) and "chua dung lich cua xa" in text(volunteer)
    assert delivered_to(app, broadcast_id) == set()


def test_cancelling_and_stale_buttons_create_nothing(app: App) -> None:
    people(app)
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    volunteer.say("thoi")
    assert "Đã hủy" in text(volunteer)
    # A question while a time is awaited is answered as a question; the draft waits for its buttons.
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    volunteer.say("Lich hoc ky nang so chieu chu nhat")
    volunteer.press("Tiếp tục")
    volunteer.press("Hẹn giờ")
    volunteer.say("làm sao để đăng ký tài khoản định danh điện tử mức 2?")
    assert "Chưa hiểu thời gian" not in text(volunteer) and "Xem trước" not in text(volunteer)
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    volunteer.say("Lich hoc ky nang so thu bay nay")
    volunteer.press("Tiếp tục")
    volunteer.press("Gửi ngay")
    confirm = volunteer.last
    volunteer.press("Xác nhận gửi")
    volunteer.last = confirm
    volunteer.press("Xác nhận gửi")  # pressed twice: the second finds nothing to confirm
    assert "Không còn tin nào đang soạn" in text(volunteer)
    assert broadcasts(app) == 1
    # Someone else's report is not shown to a volunteer.
    other = Chat(app, "778", "telegram")
    other.say("/broadcast status 1")
    assert "không phải của bạn" in text(other)


def test_a_stop_word_while_a_text_is_awaited_ends_the_lessons_and_closes_the_draft(app: App) -> None:
    assert app.database is not None
    store = SqlPeopleStore(app.database)
    volunteer = Chat(app, VOLUNTEER_ID, "telegram")
    store.subscribe(UserRef("telegram", VOLUNTEER_ID), "vneid", NOW)
    volunteer.say("/broadcast")
    volunteer.press("Tự soạn tin")
    said = volunteer.say("HỦY")  # a stop word is honoured whatever is open, and says what it closed
    assert store.subscriptions(UserRef("telegram", VOLUNTEER_ID)) == []
    shown = said.plain_text()
    assert "Đã ngừng gửi mọi bài học" in shown and "Đã hủy, chưa gửi gì" in shown
    volunteer.say("Lich hoc ky nang so thu bay nay")  # the draft is closed: not taken for a broadcast's text
    assert broadcasts(app) == 0 and "Xem trước" not in text(volunteer)


# -- on Telegram, through the fake Bot API: the admin is told at once -------------------------------------


async def test_on_telegram_the_admin_is_told_a_text_awaits_and_the_author_that_it_was_approved(
    settings: Settings, tmp_path: Path
) -> None:
    app = build_fake_app(settings, tmp_path / "data")
    assert app.assistant.people is not None
    author, admin = 6001, 6002
    store = app.assistant.people.store
    store.set_role(f"telegram:{author}", VOLUNTEER, Region(commune_codes=(HOAN_KIEM,)), "test", NOW)
    store.set_role(f"telegram:{admin}", ADMIN_ROLE, None, "test", NOW)
    citizen = UserRef("telegram", "6100")
    store.save_profile(citizen, Profile(HANOI, HOAN_KIEM, None, True))
    store.subscribe(citizen, "vneid", NOW)

    async def after(chat: int, count: int) -> list[str]:
        deadline = asyncio.get_running_loop().time() + 20
        while len(fake.sent(chat)) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        return fake.texts(chat)

    def press(chat: int, label: str) -> None:
        for request in reversed(fake.sent(chat)):
            markup = request.params.get("reply_markup")
            if markup:
                data = next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if label in b["text"])
                fake.push(fake.callback(chat, data))
                return
        raise AssertionError(f"no keyboard with {label!r}")

    try:
        with FakeTelegram() as fake:
            async with serving(app, fake, tmp_path):
                fake.push(fake.message(author, "/broadcast"))
                await after(author, 1)
                for step, (label, typed) in enumerate(
                    (("Tự soạn tin", None), (None, "Lich hoc ky nang so sang thu bay"), ("Tiếp tục", None))
                ):
                    if label:
                        press(author, label)
                    else:
                        fake.push(fake.message(author, typed))
                    await after(author, step + 2)
                press(author, "Gửi ngay")
                await after(author, 5)
                press(author, "Xác nhận gửi")
                await after(author, 6)
                told = await after(admin, 1)
                broadcast_id = number(told[0], r"#(\d+)")
                fake.push(fake.message(admin, f"/approve {broadcast_id}"))
                await after(admin, 2)
                texts = await after(author, 7)
    finally:
        assert app.database is not None
        app.database.dispose()
    assert "/approve" in told[0] and "telegram:6001" in told[0]
    assert "đang gửi tới 1 người" in fake.texts(admin)[1]
    assert "đã được duyệt" in texts[6]
