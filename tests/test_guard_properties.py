"""No secret a citizen types gets past the core: a property, checked end to end on generated messages.

Hypothesis writes messages the way people do (a label, words in between, a separator or none, a secret,
more words) with passwords, OTPs in digits and in words, ID numbers of 9 and 12 digits with any separator
or glued to letters, card numbers that pass Luhn and CVVs. Each goes through the real core on SQLite, as
a question, as a question a volunteer's card then quotes, as a message relayed during a talk with a
volunteer, or as a crafted button payload; then every place text can end up is searched for the secret:
the conversation log, the saved state, what the NLU engine and the embedder were given, the notes for
volunteers and every log line (the root logger at DEBUG, SQL statements and their parameters included).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import handover
from bot.guard import ORDINARY_WORDS
from bot.journal import Journal, LoggedTurn, LoggingJournal
from bot.messages import Response, UserMessage
from embeddings.embedder import Vectors
from hocvu.app import App
from hocvu.config import Settings
from language.normalize import fold
from language.query import Query
from nlu.engine import IntentResult, NLUEngine
from storage.models import ConversationLog, ConversationStateRow
from tests.support.fakes import FakeEmbedder
from tests.support.learning_support import learning_app

# -- what people write around a secret -----------------------------------------------------------------

PASSWORD_LABELS = ["mk", "mật khẩu", "mat khau", "Mật khẩu", "mật mã", "matkhau", "pass", "password", "Password",
                   "passcode", "pw", "pwd", "MK"]  # fmt: skip
OTP_LABELS = ["otp", "OTP", "mã otp", "mã OTP", "ma otp", "mã xác thực", "ma xac nhan", "mã xác nhận",
              "verification code", "mã kích hoạt"]  # fmt: skip
PIN_LABELS = ["pin", "mã pin", "PIN", "ma pin"]
CVV_LABELS = ["cvv", "CVV", "mã cvv", "cvc", "CVC"]  # "cvv2 123" is in test_guard.py: its "2" is no secret
ID_LABELS = ["cccd", "CCCD", "số cccd", "căn cước", "cmnd", "số định danh", "chứng minh nhân dân", "id"]
CARD_LABELS = ["thẻ", "the", "số thẻ", "card", "thẻ visa", "thẻ atm"]
# Words between a label and its value ("mk ngân hàng của tôi là ..."): none is a label, a digit word or a
# separator, none ends a clause.
FILLERS = ["ngân hàng", "của", "tôi", "em", "mình", "bác", "facebook", "fb", "zalo", "vneid", "cũ", "mới",
           "hiện tại", "vietcombank", "gmail", "đăng nhập", "my", "bank", "tài khoản", "app", "hôm qua",
           "con gái", "chồng", "vợ"]  # fmt: skip
# How a separator sits between what comes before and the value: "... là abc", "...: abc", "pw=abc".
SEPARATORS = [" là ", " la ", " is ", ": ", " : ", " = ", "=", ":", " là: "]
PREFIXES = ["", "cho hỏi ", "ơi ", "giúp tôi với, ", "Chào bạn, ", "hello "]
SUFFIXES = ["", " sao không đăng nhập được", " giúp tôi với", " có sao không", ", có an toàn không?",
            " nhé", "!", " đúng không ạ", " please help"]  # fmt: skip
NUMBER_SEPARATORS = ["", " ", ".", "-", "/", "_", ","]
DIGIT_WORDS = {
    "vi": ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"],
    "vi-alt": ["không", "mốt", "hai", "ba", "tư", "lăm", "sáu", "bẩy", "tám", "chín"],
    "plain": ["khong", "mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}
FOLDED_DIGIT_WORDS = frozenset(fold(w) for words in DIGIT_WORDS.values() for w in words) | {"tu", "lam"}
# The checks below rely on this: the words around a secret have no digit, and no two digit words can meet
# unless a secret leaked (a suffix may say "không", but never first or next to another digit word).
assert not any(ch.isdigit() for ch in "".join([*FILLERS, *PREFIXES, *SUFFIXES]))
assert not FOLDED_DIGIT_WORDS & {fold(w) for text in [*FILLERS, *PREFIXES] for w in re.findall(r"\w+", text)}
for _suffix in SUFFIXES:
    _words = [fold(w) for w in re.findall(r"\w+", _suffix)]
    assert not _words or _words[0] not in FOLDED_DIGIT_WORDS, _suffix
    assert not any(a in FOLDED_DIGIT_WORDS and b in FOLDED_DIGIT_WORDS for a, b in itertools.pairwise(_words))


@dataclass(frozen=True)
class Secret:
    typed: str  # as it appears in the message
    digits: str = ""  # its digits, when it is a number
    words: tuple[str, ...] = ()  # its digit words, when it is spelt out


@dataclass
class Message:
    text: str
    secrets: list[Secret] = field(default_factory=list)


def _group(digits: str, sizes: Sequence[int], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(digits[position : position + size])
        position += size
    return separator.join(p for p in parts if p)


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def numbers(draw: st.DrawFn, length: int) -> str:
    return "".join(draw(st.lists(digit_strings, min_size=length, max_size=length)))


@st.composite
def passwords(draw: st.DrawFn, separated: bool) -> Secret:
    """Letters, digits and symbols; without a separator it must look like one (a digit, a symbol or mixed case)."""
    letters = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=10))
    kind = draw(st.sampled_from(["digits", "symbol", "mixed"] + (["letters"] if separated else [])))
    if kind == "digits":
        secret = letters + draw(numbers(draw(st.integers(1, 5))))
    elif kind == "symbol":
        secret = letters + draw(st.sampled_from("@#!$%&*_^~+")) + draw(st.sampled_from(["", "x", "Q", "vn"]))
        secret += draw(numbers(draw(st.integers(0, 4)))) if secret[-1] in "@#!$%&*_^~+" else ""
    elif kind == "mixed":
        secret = letters.lower() + draw(st.sampled_from("BCDFGHKLMNQRTVXZ")) + letters.lower()[::-1]
    else:
        secret = letters.lower() + draw(st.sampled_from("bcdfghklmnqrtvxz")) * 2 + letters.lower()
    if fold(secret) in ORDINARY_WORDS or secret.lower() in {s.strip(": =") for s in SEPARATORS} | {"are", "was"}:
        secret += "Z9"  # the guard never redacts "gì" or "là": a generated password must not be one
    return Secret(secret, "".join(ch for ch in secret if ch.isdigit()))


@st.composite
def spelt_otps(draw: st.DrawFn, least: int) -> Secret:
    words = DIGIT_WORDS[draw(st.sampled_from(sorted(DIGIT_WORDS)))]
    picked = draw(st.lists(st.sampled_from(words), min_size=least, max_size=8))
    joiner = draw(st.sampled_from([" ", ", ", " - ", "  "]))
    return Secret(joiner.join(picked), words=tuple(picked))


@st.composite
def labelled(draw: st.DrawFn, labels: list[str], value: st.SearchStrategy[Secret] | None = None) -> Message:
    """label + words + separator or none + value: "mk ngân hàng của tôi là abc123", "mật khẩu Hunter2"."""
    separator = draw(st.sampled_from([" ", *SEPARATORS]))
    secret = draw(value if value is not None else passwords(separated=separator != " "))
    words = [draw(st.sampled_from(labels)), *draw(st.lists(st.sampled_from(FILLERS), max_size=4))]
    return Message(" ".join(words) + separator + secret.typed, [secret])


@st.composite
def digit_secret(draw: st.DrawFn, length: int, least: int, most: int) -> Secret:
    digits = draw(numbers(draw(st.integers(least, most)) if length == 0 else length))
    return Secret(digits, digits)


@st.composite
def id_numbers(draw: st.DrawFn, twelve: bool | None = None) -> Message:
    twelve = draw(st.booleans()) if twelve is None else twelve
    digits = draw(numbers(12 if twelve else 9))
    sizes = draw(st.sampled_from([(12,), (4, 4, 4), (3, 3, 3, 3), (3, 3, 6)])) if twelve else (3, 3, 3)
    typed = _group(digits, sizes, draw(st.sampled_from(NUMBER_SEPARATORS)))
    label = draw(st.sampled_from(ID_LABELS))  # a 9-digit number is an ID only where the words say so
    text = draw(
        st.sampled_from(
            [
                label + typed,  # "CCCD012345678901"
                f"{label} {typed}{draw(st.sampled_from(['nhé', 'ạ', 'nha', 'a']))}",  # "...012345678901nhé"
                f"{label} của tôi là {typed}",
            ]
        )
    )
    return Message(text, [Secret(typed, digits)])


@st.composite
def card_numbers(draw: st.DrawFn) -> Message:
    prefix = draw(st.sampled_from(["4", "5", "9704"]))
    digits = _luhn_complete(prefix + draw(numbers(15 - len(prefix))))
    typed = _group(digits, (4, 4, 4, 4), draw(st.sampled_from(NUMBER_SEPARATORS)))
    label = draw(st.sampled_from(CARD_LABELS))
    text = draw(st.sampled_from([f"{label} {typed}", f"{label}{typed}", f"{typed} bị trừ tiền"]))
    message = Message(text, [Secret(typed, digits)])
    if draw(st.booleans()):  # with its CVV
        cvv = draw(labelled(CVV_LABELS, digit_secret(0, 3, 4)))
        message = Message(f"{message.text} {cvv.text}", message.secrets + cvv.secrets)
    return message


secret_messages = st.one_of(
    labelled(PASSWORD_LABELS),
    labelled(PIN_LABELS, digit_secret(0, 4, 8)),
    labelled(OTP_LABELS, digit_secret(0, 4, 8)),
    labelled(OTP_LABELS + PIN_LABELS, spelt_otps(4)),
    spelt_otps(6).map(lambda s: Message(s.typed, [s])),
    digit_secret(6, 6, 6).map(lambda s: Message(s.typed, [s])),
    labelled(CVV_LABELS, digit_secret(0, 3, 4)),
    id_numbers(),
    card_numbers(),
)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[str, Message]:
    """How the message reaches the core, and the message: one or two secrets in a citizen's sentence."""
    way = draw(st.sampled_from(["question", "card", "relay", "button"]))
    if way == "button":  # a crafted payload carries a number that is a secret without words around it
        number = draw(st.one_of(id_numbers(twelve=True), card_numbers())).secrets[0]
        verb = draw(st.sampled_from(["a", "st", "qa", "fb", "all"]))
        return way, Message(f"1:{verb}:{number.typed}", [number])
    parts = draw(st.lists(secret_messages, min_size=1, max_size=2))
    body = draw(st.sampled_from([" và ", ". ", " còn ", "\n"])).join(p.text for p in parts)
    text = draw(st.sampled_from(PREFIXES)) + body + draw(st.sampled_from(SUFFIXES))
    return way, Message(text, [s for p in parts for s in p.secrets])


# -- the product, with every place text can go recorded --------------------------------------------------


class RecordingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.seen.extend(texts)
        return super().embed_queries(texts)


class RecordingNLU:
    """The product's NLU engine, with what it was asked to parse written down."""

    def __init__(self, engine: NLUEngine) -> None:
        self.engine = engine
        self.name = engine.name
        self.seen: list[str] = []

    def warm_up(self) -> None:
        self.engine.warm_up()

    def parse(self, query: Query) -> IntentResult:
        self.seen.extend([query.text.original, query.text.clean, query.text.folded])
        return self.engine.parse(query)


class BothJournals:
    """The SQL journal, and the log journal of the embedded default: turns reach the log lines too."""

    def __init__(self, journal: Journal) -> None:
        self.journals = (journal, LoggingJournal())

    def record(self, turn: LoggedTurn) -> None:
        for journal in self.journals:
            journal.record(turn)


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Recorded:
    app: App
    embedder: RecordingEmbedder
    nlu: RecordingNLU
    logs: LogLines
    users: Iterator[int] = field(default_factory=itertools.count)
    last_log_id: int = 0


@pytest.fixture(scope="module")
def recorded(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    data_dir = tmp_path_factory.mktemp("guard-property")
    with_volunteers = dataclasses.replace(
        settings, telegram=dataclasses.replace(settings.telegram, volunteer_chat_id=-100500)
    )
    embedder = RecordingEmbedder()
    app = learning_app(with_volunteers, data_dir, f"sqlite:///{Path(data_dir) / 'hocvu.db'}")
    app.assistant.embedder = embedder  # queries are embedded by the core's embedder; same vectors as the index's
    app.assistant.journal = BothJournals(app.assistant.journal)
    nlu = RecordingNLU(app.assistant.nlu)
    app.assistant.nlu = nlu
    logs = LogLines()
    root = logging.getLogger()
    # Every logger down to DEBUG while the property runs, whatever an earlier test or a library set
    # (`hocvu` puts hocvu.turns at WARNING, SQLAlchemy itself at WARN): SQL and its parameters are lines too.
    loggers = [logger for logger in root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    levels = {logger: (logger.level, logger.propagate) for logger in [root, *loggers]}
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    try:
        yield Recorded(app, embedder, nlu, logs)
    finally:
        root.removeHandler(logs)
        for logger, (level, propagate) in levels.items():
            logger.setLevel(level)
            logger.propagate = propagate
        assert app.database is not None
        app.database.dispose()


# -- the property ----------------------------------------------------------------------------------------


def _letters(number: int) -> str:
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word += "abcdefghijklmnopqrstuvwxyz"[digit]
        if not number:
            return word


TIMESTAMP = re.compile(r"'\d{4}-\d\d-\d\d[ T][\d:.]+'")
QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _digit_word_pairs(text: str) -> list[tuple[str, str]]:
    words = [fold(w) for w in re.findall(r"[^\W\d_]+", text)]
    return [(a, b) for a, b in itertools.pairwise(words) if a in FOLDED_DIGIT_WORDS and b in FOLDED_DIGIT_WORDS]


def _assert_user_text_clean(where: str, text: str, message: Message) -> None:
    """Text made only of what the user typed: no secret, and no digit or pair of digit words left at all
    (the words around the generated secrets have none)."""
    for secret in message.secrets:
        assert secret.typed not in text, (where, secret, text, message.text)
    assert not _digits(text), (where, text, message.text)
    assert not _digit_word_pairs(text), (where, text, message.text)


def _assert_no_secret(where: str, text: str, message: Message, short: bool = True) -> None:
    """Text that also holds other things (log lines with ids and times, cards with article titles)."""
    for secret in message.secrets:
        if short or len(secret.typed) >= 6 or not secret.typed.isdigit():
            assert secret.typed not in text, (where, secret, text, message.text)
        if len(secret.digits) >= 6:
            assert secret.digits not in text and secret.digits not in _digits(text), (where, secret, text)
        if len(secret.words) >= 4:
            assert " ".join(secret.words[:4]) not in text, (where, secret, text)


def _converse(recorded: Recorded, way: str, message: Message, user: str) -> list[Response]:
    assistant = recorded.app.assistant

    def say(text: str) -> Response:
        return assistant.handle(UserMessage("telegram", user, text=text, display_name="Lan"))

    if way == "question":
        return [say(message.text)]
    if way == "card":  # the question first, then a volunteer's card that quotes recent questions
        return [say(message.text), say("/volunteer")]
    if way == "relay":
        return [say("/volunteer"), say(message.text), assistant.handle(
            UserMessage("telegram", user, action=handover.END_PAYLOAD, kind="action"))]  # fmt: skip
    return [assistant.handle(UserMessage("telegram", user, action=message.text, kind="action"))]


@settings(
    max_examples=200,
    derandomize=True,  # the same 200 messages every run: the test never depends on luck
    database=None,  # and writes nothing into the repository
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(conversation=conversations())
def test_no_secret_reaches_the_log_the_state_the_nlu_the_volunteers_or_a_log_line(
    recorded: Recorded, conversation: tuple[str, Message]
) -> None:
    way, message = conversation
    user = "citizen-" + _letters(next(recorded.users))  # no digits: "citizen-123" would match a CVV
    recorded.nlu.seen.clear()
    recorded.embedder.seen.clear()
    recorded.logs.lines.clear()

    responses = _converse(recorded, way, message, user)

    assert all("internal_error" not in r.warnings for r in responses), message.text
    if way != "button":  # the user is warned; nobody warns about a payload nobody typed
        assert any("sensitive_data" in r.warnings for r in responses), message.text
    database = recorded.app.database
    assert database is not None
    with database.session() as session:
        rows = session.scalars(select(ConversationLog).where(ConversationLog.id > recorded.last_log_id)).all()
        states = session.scalars(select(ConversationStateRow)).all()
    assert rows, "every turn is journaled"
    recorded.last_log_id = max(r.id for r in rows)
    for row in rows:
        _assert_user_text_clean("conversation log", row.redacted_text.removeprefix("<button 1:"), message)
    for response in responses:
        _assert_user_text_clean("response.redacted_text", response.redacted_text.removeprefix("<button 1:"), message)
    state = recorded.app.assistant.states.load("telegram", user)
    for question in state.recent_questions:
        _assert_user_text_clean("saved recent questions", question, message)
    for row in states:
        _assert_no_secret("conversation_states row", str(row.data), message)
    for text in recorded.nlu.seen:
        _assert_user_text_clean("NLU input", text, message)
    for text in recorded.embedder.seen:
        _assert_user_text_clean("embedder input", text, message)
    for response in responses:
        if response.handover is None:
            continue
        if response.handover.kind == "relay":
            _assert_user_text_clean("relay note", response.handover.note.replace("**", ""), message)
        else:
            _assert_no_secret("handover card", response.handover.note, message)
            for line in response.handover.note.splitlines():
                if line.startswith("• "):
                    _assert_user_text_clean("question on the card", line, message)
    if way in ("card", "relay"):
        assert any(r.handover is not None and r.handover.kind == "open" for r in responses), message.text
    assert any(line.startswith("hocvu.turns") for line in recorded.logs.lines), "the log journal wrote the turn"
    assert any(line.startswith("sqlalchemy.engine") for line in recorded.logs.lines), "SQL was logged"
    for line in recorded.logs.lines:
        _assert_no_secret("log line", line, message, short=False)
        # Ids, times and scores in a line would match a 3-digit CVV; user text is in its quoted strings.
        for quoted in QUOTED.findall(TIMESTAMP.sub("", line)):
            _assert_no_secret("string in a log line", quoted, message)


def test_a_megabyte_message_is_answered_in_under_a_second(recorded: Recorded) -> None:
    logging.getLogger().setLevel(logging.WARNING)  # measure the core, not the capture of SQL at DEBUG
    try:
        for text in ("1 " * 500_000, "mk " * 300_000, "mật khẩu là " * 100_000, "cccd 0791 2345 6789 " * 50_000):
            started = time.perf_counter()
            response = recorded.app.assistant.handle(UserMessage("telegram", "long-writer", text=text))
            assert time.perf_counter() - started < 1.0, text[:12]
            assert "internal_error" not in response.warnings
            assert len(response.redacted_text) < 1400
            assert "0791" not in response.redacted_text
    finally:
        logging.getLogger().setLevel(logging.DEBUG)
