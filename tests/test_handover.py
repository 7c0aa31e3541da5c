"""Handover to a volunteer, as the conversation core decides it (no messenger involved)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import handover
from bot.messages import Response, UserMessage
from hocvu.app import App
from hocvu.config import Settings
from nlu.engine import IntentResult
from storage.models import User
from tests.support.fake_app import build_fake_app


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    return build_fake_app(settings, tmp_path_factory.mktemp("handover"))


def say(app: App, text: str, user: str, channel: str = "telegram") -> tuple[str, Response]:
    response = app.assistant.handle(UserMessage(channel, user, text=text, display_name="Lan"))
    return response.plain_text(), response


def test_volunteer_request_carries_a_redacted_context_card(app: App) -> None:
    say(app, "quên mật khẩu VNeID, số CCCD của tôi là 001203004567", "u1")
    text, response = say(app, "/volunteer", "u1")
    assert "tình nguyện viên" in text
    event = response.handover
    assert event is not None and event.kind == "open"
    assert "Lan" in event.note and "quên mật khẩu VNeID" in event.note
    assert "001203004567" not in event.note
    buttons = [b.action for r in response.replies for row in r.buttons for b in row]
    assert handover.END_PAYLOAD in buttons


def test_a_display_name_with_a_secret_reaches_neither_the_volunteers_nor_the_database(app: App) -> None:
    notes = []
    for text in ("quên mật khẩu VNeID", "/quiz vneid", "/volunteer", "mk là Abc@123"):  # a quiz stores the name
        response = app.assistant.handle(UserMessage("telegram", "u6", text=text, display_name="Lan 079123456789"))
        notes += [response.handover.note] if response.handover is not None else []
    assert len(notes) == 2  # the card and the relayed message
    assert all("Lan" in note and "079123456789" not in note for note in notes), notes
    assert app.database is not None
    with app.database.session() as session:
        names = session.scalars(select(User.display_name).where(User.external_id == "u6")).all()
    assert names == ["Lan [số định danh đã ẩn]"]


def test_messages_during_handover_go_to_volunteers_not_the_bot(app: App) -> None:
    say(app, "/volunteer", "u2")
    text, response = say(app, "mã OTP 123456 có cần gửi không", "u2")
    event = response.handover
    assert event is not None and event.kind == "relay"
    assert "123456" not in event.note
    assert "OTP" in text  # the user is still warned about the secret
    reply = app.assistant.volunteer_reply("telegram", "u2", "Không bao giờ gửi OTP cho ai nhé.")
    assert "Không bao giờ gửi OTP" in reply.plain_text() and reply.handover is None


def test_ending_the_handover_returns_to_the_bot_and_refuses_late_replies(app: App) -> None:
    say(app, "/volunteer", "u3")
    response = app.assistant.handle(UserMessage("telegram", "u3", action=handover.END_PAYLOAD, kind="action"))
    assert response.handover is not None and response.handover.kind == "close"
    _, after = say(app, "cách đăng ký VNeID mức 2", "u3")
    assert after.handover is None
    late = app.assistant.volunteer_reply("telegram", "u3", "Bạn còn cần gì không?")
    assert late.replies == [] and late.handover is not None and late.handover.kind == "undelivered"


def test_channels_without_volunteers_say_so(app: App) -> None:
    text, response = say(app, "/volunteer", "u4", channel="terminal")
    assert "chưa có tình nguyện viên" in text and response.handover is None


def test_talk_to_volunteer_intent_opens_a_handover(app: App) -> None:
    class VolunteerNLU:
        name = "fake"

        def warm_up(self) -> None:
            return None

        def parse(self, query: object) -> IntentResult:
            return IntentResult("talk_to_volunteer", 0.95)

    original = app.assistant.nlu
    app.assistant.nlu = VolunteerNLU()
    try:
        _, response = say(app, "muốn gặp người hỗ trợ", "u5")
    finally:
        app.assistant.nlu = original
    assert response.handover is not None and response.handover.kind == "open"


def test_failed_delivery_ends_the_handover(app: App) -> None:
    say(app, "/volunteer", "u6")
    response = app.assistant.handover_failed("telegram", "u6")
    assert "chưa chuyển được" in response.plain_text()
    _, after = say(app, "xin chào", "u6")
    assert after.handover is None
