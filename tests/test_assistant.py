"""The conversation core with the shipped knowledge base and the real model."""

from __future__ import annotations

import unicodedata

import pytest

from bot import actions
from bot.assistant import Assistant
from bot.journal import LoggedTurn
from bot.messages import UserMessage
from bot.state import MemoryStateStore
from hocvu.app import App
from tests.conftest import Chat

pytestmark = pytest.mark.slow


def test_answers_a_procedure_briefly_with_steps_and_full_text_a_tap_away(chat: Chat) -> None:
    response = chat.say("cach dang ky tai khoan vneid muc 1 tren dien thoai")
    assert response.article_id == "vneid-register-level1"
    assert response.topic == "vneid" and not response.fallback
    reply = response.replies[-1]
    assert len(response.plain_text()) <= 600 and not reply.steps  # one phone screen
    labels = [b.label for row in reply.buttons for b in row]
    assert any("từng bước" in label for label in labels) and any("Xem đầy đủ" in label for label in labels)
    assert all(len(b.action.encode()) <= actions.MAX_BYTES for row in reply.buttons for b in row)
    full = chat.press("Xem đầy đủ").replies[-1]
    assert len(full.steps) >= 3 and full.text == reply.text.split("\n\n")[0]
    assert full.sources and all(link.url.startswith("https://") for link in full.sources)


def test_english_question_gets_an_english_answer(chat: Chat) -> None:
    response = chat.say("How do I transfer money by scanning a QR code?")
    assert response.lang == "en"
    assert response.article_id == "pay-vietqr-transfer"
    assert "Step by step" in " ".join(b.label for row in response.replies[-1].buttons for b in row)


def test_step_mode_walks_one_step_at_a_time(chat: Chat) -> None:
    first = chat.say("quên passcode vneid phải làm sao")
    assert first.article_id == "vneid-forgot-passcode"
    steps = chat.app.kb.get(first.article_id, "vi").steps
    total = len(steps)
    step1 = chat.press("từng bước")
    assert step1.replies[-1].steps == (steps[0],)
    assert "Bước 1/" in (step1.replies[-1].title or "")
    step2 = chat.press("Bước tiếp")
    assert "Bước 2/" in (step2.replies[-1].title or "")
    again = chat.press("Nhắc lại")
    assert again.replies[-1].steps == step2.replies[-1].steps
    back = chat.press("Bước trước")
    assert "Bước 1/" in (back.replies[-1].title or "")
    everything = chat.press("Xem tất cả")
    assert len(everything.replies[-1].steps) == total


def test_typed_navigation_follows_the_position_kept_per_user(real_app: App) -> None:
    alice, bob = Chat(real_app, "alice"), Chat(real_app, "bob")
    alice.say("khong nhan duoc ma otp vneid")
    bob.say("cach chup man hinh dien thoai")
    assert "Bước 1/" in (alice.say("tiếp").replies[-1].title or "")
    assert "Bước 2/" in (alice.say("tiep di").replies[-1].title or "")
    assert "Bước 1/" in (bob.say("tiếp").replies[-1].title or "")  # Bob's position is his own
    assert "Bước 2/" in (alice.say("nhắc lại").replies[-1].title or "")
    assert "Bước 1/" in (alice.say("quay lại").replies[-1].title or "")


def test_typed_next_continues_from_the_step_a_button_showed(chat: Chat) -> None:
    first = chat.say("quên passcode vneid phải làm sao")
    steps = chat.app.kb.get(first.article_id or "", "vi").steps
    assert len(steps) >= 3
    chat.press("từng bước")
    assert "Bước 2/" in (chat.press("Bước tiếp").replies[-1].title or "")
    typed = chat.say("tiếp")  # typed after a button: from the step the button showed, not from step 1
    assert "Bước 3/" in (typed.replies[-1].title or "")
    assert typed.replies[-1].steps == (steps[2],)


def test_a_side_question_pauses_the_walk_through_and_tiep_resumes_it(chat: Chat) -> None:
    first = chat.say("khong nhan duoc ma otp vneid")
    chat.say("tiếp")
    assert "Bước 2/" in (chat.say("tiếp").replies[-1].title or "")
    second = chat.say("cach chup man hinh dien thoai")
    assert second.article_id is not None and second.article_id != first.article_id
    resumed = chat.say("tiếp")  # back to the procedure the side question interrupted, where it was
    assert resumed.article_id == first.article_id and "Bước 2/" in (resumed.replies[-1].title or "")
    chat.say("cach chup man hinh dien thoai")
    step = chat.say("làm từng bước")  # the new answer's own walk-through, from its first step
    assert step.article_id == second.article_id and "Bước 1/" in (step.replies[-1].title or "")
    assert step.replies[-1].steps == (chat.app.kb.get(second.article_id, "vi").steps[0],)


def test_going_back_after_a_side_question_nobody_could_answer_finds_the_walk_through(chat: Chat) -> None:
    first = chat.say("khong nhan duoc ma otp vneid")
    chat.say("tiếp")
    assert "Bước 2/" in (chat.say("tiếp").replies[-1].title or "")
    assert chat.say("giá vàng hôm nay bao nhiêu").fallback  # not answered: the walk-through stays open
    back = chat.say("quay lại cái lúc nãy")
    assert back.article_id == first.article_id and "Bước 2/" in (back.replies[-1].title or "")


def test_double_tapping_next_shows_the_same_step_not_two_ahead(chat: Chat) -> None:
    chat.say("cách kích hoạt tài khoản vneid")
    step1 = chat.press("từng bước")
    next_action = next(b.action for row in step1.replies[-1].buttons for b in row if "tiếp" in b.label)
    one = chat.app.assistant.handle(UserMessage("test", chat.user_id, action=next_action, kind="action"))
    two = chat.app.assistant.handle(UserMessage("test", chat.user_id, action=next_action, kind="action"))
    assert one.replies[-1].title == two.replies[-1].title and "Bước 2/" in (one.replies[-1].title or "")


def test_last_step_congratulates_and_asks_for_feedback(chat: Chat) -> None:
    response = chat.say("cach bat wifi tren dien thoai")
    steps = chat.app.kb.get(response.article_id or "", "vi").steps
    last = chat.app.assistant.handle(
        UserMessage(
            "test",
            chat.user_id,
            action=actions.encode(actions.Verb.STEP, response.article_id, len(steps) - 1),
            kind="action",
        )
    )
    reply = last.replies[-1]
    assert "🎉" in reply.text
    assert any("👍" in b.label for row in reply.buttons for b in row)
    assert not any("tiếp" in b.label for row in reply.buttons for b in row)


def test_navigation_without_a_procedure_explains_what_to_do(chat: Chat) -> None:
    response = chat.say("tiếp")
    assert "chưa mở hướng dẫn" in response.plain_text()


def test_off_topic_question_gets_the_polite_fallback(chat: Chat) -> None:
    response = chat.say("công thức nấu phở bò ngon nhất là gì")
    assert response.fallback and response.article_id is None
    text = response.plain_text()
    assert "không muốn đoán" in text and "VNeID" in text


def journaling_assistant(app: App) -> tuple[Assistant, list[LoggedTurn]]:
    """The real app's core with a journal the test reads: every turn it would log, in order."""
    turns: list[LoggedTurn] = []

    class Capture:
        def record(self, turn: LoggedTurn) -> None:
            turns.append(turn)

    assistant = Assistant(
        app.kb,
        app.retriever,
        app.embedder,
        app.nlu,
        MemoryStateStore(),
        default_lang=app.settings.default_language,
        intent_threshold=app.settings.nlu.intent_threshold,
        journal=Capture(),
    )
    return assistant, turns


def test_sensitive_data_is_warned_about_and_never_journaled(real_app: App) -> None:
    assistant, turns = journaling_assistant(real_app)
    response = assistant.handle(
        UserMessage("test", "u1", text="mat khau la Hoa@1990 va cccd 079123456789, quen mk vneid")
    )
    assert "sensitive_data" in response.warnings
    assert "Đừng bao giờ gửi" in response.replies[0].text
    assert response.article_id == "vneid-forgot-passcode"
    assert "Hoa@1990" not in response.redacted_text and "079123456789" not in response.redacted_text
    assert turns and all("Hoa@1990" not in t.redacted_text and "079123456789" not in t.redacted_text for t in turns)


def test_a_crafted_button_payload_is_journaled_through_the_guard(real_app: App) -> None:
    # Payloads come from the client: a callback carrying an ID number was stored verbatim.
    assistant, turns = journaling_assistant(real_app)
    for payload in ("1:a:079123456789", "1:qa:0791-2345-6789", "1:st:4111111111111111:2"):
        response = assistant.handle(UserMessage("test", "u1", action=payload, kind="action"))
        assert response.replies, payload
    assert len(turns) == 3
    for turn in turns:
        assert not any(ch.isdigit() for ch in turn.redacted_text.removeprefix("<button 1:")), turn.redacted_text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀🙏👍",
        "\x00\x07\x1b[31m",
        "079123456789",
        "cách đăng ký VNeID " * 600,  # ~11,000 characters
        "VNeID là gì? 中文 русский текст ١٢٣",
        unicodedata.normalize("NFD", "Quên mật khẩu VNeID thì làm thế nào"),
    ],
    ids=["empty", "whitespace", "emoji", "control", "id-only", "10k-chars", "mixed-scripts", "nfd"],
)
def test_bad_input_always_gets_a_clear_reply(chat: Chat, text: str) -> None:
    response = chat.say(text)
    assert response.replies and all(r.plain_text("Sources") or r.buttons for r in response.replies)
    assert "internal_error" not in response.warnings


def test_nfd_question_is_answered_like_nfc(chat: Chat) -> None:
    question = "Quên mật khẩu VNeID thì làm thế nào"
    assert chat.say(unicodedata.normalize("NFD", question)).article_id == chat.say(question).article_id


def test_id_number_alone_is_redacted_and_asks_for_a_question(chat: Chat) -> None:
    response = chat.say("079123456789")
    assert response.warnings == ["sensitive_data"]
    assert "079123456789" not in response.redacted_text
    assert "gõ câu hỏi" in response.plain_text()


def test_stale_and_foreign_buttons_get_a_clear_reply(chat: Chat) -> None:
    for payload in ("0:st:vneid-activate:1", "garbage", "1:a:no-such-article", "1:unknown-verb"):
        response = chat.app.assistant.handle(UserMessage("test", chat.user_id, action=payload, kind="action"))
        assert "Nút này đã cũ" in response.plain_text(), payload


def test_non_text_messages_get_a_friendly_reply(chat: Chat) -> None:
    response = chat.app.assistant.handle(UserMessage("test", chat.user_id, kind="sticker"))
    assert "chỉ đọc được tin nhắn chữ" in response.plain_text()


def test_language_menu_switches_language(chat: Chat) -> None:
    chat.say("/lang")
    response = chat.press("English")
    assert response.lang == "en"
    assert "Switched to English" in response.plain_text()


def test_greeting_thanks_and_unknown_command(chat: Chat) -> None:
    assert "Xin chào" in chat.say("xin chào").plain_text()
    assert "Không có gì" in chat.say("cam on nhe").plain_text()
    assert "/abc" in chat.say("/abc").plain_text()
