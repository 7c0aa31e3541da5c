"""The learning loop as a user lives it: terminal chat, restarts, stale buttons, review, privacy."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot import actions
from bot import tutor as tutor_module
from bot.certificates import CertificateFacts, make_code
from bot.learning import CertificateRecord, UserRef
from bot.messages import Response, UserMessage
from bot.tutor import DELETE_CONFIRM_SECONDS
from channels.terminal import TerminalChat
from errors import ConfigError
from hocvu.app import App, build_app
from hocvu.cli import main
from hocvu.config import DatabaseSettings, Settings
from knowledge_base.learning import LETTERS, QuizQuestion, load_quizzes
from storage.database import Database
from storage.models import Base, ConversationLog, QuizAnswerRow, User
from tests.conftest import TEST_SECRET_KEY
from tests.support.fakes import FakeEmbedder
from tests.support.learning_support import database_url, open_app

REPO = Path(__file__).resolve().parent.parent
QUIZZES, _ = load_quizzes(REPO / "knowledge_base" / "quizzes")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("learning-data")  # the fake-embedder index is built here once


@pytest.fixture
def app(settings: Settings, data_dir: Path, tmp_path: Path) -> Iterator[App]:
    with database_url("sqlite", tmp_path) as url:
        built = open_app(settings, data_dir, url)
        yield built
        assert built.database is not None
        built.database.dispose()


class User_:
    """One chat user; remembers the last buttons so tests can press them."""

    def __init__(self, app: App, user_id: str = "lan", channel: str = "zalo") -> None:
        self.app, self.user_id, self.channel = app, user_id, channel
        self.last: Response | None = None

    def say(self, message: str) -> Response:
        self.last = self.app.assistant.handle(UserMessage(self.channel, self.user_id, text=message))
        return self.last

    def press(self, payload: str) -> Response:
        self.last = self.app.assistant.handle(UserMessage(self.channel, self.user_id, action=payload, kind="action"))
        return self.last

    def buttons(self, response: Response | None = None) -> dict[str, str]:
        response = response or self.last
        assert response is not None
        return {b.label: b.action for r in response.replies for row in r.buttons for b in row}


def _question_in(response: Response) -> QuizQuestion:
    """The quiz question the response asks (the last one shown)."""
    shown = [q for q in QUIZZES.values() for r in response.replies if q.text(response.lang).question in r.text]
    assert shown, response.plain_text()
    return shown[-1]


def _count(app: App, model: type[Base]) -> int:
    assert app.database is not None
    with app.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_from_first_message_to_a_verified_certificate_in_the_terminal(
    app: App, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    finals = [q for q in QUIZZES.values() if q.topic == "vneid" and q.final][:10]
    answers = [LETTERS[q.answer] for q in finals]
    answers[3] = LETTERS[(finals[3].answer + 1) % 3]  # one mistake: 90 % still passes
    script = ["xin chào", "/quiz", "làm bài kiểm tra cuối khóa về VNeID", "nguyễn thị lan", *answers, "/progress"]
    assert app.assistant.tutor is not None
    app.assistant.tutor.clock = lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    stdout = io.StringIO()
    TerminalChat(app.assistant, io.StringIO("\n".join(script) + "\n"), stdout, image_dir=data_dir / "img").run()
    out = stdout.getvalue()
    assert "bạn muốn in tên nào trên chứng chỉ" in out and "hiện ra cho bất kỳ ai kiểm tra mã" in out
    assert "Tên in trên chứng chỉ: Nguyễn Thị Lan" in out  # capitalised as a name is written
    assert "Câu 1/10" in out and "Câu 10/10" in out
    assert "Bạn trả lời đúng 9/10 câu (90 %)" in out
    assert "Chúc mừng" in out and "Người học: Nguyễn Thị Lan" in out
    code = re.search(r"Mã xác minh: (HV-[A-Z2-7]{8}-[A-Z2-7]{8}-[A-Z2-7]{8})", out)
    assert code, out
    image = re.search(r"🖼 (\S+\.png)", out)
    assert image and Path(image.group(1)).read_bytes().startswith(b"\x89PNG")
    assert "🎓 đã có chứng chỉ" in out  # /progress

    # Anyone can check the code in the chat: it names its holder, to compare with their ID document.
    verify = io.StringIO()
    TerminalChat(app.assistant, io.StringIO(f"kiểm tra chứng chỉ {code.group(1)}\n"), verify, user_id="employer").run()
    assert "Chứng chỉ hợp lệ, cấp cho: Nguyễn Thị Lan" in verify.getvalue()
    assert "Ứng dụng VNeID" in verify.getvalue() and "90 %" in verify.getvalue()
    # The operator, with the database: the holder; with the key alone: only that this key signed it.
    assert app.database is not None
    monkeypatch.setenv("HOCVU_CONFIG", str(_config_file(app, data_dir)))
    monkeypatch.setenv("DATABASE_URL", app.database.url)
    assert main(["cert", "verify", code.group(1)]) == 0
    assert capsys.readouterr().out == (
        f"VALID {code.group(1)}: issued to Nguyễn Thị Lan, The VNeID app, score 90 %, issued 01/12/2026\n"
    )
    assert main(["cert", "verify", "--offline", code.group(1)]) == 0
    offline = capsys.readouterr().out
    assert offline.startswith(f"SIGNED {code.group(1)} with this server's current key")
    assert "cannot show who holds it" in offline and "Nguyễn" not in offline
    assert main(["cert", "verify", code.group(1)[:-1] + ("A" if code.group(1)[-1] != "A" else "B")]) == 1


def _config_file(app: App, data_dir: Path) -> Path:
    path = data_dir / "config.yml"
    path.write_text(f"data_dir: {data_dir}\ncontent_dir: {REPO / 'knowledge_base'}\n", encoding="utf-8")
    return path


def _pass_final(user: User_, topic: str = "vneid", wrong: int = 1, name: str | None = None) -> Response:
    """Take `topic`'s final test, answering `wrong` questions wrongly; gives `name` if it is asked for."""
    response = user.say(f"/quiz final {topic}")
    if "in tên nào trên chứng chỉ" in response.plain_text():
        response = user.say(name) if name else user.press(user.buttons()["Bỏ qua"])
    for position in range(10):
        question = _question_in(response)
        options = len(question.text("vi").options)
        response = user.say(LETTERS[(question.answer + (1 if position < wrong else 0)) % options])
    return response


def _code(response: Response) -> str:
    found = re.search(r"HV-[A-Z2-7]{8}-[A-Z2-7]{8}-[A-Z2-7]{8}", response.plain_text())
    assert found, response.plain_text()
    return found.group(0)


def test_failing_the_final_test_gives_no_certificate(app: App) -> None:
    user = User_(app)
    response = _pass_final(user, wrong=10)
    assert "0/10" in response.plain_text()
    assert "HV-" not in response.plain_text() and all(r.image_png is None for r in response.replies)
    assert "🔁 Thi lại" in user.buttons()


def test_the_name_on_certificates_is_asked_once_before_the_first_final_test(app: App) -> None:
    user = User_(app)
    asked = user.say("/quiz final vneid")
    text = asked.plain_text()
    assert "in tên nào trên chứng chỉ" in text and "Câu 1/" not in text
    assert "được lưu cùng chứng chỉ và hiện ra cho bất kỳ ai kiểm tra mã chứng chỉ" in text  # what consent means
    assert 'chứng chỉ sẽ in "Học viên Bình dân học vụ số"' in text
    # Something else than a name: answered as usual, and the name is asked again before the test.
    assert "in tên nào" not in user.say("cảm ơn nhiều nhé, lát nữa tôi thi?").plain_text()
    assert "in tên nào" in user.say("làm bài kiểm tra cuối khóa VNeID").plain_text()
    started = user.press(user.buttons()["Bỏ qua"])
    assert 'Chứng chỉ sẽ in "Học viên Bình dân học vụ số"' in started.plain_text()
    assert "Câu 1/10" in started.plain_text()
    user.say("/quiz stop")
    again = user.say("/quiz final an toan")  # asked once: never again
    assert "in tên nào" not in again.plain_text() and "Câu 1/10" in again.plain_text()
    # Shown and changed with /cert name, on certificates already issued too.
    assert "Học viên Bình dân học vụ số" in user.say("/cert name").plain_text()
    assert "Tên in trên chứng chỉ: **Trần Văn Minh**" in user.say("/cert name Trần Văn Minh").replies[0].text
    assert "chỉ gồm chữ cái" in user.say("/cert name 0912345678").plain_text()
    assert "chỉ gồm chữ cái" in user.say("/cert name Đã xác minh: Bộ Công an").plain_text()
    assert "Trần Văn Minh" in user.say("/cert name").plain_text()


def test_a_code_certifies_its_holder_by_name_and_only_what_was_issued(app: App) -> None:
    lan, employer = User_(app, "lan"), User_(app, "employer")
    code = _code(_pass_final(lan, name="Nguyễn Thị Lan"))
    checked = employer.say(f"kiểm tra chứng chỉ {code}").plain_text()
    assert "Chứng chỉ hợp lệ, cấp cho: Nguyễn Thị Lan" in checked and "giấy tờ tùy thân" in checked
    lan.say("/cert name Lan Nguyễn")  # the holder corrected their name: every check shows the new one
    assert "cấp cho: Lan Nguyễn" in employer.say(f"/cert {code}").plain_text()
    # Signed with our key but never issued (a stolen key, a lost database): not a certificate.
    assert app.assistant.tutor is not None
    forged = make_code(CertificateFacts("vneid", 100, date(2026, 12, 1), 4242), app.assistant.tutor.keys.current)
    assert "không hợp lệ" in employer.say(f"kiểm tra chứng chỉ {forged}").plain_text()


def test_deleting_ones_data_revokes_ones_certificates(
    app: App, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lan, employer = User_(app, "lan"), User_(app, "employer")
    code = _code(_pass_final(lan, name="Nguyễn Thị Lan"))
    asked = lan.say("/deletemydata")
    assert "thu hồi" in asked.plain_text()
    assert "Đã xóa toàn bộ dữ liệu" in lan.press(lan.buttons(asked)["🗑 Xóa hết"]).plain_text()
    checked = employer.say(f"kiểm tra chứng chỉ {code}").plain_text()
    assert "đã bị thu hồi" in checked and "Nguyễn Thị Lan" not in checked and "hợp lệ" not in checked
    assert app.database is not None
    with app.database.engine.connect() as connection:
        dump = "\n".join(str(row) for t in Base.metadata.sorted_tables for row in connection.execute(select(t)))
    assert "Nguyễn Thị Lan" not in dump and code in dump  # the code stays, as revoked: no name, no user
    monkeypatch.setenv("HOCVU_CONFIG", str(_config_file(app, data_dir)))
    monkeypatch.setenv("DATABASE_URL", app.database.url)
    assert main(["cert", "verify", code]) == 1
    assert capsys.readouterr().out == f"REVOKED {code}: its holder deleted their data\n"


def test_one_certificate_per_topic_and_only_a_better_score_replaces_it(app: App) -> None:
    lan, employer = User_(app, "lan"), User_(app, "employer")
    first = _code(_pass_final(lan, name="Nguyễn Thị Lan", wrong=2))  # 80 %
    again = _pass_final(lan, wrong=2)  # 80 % again: nothing new
    assert "vẫn là chứng chỉ 80 %" in again.plain_text() and _code(again) == first
    worse = _pass_final(lan, wrong=1)  # 90 %: a better score replaces it
    better = _code(worse)
    assert better != first and "thay cho chứng chỉ 80 %" in worse.plain_text()
    listed = lan.say("/cert")
    assert [r for r in listed.replies if r.image_png is not None] and _code(listed) == better
    assert sum(r.image_png is not None for r in listed.replies) == 1
    assert "đã được thay bằng một chứng chỉ mới" in employer.say(f"kiểm tra chứng chỉ {first}").plain_text()
    assert "hợp lệ, cấp cho: Nguyễn Thị Lan" in employer.say(f"kiểm tra chứng chỉ {better}").plain_text()


def test_certificate_images_are_drawn_once(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # /cert used to draw every PNG on every call: 30 certificates took 4.8 s.
    drawn: list[str] = []
    real = tutor_module.certificate_png

    def counting(record: CertificateRecord, lang: str) -> bytes:
        drawn.append(record.code)
        return real(record, lang)

    monkeypatch.setattr(tutor_module, "certificate_png", counting)
    lan = User_(app, "lan")
    codes = [_code(_pass_final(lan, topic, name="Lan")) for topic in ("vneid", "an toan")]
    assert drawn == codes  # once each, when issued
    first = [r.image_png for r in lan.say("/cert").replies if r.image_png]
    second = [r.image_png for r in lan.say("/cert").replies if r.image_png]
    assert len(first) == 2 and first == second and drawn == codes  # read back, not drawn again
    lan.say("/lang")
    lan.press(lan.buttons()["🇬🇧 English"])
    assert len([r for r in lan.say("/cert").replies if r.image_png]) == 2 and len(drawn) == 4  # once per language
    lan.say("/cert name Lan Tran")  # what the images show changed: drawn again, once
    lan.say("/cert")
    lan.say("/cert")
    assert len(drawn) == 6


def test_a_restart_in_the_middle_of_a_quiz_loses_nothing(
    app: App, settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    user = User_(app)
    question = _question_in(user.say("/quiz vneid"))
    second = _question_in(user.say(LETTERS[question.answer]))
    assert app.database is not None
    restarted = open_app(settings, data_dir, app.database.url)  # a new process on the same SQLite file
    again = User_(restarted)
    response = again.say("/quiz")
    assert "làm tiếp" in response.plain_text() and "Câu 2/5" in response.plain_text()
    assert _question_in(response) == second
    response = again.say(LETTERS[second.answer])
    assert "Đúng rồi" in response.plain_text() and "Câu 3/5" in response.plain_text()


def test_stale_buttons_double_taps_and_answers_without_a_quiz(app: App) -> None:
    user = User_(app)
    first = user.say("/quiz vneid")
    tap = user.buttons(first)["A"]
    assert "Câu 2/5" in user.press(tap).plain_text()
    double = user.press(tap)  # the same button again
    assert "đã trả lời câu này rồi" in double.plain_text() and "Câu 2/5" in double.plain_text()
    old_quiz_button = user.buttons()["B"]
    user.say("/quiz thanh toan")  # a new quiz replaces the old one
    stale = user.press(old_quiz_button)
    assert "đã kết thúc" in stale.plain_text()
    user.say("/quiz stop")
    no_quiz = user.press(old_quiz_button)
    assert "đã kết thúc" in no_quiz.plain_text() and "/5" not in no_quiz.plain_text()
    assert _count(app, QuizAnswerRow) == 1  # only the first tap was scored
    # A letter typed with no quiz running is never scored: the user is told there is no quiz.
    reply = user.say("B").plain_text()
    assert "Bạn chưa làm bài kiểm tra nào" in reply and "Đúng" not in reply and "Sai" not in reply
    assert _count(app, QuizAnswerRow) == 1


def test_typed_answers_on_text_only_channels(app: App) -> None:
    user = User_(app)
    question = _question_in(user.say("làm bài kiểm tra về VNeID"))
    assert question.id == "vneid-q01"
    assert "Đúng rồi" in user.say("bo cong an").plain_text()  # the option's words, without diacritics
    question = _question_in(user.last)  # type: ignore[arg-type]
    right = question.text("vi").options[question.answer]
    assert "Đúng rồi" in user.say(right).plain_text()  # with diacritics
    question = _question_in(user.last)  # type: ignore[arg-type]
    assert "Đúng rồi" in user.say(str(question.answer + 1)).plain_text()  # a number
    wrong = user.say(f"đáp án {LETTERS[(_question_in(user.last).answer + 1) % 3]}")  # type: ignore[arg-type]
    assert "Chưa đúng" in wrong.plain_text() and any("📄" in label for label in user.buttons(wrong))
    # Options keep their numbers 1, 2, 3 on numbered-button channels; the article link comes after them.
    assert [b.label for r in wrong.replies for row in r.buttons for b in row][:3] == ["A", "B", "C"]


def test_a_wrongly_answered_question_comes_back_for_review(app: App) -> None:
    assert app.assistant.tutor is not None
    clock = [datetime(2026, 11, 21, 9, 0, tzinfo=UTC)]
    app.assistant.tutor.clock = lambda: clock[0]
    user = User_(app)
    missed = _question_in(user.say("/quiz an toan"))
    user.say(LETTERS[(missed.answer + 1) % 3])
    assert "Hôm nay chưa có câu nào cần ôn" in user.say("ôn tập").plain_text()
    clock[0] += timedelta(hours=3)
    back = user.say("xin chào")  # an unfinished quiz is offered first
    assert "làm dở" in back.plain_text() and "Câu 2/5" in user.press(user.buttons(back)["▶️ Làm tiếp"]).plain_text()
    user.say("/quiz stop")
    clock[0] += timedelta(days=1)  # the user comes back the next day
    greeting = user.say("xin chào")
    assert "1 câu cần ôn tập" in greeting.plain_text()
    response = user.press(user.buttons(greeting)["📝 Ôn tập"])
    assert _question_in(response) == missed and "Ôn tập" in response.plain_text()
    assert "Đúng rồi" in user.say(LETTERS[missed.answer]).plain_text()
    assert "Hôm nay chưa có câu nào cần ôn" in user.say("/review").plain_text()
    progress = user.say("tôi học đến đâu rồi").plain_text()
    assert "An toàn trên mạng: nắm vững 1/" in progress


def test_delete_my_data_really_deletes_after_confirmation(app: App) -> None:
    user, other = User_(app), User_(app, "minh")
    for person in (user, other):
        person.say("xin chào")
        question = _question_in(person.say("/quiz vneid"))
        person.say(LETTERS[question.answer])
    asked = user.say("xóa dữ liệu của tôi")
    assert "không thể hoàn tác" in asked.plain_text()
    assert "Đã hủy" in user.press(user.buttons(asked)["Không, giữ lại"]).plain_text()
    assert _count(app, User) == 2
    asked = user.say("/deletemydata")
    assert all(len(b.action.encode()) <= actions.MAX_BYTES for r in asked.replies for row in r.buttons for b in row)
    assert "Đã xóa toàn bộ dữ liệu" in user.press(user.buttons(asked)["🗑 Xóa hết"]).plain_text()
    assert app.database is not None
    with app.database.session() as session:
        assert session.scalars(select(User.external_id)).all() == ["minh"]
        minh = session.scalar(select(User.id))
        for table in Base.metadata.sorted_tables:
            if "user_id" in table.c:
                owners = set(session.execute(select(table.c.user_id)).scalars())
                assert owners <= {minh, None}, table.name
    assert "Bạn chưa làm bài kiểm tra nào" in user.say("/progress").plain_text()


def test_a_crafted_or_borrowed_delete_button_deletes_nothing(app: App) -> None:
    user, other = User_(app, "lan"), User_(app, "minh")
    user.say("/quiz vneid")
    now = int(time.time())
    # The button's payload used to be del:y:<time>: anyone could send it and skip the confirmation.
    for crafted in (f"1:del:y:{now}", f"1:del:y:{now}:AAAAAAAAAAAAAAAAAAAAAA", f"1:del:y:{now + 60}:"):
        assert "hết hạn hoặc không hợp lệ" in user.press(crafted).plain_text()
    minhs = other.buttons(other.say("/deletemydata"))["🗑 Xóa hết"]  # signed for Minh, pressed by Lan
    assert "hết hạn hoặc không hợp lệ" in user.press(minhs).plain_text()
    assert "hết hạn hoặc không hợp lệ" in User_(app, "minh", channel="telegram").press(minhs).plain_text()
    assert app.assistant.tutor is not None
    lans = user.buttons(user.say("/deletemydata"))["🗑 Xóa hết"]
    later = app.assistant.tutor.clock() + timedelta(seconds=DELETE_CONFIRM_SECONDS + 1)
    app.assistant.tutor.clock = lambda: later
    assert "hết hạn hoặc không hợp lệ" in user.press(lans).plain_text()  # her own, too late
    assert app.assistant.tutor.store.open_session(UserRef("zalo", "lan")) is not None  # her quiz is still there


def test_a_first_format_certificate_still_verifies_after_its_short_key_is_retired(
    settings: Settings,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issued by the first format (commit 3bd0a88) with a 22-character key, which no longer may sign.
    code, old_key = "HV-O2BLCMBZ-5LWGQDIE", "tests-only-signing-key"
    keys = {"HOCVU_SECRET_KEY": TEST_SECRET_KEY, "HOCVU_OLD_SECRET_KEYS": old_key}
    url = f"sqlite:///{tmp_path / 'hocvu.db'}"
    configured = dataclasses.replace(settings, data_dir=data_dir, database=DatabaseSettings(url=url), secrets=keys)
    app = build_app(configured, embedder=FakeEmbedder())
    assert app.assistant.tutor is not None and app.database is not None
    issued = CertificateRecord(code, "online_safety", 90, "Lan", datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    assert app.assistant.tutor.store.add_certificate(UserRef("zalo", "lan"), issued) is not None
    checked = User_(app, "employer").say(f"kiểm tra chứng chỉ {code}").plain_text()
    assert "Chứng chỉ hợp lệ, cấp cho: Lan" in checked and "An toàn trên mạng" in checked
    for name, value in {**keys, "HOCVU_CONFIG": str(_config_file(app, data_dir)), "DATABASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    assert main(["cert", "verify", code]) == 0
    assert capsys.readouterr().out.startswith(f"VALID {code}: issued to Lan, Online safety, score 90 %")
    # Without the database the short key proves nothing: it could have been recovered from this very code.
    assert main(["cert", "verify", "--offline", code]) == 1
    assert capsys.readouterr().out.startswith(f"UNPROVEN {code}: signed with a retired key too short")
    app.database.dispose()


def test_a_signing_key_shorter_than_32_random_bytes_stops_the_start(settings: Settings, tmp_path: Path) -> None:
    short = dataclasses.replace(
        settings,
        data_dir=tmp_path,
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'hocvu.db'}"),
        secrets={"HOCVU_SECRET_KEY": "tests-only-signing-key"},
    )
    with pytest.raises(
        ConfigError, match="HOCVU_SECRET_KEY is 22 characters long; a signing key needs 32 random bytes"
    ):
        build_app(short, embedder=FakeEmbedder())


def test_a_message_with_an_id_number_never_reaches_the_database(app: App) -> None:
    user = User_(app)
    response = user.say("số căn cước của tôi là 001203004567, mật khẩu là Abc@12345 cài VNeID thế nào")
    assert "sensitive_data" in response.warnings
    assert app.database is not None
    with app.database.engine.connect() as connection:
        dump = "\n".join(str(row) for row in connection.execute(text("SELECT * FROM conversation_log")))
        dump += "\n".join(str(row) for row in connection.execute(text("SELECT * FROM conversation_states")))
    assert "001203004567" not in dump and "Abc@12345" not in dump
    assert "[số định danh đã ẩn]" in dump
    assert _count(app, ConversationLog) == 1


async def test_two_messages_at_once_never_double_score_on_postgresql(
    settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    with database_url("postgresql", tmp_path) as url:
        app = open_app(settings, data_dir, url)
        user = User_(app)
        question = _question_in(user.say("/quiz vneid"))
        button = user.buttons()[LETTERS[question.answer]]
        barrier = threading.Barrier(4, timeout=30)

        def send(kind: str) -> Response:
            barrier.wait()
            if kind == "tap":
                message = UserMessage("zalo", "lan", action=button, kind="action")
            else:
                message = UserMessage("zalo", "lan", text=LETTERS[question.answer])
            return app.assistant.handle(message)

        results = await asyncio.gather(*(asyncio.to_thread(send, k) for k in ("tap", "tap", "typed", "tap")))
        taps = [r for r, kind in zip(results, ("tap", "tap", "typed", "tap"), strict=True) if kind == "tap"]
        assert sum("Đúng rồi" in r.plain_text() for r in taps) <= 1
        assert all("Đúng rồi" in r.plain_text() or "đã trả lời câu này rồi" in r.plain_text() for r in taps)
        assert app.database is not None
        with app.database.session() as db_session:
            positions = list(db_session.scalars(select(QuizAnswerRow.position)))
        # Question 1 is scored exactly once. A typed "B" carries no question number: when it is handled
        # after a tap was scored, it answers the question now open (question 2), which is not a double score.
        assert positions.count(0) == 1 and len(positions) == len(set(positions)) <= 2
        assert app.assistant.tutor is not None
        session = app.assistant.tutor.store.open_session(UserRef("zalo", "lan"))
        assert session is not None and session.position == len(positions)
        assert app.database is not None
        app.database.dispose()


def test_killing_the_process_in_the_middle_of_a_quiz_loses_nothing(
    real_app: App, settings: Settings, tmp_path: Path
) -> None:
    """`hocvu chat` killed with SIGKILL after an answer; a new process continues at the next question."""
    del real_app  # requested only so the search index exists in the data dir
    # `hocvu chat` with the test settings (their data dir holds the index real_app built).
    program = (
        "import dataclasses, sys; from pathlib import Path; from hocvu.cli import cmd_chat; "
        "from hocvu.config import load_settings; "
        "sys.exit(cmd_chat(dataclasses.replace(load_settings(), data_dir=Path(sys.argv[1])), None))"
    )
    command = [sys.executable, "-c", program, str(settings.data_dir)]
    env = {
        **os.environ,
        "HOCVU_CONFIG": str(settings.path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "HOCVU_SECRET_KEY": TEST_SECRET_KEY,
    }
    first = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert first.stdin is not None
    first.stdin.write(b"/quiz vneid\nB\n")  # vneid-q01: B is right
    first.stdin.flush()
    db = Database(env["DATABASE_URL"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if db.is_current():
                with db.session() as session:
                    if session.scalar(select(func.count()).select_from(QuizAnswerRow)):
                        break
        except Exception:
            pass  # the first process is still creating the database
        time.sleep(0.1)
    else:
        pytest.fail("the first answer was never stored")
    first.send_signal(signal.SIGKILL)  # no clean shutdown, no flush
    first.wait(timeout=10)
    db.dispose()

    second = subprocess.run(command, input=b"/quiz\n", capture_output=True, env=env, timeout=120)
    out = second.stdout.decode()
    assert "làm tiếp" in out and "Câu 2/5" in out, out


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("tôi học đến đâu rồi", "progress"),
        ("xem tiến độ học tập", "progress"),
        ("my progress", "progress"),
        ("ôn tập", "review"),
        ("on lai", "review"),
        ("làm bài kiểm tra về dịch vụ công", "start_quiz"),
        ("lam bai trac nghiem thanh toan", "start_quiz"),
        ("take a quiz on scams", "start_quiz"),
        ("final test on scams", "start_quiz"),
        ("thi cuối khóa VNeID", "start_quiz"),
        ("xoá dữ liệu của tôi", "delete_data"),
        ("delete my data", "delete_data"),
    ],
)
def test_learning_requests_in_plain_words(app: App, message: str, intent: str) -> None:
    assert User_(app).say(message).intent == intent


@pytest.mark.parametrize(
    "message",
    [
        "kết quả xổ số hôm nay",
        "kiểm tra số dư tài khoản ngân hàng",
        "thi bằng lái xe ở đâu",
        "cách xóa dữ liệu trên điện thoại",
        "ôn tập thi đại học",
    ],
)
def test_questions_that_merely_look_like_learning_requests_are_not_taken_for_them(app: App, message: str) -> None:
    assert User_(app).say(message).intent not in ("progress", "review", "start_quiz", "delete_data")


def test_a_lesson_quiz_counts_towards_progress(app: App) -> None:
    user = User_(app)
    response = user.say("/quiz lesson-vneid-01")
    assert "Câu 1/3" in response.plain_text()
    for _ in range(3):
        response = user.say(LETTERS[_question_in(response).answer])
    assert "3/3" in response.plain_text()
    assert "Bài học đã làm kiểm tra: 1/" in user.say("/progress").plain_text()


def test_a_vietnamese_user_keeps_vietnamese_through_help_ok_and_a_lesson_quiz_by_its_id(app: App) -> None:
    user = User_(app)
    user.say("/lang")
    assert "tiếng Việt" in user.press(user.buttons()["🇻🇳 Tiếng Việt"]).plain_text()
    for message in ("/help", "help", "OK"):
        assert user.say(message).lang == "vi", message
    for message in ("/quiz lesson-vneid-01", "lesson-vneid-01"):
        response = user.say(message)
        assert response.lang == "vi" and "Câu 1/3" in response.plain_text(), message
    assert user.say("ok").lang == "vi"


@pytest.mark.parametrize("unclear", ["ko biết", "khong biet", "chịu", "bac khong biet"])
def test_an_unclear_answer_during_a_quiz_shows_the_open_question_again(app: App, unclear: str) -> None:
    user = User_(app)
    question = _question_in(user.say("/quiz lesson-vneid-01"))
    again = user.say(unclear)
    assert "Không sao" in again.plain_text() and "Cảm ơn bạn đã cho biết" not in again.plain_text()
    assert _question_in(again) == question and "Câu 1/3" in again.plain_text()
    # something retrieval cannot answer either: the fallback, then the open question again
    lost = user.say("hình như là cái ấy ấy, bà quên mất rồi")
    assert _question_in(lost) == question
    # and the quiz goes on where it was
    assert "Câu 2/3" in user.say(LETTERS[question.answer]).plain_text()


def test_an_unclear_reply_without_a_quiz_is_not_taken_for_an_answer(app: App) -> None:
    user = User_(app)
    response = user.say("không biết")
    assert "Câu 1/" not in response.plain_text() and response.intent != "quiz_answer"


@pytest.mark.parametrize("message", ["thôi", "thôi không hỏi nữa", "thoi khong hoi nua", "dừng"])
def test_stopping_in_the_middle_of_a_quiz_closes_it_kindly(app: App, message: str) -> None:
    user = User_(app)
    user.say("/quiz lesson-vneid-01")
    stopped = user.say(message)
    assert "Đã dừng bài kiểm tra" in stopped.plain_text() and stopped.intent == "stop"
    assert "kênh này" not in stopped.plain_text()
    assert "Bạn chưa làm bài kiểm tra nào" in user.say("B").plain_text()  # no quiz open any more


def test_an_emergency_during_a_quiz_is_answered_and_the_quiz_waits(app: App) -> None:
    user = User_(app)
    question = _question_in(user.say("/quiz lesson-vneid-01"))
    assert "gọi ngay 115" in user.say("dau nguc kho tho").plain_text()
    assert "Đúng rồi" in user.say(LETTERS[question.answer]).plain_text()


@pytest.mark.parametrize("question", ["chứng chỉ của em đâu rồi", "chung chi cua toi dau", "bà muốn xem chứng chỉ"])
def test_asking_where_ones_certificate_is_lists_it(app: App, question: str) -> None:
    lan = User_(app, "lan")
    assert "Bạn chưa có chứng chỉ nào" in lan.say(question).plain_text()
    code = _code(_pass_final(lan, name="Nguyễn Thị Lan"))
    listed = lan.say(question)
    assert listed.lang == "vi" and not listed.fallback
    assert _code(listed) == code and [r for r in listed.replies if r.image_png is not None]


def test_where_is_my_certificate_in_english_and_other_certificates_are_questions(app: App) -> None:
    user = User_(app, "john")
    assert "You have no certificate yet" in user.say("where is my certificate").plain_text()
    for question in ("where is my birth certificate", "xóa chứng chỉ của tôi"):
        response = user.say(question)
        assert response.intent != "certificates" and "chưa có chứng chỉ nào" not in response.plain_text(), question


# -- a quiz asked for in words without a topic starts at once (Tutor.start_asked) -------------------------------


@pytest.mark.parametrize(
    "asked", ["cháu ơi cho ông thi thử xem nào", "bác muốn làm thử bài trắc nghiệm", "take a quiz please"]
)
def test_a_quiz_asked_without_a_topic_starts_at_once_and_says_how_to_choose_another(app: App, asked: str) -> None:
    user = User_(app)
    started = user.say(asked)
    question = _question_in(started)
    assert question.topic == "vneid" and "/quiz" in started.replies[0].text  # the first topic not yet mastered
    assert "/5" in user.say(LETTERS[question.answer]).plain_text()  # a letter answers it


@pytest.mark.parametrize("said", ["con kiểm tra rồi", "bà làm bài kiểm tra xong rồi ạ"])
def test_saying_a_check_or_a_test_was_done_starts_no_quiz(app: App, said: str) -> None:
    response = User_(app).say(said)
    assert "Câu 1/" not in response.plain_text() and response.intent != "quiz_answer"


def test_a_quiz_asked_without_a_topic_is_on_the_next_topic_not_mastered(app: App) -> None:
    user = User_(app)
    issued = CertificateRecord("HV-TEST-VNEID-0001", "vneid", 100, None, datetime.now(UTC))
    app.assistant.tutor.store.add_certificate(UserRef("zalo", "lan"), issued)  # type: ignore[union-attr]
    assert _question_in(user.say("cho bà làm bài kiểm tra nhé")).topic == "public_services"


def test_a_quiz_asked_after_reading_an_article_is_on_its_topic(app: App) -> None:
    user = User_(app)
    user.press(actions.encode(actions.Verb.ARTICLE, "pay-vietqr-transfer"))
    started = user.say("giờ cho bà làm bài kiểm tra với")
    assert _question_in(started).topic == "digital_payments" and "vừa đọc" in started.replies[0].text


def test_quiz_command_chooses_another_topic_until_the_quiz_is_begun_then_resumes_it(app: App) -> None:
    user = User_(app)
    question = _question_in(user.say("cho tôi làm bài kiểm tra"))
    menu = user.say("/quiz")  # nothing answered yet: the chooser, as the line under the first question says
    assert "Thanh toán số" in user.buttons(menu) and "Câu 1/" not in menu.plain_text()
    assert "Câu 2/5" in user.say(LETTERS[question.answer]).plain_text()  # a letter still answers the open quiz
    resumed = user.say("/quiz")
    assert "làm tiếp" in resumed.plain_text() and "Câu 2/5" in resumed.plain_text()


def test_an_option_pointed_at_by_its_place_is_an_answer_and_two_places_are_not(app: App) -> None:
    user = User_(app)
    first = _question_in(user.say("/quiz vneid"))
    scored = user.say("chắc là cái thứ hai, bà cũng không chắc lắm")
    expected = "Đúng rồi" if first.answer == 1 else f"Đáp án đúng là {LETTERS[first.answer]}"
    assert expected in scored.plain_text() and "Câu 2/5" in scored.plain_text()
    second = _question_in(scored)
    unsure = user.say("cái thứ nhất hay thứ ba nhỉ")
    assert _question_in(unsure) == second and "Câu 2/5" in unsure.plain_text()  # not scored: the question again
    assert "Câu 3/5" in user.say("I think it's the third one").plain_text()
