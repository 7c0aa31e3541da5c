"""Conversations as real users have them: the language kept, and safe replies to what is off-topic."""

from __future__ import annotations

import pytest

from bot.messages import UserMessage
from hocvu.app import App
from tests.conftest import Chat

pytestmark = pytest.mark.slow


# -- the user's language ------------------------------------------------------------------------------


def _vietnamese_user(chat: Chat) -> None:
    chat.say("/lang")
    assert "Đã chuyển sang tiếng Việt" in chat.press("Tiếng Việt").plain_text()


@pytest.mark.parametrize("message", ["/help", "help", "OK", "ok", "1", "lesson-safe-01", "thanks", "B"])
def test_a_vietnamese_user_stays_vietnamese_on_short_or_ambiguous_messages(chat: Chat, message: str) -> None:
    _vietnamese_user(chat)
    assert chat.say(message).lang == "vi"
    # and the next conversation goes on in Vietnamese too
    response = chat.say("VNeID")
    assert response.lang == "vi"


def test_help_then_ok_stays_vietnamese_and_so_does_the_next_question(chat: Chat) -> None:
    _vietnamese_user(chat)
    assert "Tôi có thể giúp bạn về" in chat.say("/help").plain_text()
    assert "Tôi có thể giúp bạn về" in chat.say("help").plain_text()
    assert chat.say("OK").lang == "vi"
    assert chat.say("vneid").lang == "vi"


def test_an_english_sentence_from_a_vietnamese_user_is_answered_in_english(chat: Chat) -> None:
    _vietnamese_user(chat)
    response = chat.say("How do I transfer money by scanning a QR code?")
    assert response.lang == "en" and response.article_id == "pay-vietqr-transfer"
    assert "Step by step" in " ".join(b.label for row in response.replies[-1].buttons for b in row)
    # English is now the user's language, until they write Vietnamese again
    assert chat.say("ok").lang == "en"
    assert chat.say("quên mật khẩu vneid").lang == "vi"


def test_an_english_user_typing_ok_or_a_command_stays_english(chat: Chat) -> None:
    assert chat.say("how do I reset my VNeID password").lang == "en"
    for message in ("ok", "OK", "/help", "2", "help", "cảm ơn"):
        assert chat.say(message).lang == "en", message
    assert "I can help you with" in chat.say("/help").plain_text()


def test_a_first_message_sets_the_language_and_the_client_language_breaks_ties(real_app: App) -> None:
    vi = real_app.assistant.handle(UserMessage("test", "first-vi", text="cach dang ky vneid muc 2"))
    assert vi.lang == "vi"
    assert real_app.assistant.handle(UserMessage("test", "first-vi", text="ok")).lang == "vi"
    en_client = real_app.assistant.handle(UserMessage("test", "first-en", text="/help", language_hint="en-US"))
    assert en_client.lang == "en"
    ok = real_app.assistant.handle(UserMessage("test", "first-en", text="ok", language_hint="en-US"))
    assert ok.lang == "en"
    # a Vietnamese sentence wins over the client's language
    vi_on_en_client = UserMessage("test", "first-en", text="quên mật khẩu vneid", language_hint="en-US")
    assert real_app.assistant.handle(vi_on_en_client).lang == "vi"
