"""The pure parts of learning: typed answers, the quiz state machine, Leitner boxes and certificate codes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from bot import actions, quiz, review
from bot.certificates import CertificateFacts, _font, certificate_png, find_code, make_code, verify_code
from bot.learning import CertificateRecord, QuizSession, ReviewCard
from knowledge_base.topics import find_topic

OPTIONS_VI = ("Ngân hàng Nhà nước Việt Nam", "Bộ Công an", "Một công ty viễn thông")
SECRET = b"test-secret"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("B", 1),
        ("b", 1),
        ("2", 1),
        ("b.", 1),
        ("Đáp án B", 1),
        ("dap an b", 1),
        ("chọn C nhé", 2),
        ("Bộ Công an", 1),
        ("bo cong an", 1),
        ("BO CONG AN", 1),
        ("công ty viễn thông", 2),
        ("cong ty vien thong", 2),
        ("ngan hang nha nuoc", 0),
    ],
)
def test_typed_answers_with_and_without_diacritics(typed: str, expected: int) -> None:
    assert quiz.parse_answer(typed, OPTIONS_VI) == expected


@pytest.mark.parametrize("typed", ["D", "4", "xin chào", "cách đăng ký VNeID", "", "?", "viet"])
def test_text_that_is_not_an_answer_is_not_taken_for_one(typed: str) -> None:
    assert quiz.parse_answer(typed, OPTIONS_VI) is None


def _session(position: int = 1, finished: bool = False) -> QuizSession:
    return QuizSession(7, "topic", "vneid", "", ("a", "b", "c"), position, 1, finished, "vi")


def test_only_the_open_question_of_the_current_quiz_can_be_scored() -> None:
    session = _session(position=1)
    assert quiz.classify(session, quiz.AnswerEvent(7, 1, 0)) is quiz.Outcome.SCORED
    assert quiz.classify(session, quiz.AnswerEvent(7, 0, 0)) is quiz.Outcome.ALREADY_ANSWERED
    assert quiz.classify(session, quiz.AnswerEvent(6, 1, 0)) is quiz.Outcome.STALE
    assert quiz.classify(session, quiz.AnswerEvent(7, 2, 0)) is quiz.Outcome.STALE
    assert quiz.classify(None, quiz.AnswerEvent(7, 1, 0)) is quiz.Outcome.STALE
    assert quiz.classify(_session(position=3, finished=True), quiz.AnswerEvent(7, 2, 0)) is (
        quiz.Outcome.ALREADY_ANSWERED
    )


def test_answer_buttons_name_session_and_question_and_fit_telegram() -> None:
    payload = actions.encode(actions.Verb.QUIZ_ANSWER, 2**31 - 1, 39, 3)
    assert len(payload.encode()) <= actions.MAX_BYTES
    assert actions.decode(payload).args == (str(2**31 - 1), "39", "3")


def test_topic_words_are_found_without_diacritics() -> None:
    assert find_topic("lam bai kiem tra ve vneid") == "vneid"
    assert find_topic("trac nghiem dich vu cong") == "public_services"
    assert find_topic("thanh toan") == "digital_payments"
    assert find_topic("lua dao qua mang") == "online_safety"
    assert find_topic("dien thoai") == "digital_skills"
    assert find_topic("hom nay troi dep") is None


def test_a_missed_question_comes_back_tomorrow_and_known_ones_later_and_later() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert review.advance(None, False, now) == (1, now + timedelta(days=1))
    box, due = review.advance(None, True, now)
    assert box == review.MASTERED_BOX and due > now + timedelta(days=1)
    assert review.advance(4, True, now)[0] == 5
    assert review.advance(review.MAX_BOX, True, now)[0] == review.MAX_BOX
    assert review.advance(5, False, now)[0] == 1


def test_due_questions_are_the_ones_whose_time_has_come() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    cards = {
        "a": ReviewCard("a", 1, now - timedelta(hours=1)),
        "b": ReviewCard("b", 2, now + timedelta(days=2)),
        "gone": ReviewCard("gone", 1, now - timedelta(days=1)),  # removed from the content since
    }
    assert quiz.due_questions(cards, {"a": object(), "b": object()}, now) == ("a",)  # type: ignore[dict-item]


def test_certificate_codes_verify_offline_and_resist_tampering() -> None:
    facts = CertificateFacts("online_safety", 90, date(2026, 11, 21), 12345)
    code = make_code(facts, SECRET)
    assert len(code) == 20 and code.startswith("HV-")
    assert verify_code(code, SECRET) == facts
    # typed sloppily: lower case, spaces instead of dashes
    assert verify_code(code.lower().replace("-", " "), SECRET) == facts
    assert verify_code(code, b"another-server") is None
    payload = code[3:11]
    forged = code.replace(payload, payload[:-1] + ("A" if payload[-1] != "A" else "B"))
    assert verify_code(forged, SECRET) is None
    assert verify_code("HV-1234", SECRET) is None
    assert find_code(f"kiểm tra chứng chỉ {code.lower()} giúp tôi") == code


def test_look_alike_characters_are_forgiven() -> None:
    facts = CertificateFacts("vneid", 100, date(2026, 1, 2), 1)
    code = make_code(facts, SECRET)
    mistyped = code.replace("O", "0").replace("I", "1").replace("B", "8")
    assert verify_code(mistyped, SECRET) == facts


def test_certificate_image_is_a_png_and_the_font_has_vietnamese_glyphs() -> None:
    record = CertificateRecord("HV-ABCDEFGH-IJKLMNOP", "vneid", 90, "Nguyễn Thị Hồng Nhung", datetime.now(UTC))
    image = Image.open(io.BytesIO(certificate_png(record, "vi")))
    assert image.format == "PNG" and image.size == (1200, 800)
    long_name = CertificateRecord(record.code, "public_services", 80, "Tôn Nữ " * 12 + "Hoa", record.issued_at)
    assert Image.open(io.BytesIO(certificate_png(long_name, "vi"))).size == (1200, 800)
    font = _font(40, False)
    missing = bytes(font.getmask("\uffff"))  # what the font draws for a character it lacks
    assert all(bytes(font.getmask(ch)) != missing for ch in "ễịồươăâđêôƯỨỮẠỆ")
