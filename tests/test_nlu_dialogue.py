"""NLU intents drive the conversation core, end to end through the shipped Assistant (embedded engine)."""

from __future__ import annotations

import pytest

from bot.texts import t
from tests.conftest import Chat

pytestmark = pytest.mark.slow


def test_step_navigation_by_free_text(chat: Chat) -> None:
    answer = chat.say("cách đăng ký tài khoản định danh điện tử mức 1 trên ứng dụng VNeID")
    assert answer.article_id == "vneid-register-level1"

    first = chat.say("tiep di")
    assert first.intent == "next_step" and "Bước 1/" in first.plain_text()
    again = chat.say("nhắc lại bước vừa rồi")
    assert again.intent == "repeat_step" and "Bước 1/" in again.plain_text()
    second = chat.say("ok xong r, tiếp")
    assert second.intent == "next_step" and "Bước 2/" in second.plain_text()
    back = chat.say("quay lai buoc truoc")
    assert back.intent == "previous_step" and "Bước 1/" in back.plain_text()
    everything = chat.say("cho toi xem tat ca cac buoc")
    assert everything.intent == "show_all_steps"
    assert "Bước 1/" not in everything.plain_text()  # the whole list, not one step


def test_questions_with_command_words_are_answered(chat: Chat) -> None:
    answer = chat.say("cách đăng ký vneid")
    assert answer.intent == "ask_question" and not answer.fallback
    assert answer.article_id is not None and answer.article_id.startswith("vneid-register")
    follow_up = chat.say("làm sao để tiếp tục hồ sơ khi cán bộ yêu cầu bổ sung")
    assert follow_up.intent == "ask_question" and follow_up.article_id == "dvc-supplement-request"


def test_off_topic_gets_the_polite_reply_without_guesses(chat: Chat) -> None:
    response = chat.say("giá vàng hôm nay bao nhiêu")
    assert response.fallback and response.intent == "out_of_scope"
    assert all(not reply.buttons for reply in response.replies)


def test_language_switch_by_free_text(chat: Chat) -> None:
    switched = chat.say("chuyen sang tieng anh giup toi")
    assert switched.intent == "change_language"
    assert switched.plain_text() == t("lang_set", "en")
    back = chat.say("nói tiếng việt đi")
    assert back.intent == "change_language" and back.plain_text() == t("lang_set", "vi")


def test_greeting_thanks_and_feedback(chat: Chat) -> None:
    assert chat.say("chao ad").intent == "greet"
    chat.say("làm sao nhận biết tin nhắn lừa đảo")
    assert chat.say("hay quá, dễ hiểu lắm").intent == "feedback_positive"
    assert chat.say("cam on nhieu nha").intent == "thanks"
