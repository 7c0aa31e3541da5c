"""The pure parts of learning: typed answers, the quiz state machine, Leitner boxes and certificate codes."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from bot import actions, quiz, review, signing
from bot.certificates import (
    CertificateFacts,
    _font,
    certificate_png,
    find_code,
    image_fingerprint,
    make_code,
    verify_code,
)
from bot.learning import CertificateRecord, QuizSession, ReviewCard
from bot.signing import SigningKeys, key_id
from bot.tutor import clean_name
from knowledge_base.topics import find_topic

OPTIONS_VI = ("Ngân hàng Nhà nước Việt Nam", "Bộ Công an", "Một công ty viễn thông")
SECRET = b"pP3kqY9wX2mN8vB5cR7tL1zJ4hG6fD0s-_aE2uI9oQ3"
OTHER = b"Zk3v9Qx2LmP8rT5wY7bN1cD4fG6hJ0sA-_uE2iO9pR3"
KEYS = SigningKeys(SECRET)


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
    assert re.fullmatch(r"HV-[A-Z2-7]{8}-[A-Z2-7]{8}-[A-Z2-7]{8}", code)
    signed = verify_code(code, KEYS)
    assert signed is not None and signed.facts == facts and signed.code == code
    assert signed.key_id == f"{key_id(SECRET):02x}" and signed.current_key and signed.proven
    # typed sloppily: lower case, spaces instead of dashes, no separators at all
    for typed in (code.lower().replace("-", " "), code.replace("-", "")):
        again = verify_code(typed, KEYS)
        assert again is not None and again.facts == facts
    assert verify_code(code, SigningKeys(OTHER)) is None  # another server's key
    for position in range(3, len(code)):  # any one character changed, the key id and the tag included
        if code[position] != "-":
            forged = code[:position] + ("A" if code[position] != "A" else "B") + code[position + 1 :]
            assert verify_code(forged, KEYS) is None, forged
    assert verify_code("HV-1234", KEYS) is None
    assert find_code(f"kiểm tra chứng chỉ {code.lower()} giúp tôi") == code


def test_the_tag_is_64_bits() -> None:
    code = make_code(CertificateFacts("vneid", 80, date(2026, 12, 1), 7), SECRET)
    raw = base64.b32decode(code[3:].replace("-", ""))
    assert len(raw) == 15 and raw[7:] == signing.tag(SECRET, b"hocvu-certificate-v2", raw[:7].hex())[:8]


def test_a_rotated_key_still_verifies_what_it_signed_and_says_so() -> None:
    facts = CertificateFacts("vneid", 100, date(2026, 1, 2), 1)
    code = make_code(facts, SECRET)
    rotated = SigningKeys(OTHER, old=(SECRET,))
    signed = verify_code(code, rotated)
    assert signed is not None and signed.facts == facts and not signed.current_key and signed.proven
    assert signed.key_id == f"{key_id(SECRET):02x}" != f"{key_id(OTHER):02x}"
    assert verify_code(code, SigningKeys(OTHER)) is None  # the old key dropped: what it signed no longer verifies
    new = verify_code(make_code(facts, rotated.current), rotated)
    assert new is not None and new.current_key


# Made by the first format's code (commit 3bd0a88) with the key the tests then used: such codes were handed
# out for months and must keep verifying.
FIRST_FORMAT_KEY = b"tests-only-signing-key"
FIRST_FORMAT_CODES = {
    "HV-O2BLCMBZ-5LWGQDIE": CertificateFacts("online_safety", 90, date(2026, 11, 21), 12345),
    "HV-DEAW4AAB-EA75JLZ7": CertificateFacts("vneid", 100, date(2026, 1, 2), 1),
}


@pytest.mark.parametrize("code", FIRST_FORMAT_CODES)
def test_codes_of_the_first_format_still_verify(code: str) -> None:
    # That key is too short to sign any more: kept as a retired key, what it signed verifies, but is not
    # proven by the signature alone (it could be recovered from one code): the database must confirm it.
    keys = SigningKeys(SECRET, old=(FIRST_FORMAT_KEY,), weak=frozenset({FIRST_FORMAT_KEY}))
    signed = verify_code(code.lower().replace("O", "0"), keys)
    assert signed is not None and signed.code == code and signed.facts == FIRST_FORMAT_CODES[code]
    assert signed.key_id == "" and not signed.current_key and not signed.proven
    assert verify_code(code, SigningKeys(FIRST_FORMAT_KEY)).proven  # type: ignore[union-attr]
    assert verify_code(code, KEYS) is None
    assert verify_code(code[:-1] + ("A" if code[-1] != "A" else "B"), keys) is None


def test_look_alike_characters_are_forgiven() -> None:
    facts = CertificateFacts("vneid", 100, date(2026, 1, 2), 1)
    code = make_code(facts, SECRET)
    mistyped = code.replace("O", "0").replace("I", "1").replace("B", "8")
    signed = verify_code(mistyped, KEYS)
    assert signed is not None and signed.facts == facts


def test_certificate_image_is_a_png_and_the_font_has_vietnamese_glyphs() -> None:
    record = CertificateRecord("HV-ABCDEFGH-IJKLMNOP", "vneid", 90, "Nguyễn Thị Hồng Nhung", datetime.now(UTC))
    image = Image.open(io.BytesIO(certificate_png(record, "vi")))
    assert image.format == "PNG" and image.size == (1200, 800)
    long_name = CertificateRecord(record.code, "public_services", 80, "Tôn Nữ " * 12 + "Hoa", record.issued_at)
    assert Image.open(io.BytesIO(certificate_png(long_name, "vi"))).size == (1200, 800)
    default = dataclasses.replace(record, holder=None)  # the holder chose not to give a name
    assert certificate_png(default, "vi") != certificate_png(record, "vi")
    assert image_fingerprint(default, "vi") != image_fingerprint(record, "vi") != image_fingerprint(record, "en")
    font = _font(40, False)
    missing = bytes(font.getmask("\uffff"))  # what the font draws for a character it lacks
    assert all(bytes(font.getmask(ch)) != missing for ch in "ễịồươăâđêôƯỨỮẠỆ")


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
        ("  nguyễn   thị lan ", "Nguyễn Thị Lan"),  # typed in lower case: capitalised as names are written
        ("nguyen van an", "Nguyen Van An"),
        ("Tôn Nữ Thị Hoa", "Tôn Nữ Thị Hoa"),
        ("Mary O'Neil-Tran", "Mary O'Neil-Tran"),
        ("B", None),  # a quiz answer
        ("0912345678", None),
        ("Lan 1990", None),
        ("Đã xác minh: Bộ Công an", None),  # nothing a reader could take for anything but a name
        ("**Lan**", None),
        ("cách cài vneid như thế nào vậy bạn", None),  # eight words: a question
        ("cài vneid thế nào", None),  # a short question without "?" is still no name
        ("ko dang nhap dc", None),
        ("how do I start", None),
        ("Lâm Văn Đức", "Lâm Văn Đức"),  # "Lâm" folds to "lam": a name, not the verb
        ("Hà Thị Gấm", "Hà Thị Gấm"),
        ("Đặng Minh Bảo", "Đặng Minh Bảo"),
        ("Nguyễn Thế Trà", "Nguyễn Thế Trà"),
        ("[số định danh đã ẩn]", None),  # what the guard left of a secret
        ("a" * 61, None),
    ],
)
def test_what_counts_as_a_name_to_print(typed: str, printed: str | None) -> None:
    assert clean_name(typed) == printed
