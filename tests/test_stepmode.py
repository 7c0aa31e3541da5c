"""Step mode as people word it (bot/stepmode.py, routes.FLOWS): a step named by its place, a walk-through asked for
in a long English sentence, going back to a walk-through by its name, and a step that did nothing when done.

The wordings differ on purpose from the replay files' (tests/dialogues/replay2.yml): each test checks the rule,
not one sentence."""

from __future__ import annotations

import pytest

from bench.replay import PERSON_MARKERS, shown_step
from bot.messages import Response
from tests.conftest import Chat

pytestmark = pytest.mark.slow


def _text(response: Response) -> str:
    return response.plain_text().casefold()


def _offers_a_person(response: Response) -> bool:
    return any(marker in _text(response) for marker in PERSON_MARKERS)


def _walk(chat: Chat, question: str, article: str, to_step: int) -> None:
    """Ask `question` (answered with `article`), start its walk-through and go on to step `to_step`."""
    assert chat.say(question).article_id == article
    assert shown_step(chat.say("làm từng bước")) == 1
    for _ in range(to_step - 1):
        chat.say("tiếp")
    assert shown_step(chat.last) == to_step and chat.last.article_id == article


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        ("cho bà coi bước thứ nhất", 1),
        ("bước đầu là gì nhỉ", 1),
        ("xem bước thứ hai", 2),
        ("bước cuối cùng đâu", "last"),
        ("show me the second step", 2),
        ("what was the last step", "last"),
        ("làm lại từ đầu đi cháu", 1),
    ],
)
def test_a_step_named_by_its_place(chat: Chat, said: str, wanted: int | str) -> None:
    _walk(chat, "quên passcode vneid phải làm sao", "vneid-forgot-passcode", 3)
    total = len(chat.app.kb.get("vneid-forgot-passcode", "vi").steps)
    assert shown_step(chat.say(said)) == (total if wanted == "last" else wanted)


def test_a_question_about_a_first_step_with_nothing_open_is_answered_not_refused(chat: Chat) -> None:
    response = chat.say("bước đầu tiên để cài ứng dụng VNeID là gì")
    assert shown_step(response) is None and "chưa mở hướng dẫn" not in response.plain_text()


def test_a_long_english_request_for_the_walk_through_starts_it(chat: Chat) -> None:
    assert chat.say("How do I reset my VNeID passcode?").article_id == "vneid-forgot-passcode"
    first = chat.say("Could you please take me through this step by step?")
    assert shown_step(first) == 1 and first.lang == "en" and first.article_id == "vneid-forgot-passcode"
    assert shown_step(chat.say("next")) == 2


def test_going_back_to_a_walk_through_by_its_name_picks_that_one(chat: Chat) -> None:
    _walk(chat, "cách chuyển tiền bằng quét mã QR", "pay-vietqr-transfer", 3)
    chat.say("quên passcode vneid phải làm sao")  # a side question: the QR walk-through is paused at step 3
    chat.say("làm từng bước")
    chat.say("tiếp")  # the passcode walk-through at step 2
    chat.say("cách chụp màn hình điện thoại")  # another: the passcode one is paused too, newest
    back = chat.say("cho bác trở lại cái hướng dẫn quét mã QR hồi nãy")
    assert back.article_id == "pay-vietqr-transfer" and shown_step(back) == 3
    # named without "lúc nãy", the other paused one
    chat.say("cách chụp màn hình điện thoại")
    again = chat.say("quay về bài quên passcode VNeID")
    assert again.article_id == "vneid-forgot-passcode" and shown_step(again) == 2


def test_going_back_without_naming_it_is_the_last_walk_through_left(chat: Chat) -> None:
    _walk(chat, "quên passcode vneid phải làm sao", "vneid-forgot-passcode", 2)
    chat.say("cách chụp màn hình điện thoại")
    back = chat.say("làm tiếp cái phần hướng dẫn ban nãy đi")
    assert back.article_id == "vneid-forgot-passcode" and shown_step(back) == 2


def test_words_like_going_back_in_a_question_are_still_a_question(chat: Chat) -> None:
    response = chat.say("muốn quay lại dùng số điện thoại cũ cho VNeID thì làm sao")
    assert response.intent != "resume" and shown_step(response) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ấn nút đó mãi mà nó chẳng nhúc nhích gì cả", "gõ số vào rồi nhưng không sang trang khác"),
        ("bam roi ma man hinh van the", "cái máy nó bị đơ luôn rồi"),
        ("I pressed it but nothing changed", "it's still stuck on the same screen"),
    ],
)
def test_a_step_that_did_nothing_is_shown_again_and_then_a_person_offered(chat: Chat, first: str, second: str) -> None:
    _walk(chat, "quên passcode vneid phải làm sao", "vneid-forgot-passcode", 2)
    once = chat.say(first)
    assert shown_step(once) == 2 and len(once.replies) > 1 and not _offers_a_person(once)
    twice = chat.say(second)
    assert shown_step(twice) == 2 and _offers_a_person(twice)


def test_a_stuck_app_with_no_walk_through_open_is_a_question(chat: Chat) -> None:
    response = chat.say("ứng dụng ngân hàng cứ đứng im không chạy thì phải làm sao")
    assert shown_step(response) is None


@pytest.mark.parametrize("said", ["đang làm tới bước mô rồi", "bước mô đây"])
def test_where_am_i_asked_the_central_way(chat: Chat, said: str) -> None:
    _walk(chat, "cách cài vneid trên điện thoại", "vneid-install", 2)
    assert shown_step(chat.say(said)) == 2


@pytest.mark.parametrize("said", ["vẫn không hiểu chi cả", "ko hiu gi het"])
def test_not_understood_in_central_speech_or_chat_spelling_repeats_the_step(chat: Chat, said: str) -> None:
    _walk(chat, "cách cài vneid trên điện thoại", "vneid-install", 2)
    again = chat.say(said)
    assert shown_step(again) == 2 and len(again.replies) > 1


def test_a_bare_english_request_for_steps_starts_the_walk_through(chat: Chat) -> None:
    assert chat.say("How do I install VNeID?").article_id == "vneid-install"
    assert shown_step(chat.say("steps pls")) == 1


def test_going_back_to_its_steps_by_name_after_a_refusal_keeps_the_step(chat: Chat) -> None:
    _walk(chat, "cách cài vneid trên điện thoại", "vneid-install", 3)
    assert (chat.say("cho xin số điện thoại của vợ anh hàng xóm").intent or "").startswith("decline_")
    assert shown_step(chat.say("quay lại các bước cài vneid")) == 3
