"""Where a user lives, subscriptions, stop words and admins' role commands, as users live them in the chat."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import regions
from bot.learning import UserRef
from bot.messages import Response, UserMessage
from bot.people import Profile
from channels.terminal import TerminalChat
from hocvu.app import App
from hocvu.config import PeopleSettings, Settings
from tests.support.learning_support import database_url, open_app

HANOI = 1
HOAN_KIEM = next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Hoàn Kiếm")
ADMIN_KEY = "telegram:1"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("people-data")


@pytest.fixture
def app(settings: Settings, data_dir: Path, tmp_path: Path) -> Iterator[App]:
    configured = dataclasses.replace(settings, people=PeopleSettings(admins=(ADMIN_KEY,)))
    with database_url("sqlite", tmp_path) as url:
        built = open_app(configured, data_dir, url)
        yield built
        assert built.database is not None
        built.database.dispose()


class Chat:
    def __init__(self, app: App, user_id: str = "lan", channel: str = "telegram") -> None:
        self.app, self.user_id, self.channel = app, user_id, channel
        self.last: Response | None = None

    @property
    def user(self) -> UserRef:
        return UserRef(self.channel, self.user_id)

    def say(self, text: str) -> str:
        self.last = self.app.assistant.handle(UserMessage(self.channel, self.user_id, text=text))
        return self.last.plain_text()

    def press(self, label: str) -> str:
        buttons = self.buttons()
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        self.last = self.app.assistant.handle(
            UserMessage(self.channel, self.user_id, action=buttons[label], kind="action")
        )
        return self.last.plain_text()

    def buttons(self) -> dict[str, str]:
        assert self.last is not None
        return {b.label: b.action for r in self.last.replies for row in r.buttons for b in row}

    def profile(self) -> Profile:
        assert self.app.assistant.people is not None
        return self.app.assistant.people.store.profile(self.user)


# -- where a user lives -------------------------------------------------------------------------------


def test_the_place_is_offered_once_on_first_use_and_can_be_skipped(app: App) -> None:
    chat = Chat(app)
    text = chat.say("/start")
    assert "sống ở tỉnh, xã nào" in text and "không bắt buộc" in text
    assert "Bỏ qua" in chat.buttons()
    assert "bỏ qua" in chat.press("Bỏ qua").lower() and "/profile" in chat.last.plain_text()  # type: ignore[union-attr]
    assert "sống ở tỉnh, xã nào" not in chat.say("/start")  # never offered twice


def test_a_place_typed_without_diacritics_with_prefixes_and_typos_is_stored_by_code(app: App) -> None:
    chat = Chat(app)
    assert "tỉnh hoặc thành phố nào" in chat.say("/profile")  # nothing stored yet: the first question at once
    assert "Thành phố Hà Nội" in chat.say("tp ha noi")  # one province: straight to its communes
    text = chat.say("phuong hoan kiemm")  # a typo
    assert "📍 Phường Hoàn Kiếm, Thành phố Hà Nội" in text and "nhóm tuổi" in text
    assert {"Dưới 40", "40 đến 59", "Từ 60 tuổi", "Bỏ qua"} <= set(chat.buttons())
    text = chat.say("68 tuổi")
    assert "Đã lưu" in text and "Nhóm tuổi: Từ 60 tuổi" in text and "Xã, phường: Phường Hoàn Kiếm" in text
    assert chat.profile() == Profile(HANOI, HOAN_KIEM, "60p", offered=True)
    # Shown again with the rest, changed, deleted.
    text = chat.say("/profile")
    assert "Tỉnh, thành phố: Thành phố Hà Nội" in text and "Đăng ký nhận bài học: chưa đăng ký" in text
    assert "Đã xóa nơi ở" in chat.press("🗑 Xóa nơi ở")
    assert chat.profile() == Profile(offered=True)


def test_ambiguous_names_offer_at_most_five_buttons_and_numbered_lines_on_text_channels(
    app: App, data_dir: Path
) -> None:
    chat = Chat(app)
    chat.say("/profile")
    chat.say("Nghệ An")
    text = chat.say("an")  # many communes of Nghệ An have "an" in their name
    assert "bạn chọn đúng nơi của mình" in text
    places = [label for label in chat.buttons() if label != "Bỏ qua"]
    assert 1 < len(places) <= regions.MAX_CHOICES
    chosen = places[1]
    assert f"📍 {chosen}, Nghệ An" in chat.press(chosen)
    # The terminal (like Zalo) shows every choice as a numbered line; typing its number chooses it.
    out = io.StringIO()
    script = "/profile\nha noi\nhoan kiem\n3\n/profile\n"
    TerminalChat(app.assistant, io.StringIO(script), out, user_id="ba-tu", image_dir=data_dir / "img").run()
    shown = out.getvalue()
    assert "[1] Dưới 40" in shown and "[3] Từ 60 tuổi" in shown
    assert "Nhóm tuổi: Từ 60 tuổi" in shown and "Phường Hoàn Kiếm" in shown


def test_bad_answers_say_what_is_wrong_and_keep_the_question_open(app: App) -> None:
    chat = Chat(app)
    chat.say("/profile")
    text = chat.say("Atlantis")
    assert 'không tìm thấy tỉnh, thành phố nào tên "Atlantis"' in text and "34 tỉnh" in text
    assert "quá" in chat.say("a" * 5000) and chat.profile().province_code is None
    text = chat.say("012345678901")  # a citizen ID typed by mistake: warned, never echoed
    assert "012345678901" not in text and chat.profile().province_code is None
    text = chat.say("  ...  ")  # an empty answer: said so, and the question again
    assert "chưa nhận được tên nào" in text and "tỉnh hoặc thành phố nào" in text
    assert "Từ 1/7/2025 không còn cấp huyện" in (chat.say("ha noi"), chat.say("xa khong co that"))[1]
    assert chat.last is not None and chat.last.intent == "profile"
    assert "Hoàn Kiếm" in chat.say("hoan kiem")
    assert "chưa hiểu" in chat.say("nhiều lắm")  # an age that is not one
    assert "Đã lưu" in chat.press("Bỏ qua")
    assert chat.profile() == Profile(HANOI, HOAN_KIEM, None, offered=True)


def test_skipping_the_commune_keeps_the_province_and_asks_the_age(app: App) -> None:
    chat = Chat(app)
    chat.say("/profile")
    chat.say("can tho")
    assert "nhóm tuổi" in chat.press("Bỏ qua")
    text = chat.press("Dưới 40")
    assert "Tỉnh, thành phố: Thành phố Cần Thơ" in text and "Xã, phường: chưa cho biết" in text
    assert chat.profile() == Profile(regions.find_provinces("Cần Thơ")[0].code, None, "u40", offered=True)


def test_a_question_or_thoi_leaves_the_flow(app: App) -> None:
    chat = Chat(app)
    chat.say("/profile")
    chat.say("thôi")
    assert chat.last is not None and chat.last.intent == "stop"
    chat.say("/profile")
    chat.say("làm sao để cài ứng dụng VNeID trên điện thoại?")
    assert chat.last is not None and chat.last.intent != "profile"  # answered, not taken for a province


def test_deleting_my_data_deletes_where_i_live(app: App) -> None:
    chat = Chat(app)
    chat.say("/profile")
    chat.say("ha noi")
    chat.say("hoan kiem")
    chat.say("/subscribe vneid")
    text = chat.say("/deletemydata")
    assert "nơi ở" in text and "đăng ký nhận bài học" in text
    chat.press("🗑 Xóa hết")
    assert chat.profile() == Profile()
    assert app.assistant.people is not None and app.assistant.people.store.subscriptions(chat.user) == []


# -- subscriptions -----------------------------------------------------------------------------------


def test_subscribing_is_an_explicit_choice_with_quiet_hours_and_how_to_stop(app: App) -> None:
    chat = Chat(app)
    text = chat.say("/subscribe")
    assert "Chỉ khi bạn bấm chọn" in text and "21:00 đến 07:00" in text and "DỪNG" in text
    assert app.assistant.people is not None and app.assistant.people.store.subscriptions(chat.user) == []
    assert "Đã đăng ký nhận bài học về: Ứng dụng VNeID" in chat.press("Ứng dụng VNeID")
    assert "Ứng dụng VNeID" not in chat.say("/subscribe") or "Ứng dụng VNeID" not in chat.buttons()
    assert "Đăng ký nhận bài học: Ứng dụng VNeID" in chat.say("/profile")
    assert "đã đăng ký" in chat.say("/subscribe vneid")
    assert "An toàn trên mạng" in chat.say("/subscribe lua dao")
    assert "Đã ngừng gửi bài học về: Ứng dụng VNeID" in (chat.say("/unsubscribe"), chat.press("Ứng dụng VNeID"))[1]
    assert [s.topic for s in app.assistant.people.store.subscriptions(chat.user)] == ["online_safety"]


@pytest.mark.parametrize("word", ["DỪNG", "dừng", "HỦY", "huỷ", "STOP", "stop!", "dung", "huy"])
def test_stop_words_end_every_subscription_on_every_channel(app: App, word: str) -> None:
    for channel in ("telegram", "zalo_oa", "zalo_bot"):
        chat = Chat(app, f"stop-{channel}", channel)
        chat.say("/subscribe all")
        chat.say("/quiz vneid")  # something open: the stop word still ends the subscriptions
        text = chat.say(word)
        assert "Đã ngừng gửi mọi bài học" in text and "/subscribe" in text, (channel, text)
        assert app.assistant.people is not None and app.assistant.people.store.subscriptions(chat.user) == []
        assert "chưa đăng ký" in chat.say("/unsubscribe")


def test_without_subscriptions_dung_keeps_closing_the_quiz_and_dung_with_marks_is_an_answer(app: App) -> None:
    chat = Chat(app, "no-subs")
    chat.say("/quiz vneid")
    chat.say("dừng")
    assert chat.last is not None and chat.last.intent == "stop"
    subscribed = Chat(app, "subscribed")
    subscribed.say("/subscribe vneid")
    assert "Đã ngừng" not in subscribed.say("đúng")  # "right", not "stop"
    assert app.assistant.people is not None and len(app.assistant.people.store.subscriptions(subscribed.user)) == 1


# -- roles in the chat ---------------------------------------------------------------------------------


def test_admins_from_config_make_volunteers_for_a_region_and_every_change_is_recorded(app: App) -> None:
    admin, citizen = Chat(app, "1"), Chat(app, "2")
    assert "chỉ dành cho quản trị viên" in citizen.say("/promote telegram:2 admin")
    text = admin.say("/promote zalo_oa:55 xa Hoan Kiem, Ha Noi; Ba Dinh, Ha Noi")
    assert "zalo_oa:55 là volunteer" in text and "Phường Hoàn Kiếm (Hà Nội)" in text and "Phường Ba Đình" in text
    text = admin.say("/promote zalo_oa:56 xa Khong Co That, Ha Noi")
    assert "Chưa thay đổi gì" in text and "Khong Co That" in text
    assert "Chưa thay đổi gì" in admin.say("/promote facebook:1 admin")
    assert "zalo_oa:55: volunteer" in admin.say("/roles")
    # Real ids are long digit runs (the guard takes them for account numbers): still understood from an admin.
    assert "zalo_oa:8461234567890123456 là admin" in admin.say("/promote zalo_oa:8461234567890123456 admin")
    admin.say("/demote zalo_oa:8461234567890123456")
    admin.say("/demote zalo_oa:55")
    people = app.assistant.people
    assert people is not None and people.store.role("zalo_oa:55") is None
    changes = people.store.role_changes("zalo_oa:55")
    assert people.store.role("zalo_oa:8461234567890123456") is None
    assert [(c.before, c.after, c.changed_by) for c in changes] == [
        ("citizen", "volunteer", ADMIN_KEY),
        ("volunteer", "citizen", ADMIN_KEY),
    ]
