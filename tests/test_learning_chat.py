"""The learning loop as a user lives it: terminal chat, restarts, stale buttons, review, privacy."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.learning import UserRef
from bot.messages import Response, UserMessage
from channels.terminal import TerminalChat
from hocvu.app import App
from hocvu.cli import main
from hocvu.config import Settings
from knowledge_base.learning import LETTERS, QuizQuestion, load_quizzes
from storage.database import Database
from storage.models import Base, ConversationLog, QuizAnswerRow, User
from tests.conftest import TEST_SECRET_KEY
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
    script = ["xin chào", "/quiz", "làm bài kiểm tra cuối khóa về VNeID", *answers, "/progress"]
    stdout = io.StringIO()
    TerminalChat(app.assistant, io.StringIO("\n".join(script) + "\n"), stdout, image_dir=data_dir / "img").run()
    out = stdout.getvalue()
    assert "Câu 1/10" in out and "Câu 10/10" in out
    assert "Bạn trả lời đúng 9/10 câu (90 %)" in out
    assert "Chúc mừng" in out
    code = re.search(r"Mã xác minh: (HV-[A-Z2-7]{8}-[A-Z2-7]{8})", out)
    assert code, out
    image = re.search(r"🖼 (\S+\.png)", out)
    assert image and Path(image.group(1)).read_bytes().startswith(b"\x89PNG")
    assert "🎓 đã có chứng chỉ" in out  # /progress

    # Anyone can check the code in the chat, and the operator offline with the signing key.
    verify = io.StringIO()
    TerminalChat(app.assistant, io.StringIO(f"kiểm tra chứng chỉ {code.group(1)}\n"), verify, user_id="employer").run()
    assert "Chứng chỉ hợp lệ" in verify.getvalue() and "Ứng dụng VNeID" in verify.getvalue()
    monkeypatch.setenv("HOCVU_CONFIG", str(_config_file(app, data_dir)))
    assert main(["cert", "verify", code.group(1)]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main(["cert", "verify", code.group(1)[:-1] + ("A" if code.group(1)[-1] != "A" else "B")]) == 1


def _config_file(app: App, data_dir: Path) -> Path:
    path = data_dir / "config.yml"
    path.write_text(f"data_dir: {data_dir}\ncontent_dir: {REPO / 'knowledge_base'}\n", encoding="utf-8")
    return path


def test_failing_the_final_test_gives_no_certificate(app: App) -> None:
    user = User_(app)
    response = user.say("/quiz final vneid")
    for _ in range(10):
        question = _question_in(response)
        response = user.say(LETTERS[(question.answer + 1) % 3])
    assert "0/10" in response.plain_text()
    assert "HV-" not in response.plain_text() and all(r.image_png is None for r in response.replies)
    assert "🔁 Thi lại" in user.buttons()


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
