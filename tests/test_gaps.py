"""`hocvu kb gaps`: a period's unanswered questions, grouped as a person would group them, ranked by users.

The conversation log below is written as the assistant writes it (the guard's redacted text, the intents
bot/handlers.py journals), with times chosen around Viet Nam's month boundaries. The grouping runs the
real embedding model: a fake one would prove nothing about which questions end up together.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.orm import Session

from bot import regions
from bot.guard import scan
from bot.reports import ZONE, parse_period
from hocvu.app import App
from hocvu.cli import main
from hocvu.config import Settings
from knowledge_base import gaps
from storage import gaps_store
from storage.database import Database
from storage.gaps_store import gap_candidates
from storage.models import ConversationLog, User
from storage.stores import SqlJournal
from tests.conftest import Chat
from tests.support.learning_support import database_url

HANOI = regions.find_provinces("Ha Noi")[0].code
HOAN_KIEM = regions.find_communes("Hoan Kiem", HANOI)[0].code

EXAM_RESULTS = [  # one missing topic, four users, typed with and without diacritics
    "tra cứu điểm thi tốt nghiệp THPT ở đâu",
    "tra cuu diem thi tot nghiep thpt nhu the nao",
    "làm sao xem điểm thi tốt nghiệp của con trên mạng",
    "xem diem thi thpt quoc gia online o dau",
]
HOSPITAL = [  # another, three questions from two users
    "cách đặt lịch khám bệnh online ở bệnh viện",
    "dat lich kham benh truc tuyen nhu the nao",
    "đặt khám bệnh viện qua app thế nào",
]
GOLD = ["giá vàng hôm nay bao nhiêu", "gia vang hom nay", "giá vàng sjc hôm nay", "hôm nay giá vàng thế nào"]
WEATHER = "thời tiết Hà Nội ngày mai"
OTP_QUESTION = "nhập mã OTP 482913 vào app ngân hàng báo sai là sao"  # answered, then 👎
ID_QUESTION = "cccd 012345678901 của tôi bị khóa tài khoản vneid"  # answered with low confidence
TRANSFER = "cách chuyển tiền cho người thân ở nước ngoài"  # answered, then "không hữu ích" typed
SINGLETONS = [WEATHER, OTP_QUESTION, ID_QUESTION, TRANSFER]


def vn(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    """A moment in Viet Nam in 2026, as the database stores it (naive UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(ZONE)).astimezone(UTC).replace(tzinfo=None)


class Log:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.users: dict[str, int] = {}

    def user(self, name: str, province: int | None = None, commune: int | None = None) -> int:
        if name not in self.users:
            now = datetime(2026, 10, 1)
            row = User(
                channel="telegram",
                external_id=name,
                role="citizen",
                consent=False,
                created_at=now,
                updated_at=now,
                province_code=province,
                commune_code=commune,
            )
            self.session.add(row)
            self.session.flush()
            self.users[name] = row.id
        return self.users[name]

    def turn(
        self,
        name: str,
        text: str,
        at: datetime,
        *,
        intent: str | None = None,
        article_id: str | None = None,
        fallback: bool = False,
        score: float = 0.0,
    ) -> None:
        redacted = text if text.startswith("<") else scan(text).text  # as the assistant stores it
        self.session.add(
            ConversationLog(
                user_id=self.users[name] if name in self.users else self.user(name),
                channel="telegram",
                created_at=at,
                redacted_text=redacted,
                lang="vi",
                intent=intent,
                article_id=article_id,
                fallback=fallback,
                score=score,
                latency_ms=5.0,
                warnings="",
            )
        )
        self.session.flush()

    def dont_know(self, name: str, text: str, at: datetime, score: float = 0.9) -> None:
        self.turn(name, text, at, fallback=True, score=score)

    def answered(self, name: str, text: str, at: datetime, article_id: str, score: float) -> None:
        self.turn(name, text, at, intent="ask_question", article_id=article_id, score=score)


def write_november(db: Database) -> None:
    """The log of November 2026 in Viet Nam, with what must not count around it."""
    with db.session() as session:
        log = Log(session)
        log.user("u1", HANOI, HOAN_KIEM)
        log.user("u2", HANOI)
        log.dont_know("u4", EXAM_RESULTS[3], vn(1, 0, 10))  # 31 October 17:10 UTC: already November in Viet Nam
        for name, text, day in zip(("u1", "u2", "u3"), EXAM_RESULTS, (3, 9, 17), strict=False):
            log.dont_know(name, text, vn(day))
        log.dont_know("u5", HOSPITAL[0], vn(5))
        log.dont_know("u6", HOSPITAL[1], vn(6))
        log.dont_know("u5", HOSPITAL[2], vn(20))
        for day, text in enumerate(GOLD, 10):  # four questions, but one user
            log.dont_know("u7", text, vn(day))
        log.dont_know("u8", WEATHER, vn(30, 23, 30))  # 30 November 16:30 UTC: still November in Viet Nam
        log.answered("u9", OTP_QUESTION, vn(12), "pay-smart-otp", 0.99)
        log.turn(
            "u9", "<button fb:pay-smart-otp:->", vn(12, 10, 1), intent="feedback_negative", article_id="pay-smart-otp"
        )
        log.answered("u10", ID_QUESTION, vn(13), "vneid-forgot-passcode", 0.96)
        log.answered("u11", TRANSFER, vn(14), "pay-vietqr-transfer", 0.99)
        log.turn("u11", "không hữu ích", vn(14, 10, 2), intent="feedback_negative")
        # Not gaps: a confident answer, one praised, a button, a message that was only a secret, October's
        # and December's questions, December's 👎 of a November answer.
        log.answered("u12", "cách đăng ký vneid mức 2", vn(15), "vneid-register-level2", 0.99)
        log.answered("u12", "quên mật khẩu vneid", vn(16), "vneid-forgot-passcode", 0.99)
        log.turn("u12", "<button fb:vneid-forgot-passcode:+>", vn(16, 10, 1), intent="feedback_positive")
        log.turn("u12", "<button stale>", vn(16, 11), fallback=True)
        log.dont_know("u13", "482913", vn(18))
        log.dont_know("u14", "tra cứu điểm thi tốt nghiệp THPT ở đâu vậy", vn(31, 23, 50, month=10))
        log.dont_know("u14", "xem điểm thi tốt nghiệp ở đâu", vn(1, 0, 30, month=12))
        log.answered("u15", "chuyển tiền nhầm tài khoản", vn(28), "pay-wrong-transfer", 0.99)
        log.turn("u15", "<button fb:pay-wrong-transfer:->", vn(1, 9, month=12), intent="feedback_negative")


@pytest.fixture(params=["sqlite", "postgresql"])
def november(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_url(request.param, tmp_path) as url:
        db = Database(url)
        db.upgrade(quiet=True)
        write_november(db)
        yield db
        db.dispose()


# -- the candidates, in SQL ----------------------------------------------------------------------------


def test_the_store_and_the_grouping_name_the_reasons_alike() -> None:
    assert (gaps_store.DONT_KNOW, gaps_store.THUMBS_DOWN, gaps_store.LOW_CONFIDENCE) == gaps.KINDS


def test_the_candidates_are_the_periods_unanswered_disliked_and_doubtful_questions(november: Database) -> None:
    start, end = parse_period("2026-11").bounds()
    found = gap_candidates(november, start, end, below=0.975)
    by_text = {c.text: c.kinds for c in found}
    redacted_otp, redacted_id = scan(OTP_QUESTION).text, scan(ID_QUESTION).text
    assert by_text == {
        **{text: {gaps.DONT_KNOW} for text in [*EXAM_RESULTS, *HOSPITAL, *GOLD, WEATHER, "[mã OTP đã ẩn]"]},
        redacted_otp: {gaps.THUMBS_DOWN},
        redacted_id: {gaps.LOW_CONFIDENCE},
        TRANSFER: {gaps.THUMBS_DOWN},
    }
    assert "482913" not in redacted_otp and "012345678901" not in redacted_id  # only redacted text is stored
    assert len({c.user for c in found if c.text in EXAM_RESULTS}) == 4


def test_a_province_or_a_commune_keeps_its_users_questions(november: Database) -> None:
    start, end = parse_period("2026-11").bounds()
    in_hanoi = gap_candidates(november, start, end, below=0.975, province_code=HANOI)
    assert sorted(c.text for c in in_hanoi) == sorted(EXAM_RESULTS[:2])
    in_hoan_kiem = gap_candidates(november, start, end, below=0.975, commune_codes=[HOAN_KIEM])
    assert [c.text for c in in_hoan_kiem] == [EXAM_RESULTS[0]]


# -- the export, with the real model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def config(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped configuration on a SQLite log of November 2026 of the tests' own."""
    folder = tmp_path_factory.mktemp("gaps")
    db = Database(f"sqlite:///{folder / 'hocvu.db'}")
    db.upgrade(quiet=True)
    write_november(db)
    db.dispose()
    path = folder / "config.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "content_dir": str(settings.content_dir.resolve()),
                "data_dir": str(settings.data_dir.resolve()),
                "database": {"url": f"sqlite:///{folder / 'hocvu.db'}"},
            }
        ),
        encoding="utf-8",
    )
    return path


def gaps_command(config: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--config", str(config), "kb", "gaps", *args], stdout=out), out.getvalue()


@pytest.fixture(scope="module")
def csv_rows(config: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    output = tmp_path_factory.mktemp("csv") / "gaps.csv"
    code, said = gaps_command(config, "--period", "2026-11", "--format", "csv", "--output", str(output))
    assert code == 0 and "group(s)" in said
    return list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))


def test_the_export_groups_the_questions_as_a_person_would(csv_rows: list[dict[str, str]]) -> None:
    groups = [set(row["examples"].split(" | ")) for row in csv_rows]
    redacted = {scan(text).text for text in SINGLETONS}
    # Singletons: one user, one question each, in the order of their text.
    assert groups == [set(EXAM_RESULTS), set(HOSPITAL), set(GOLD), *({text} for text in sorted(redacted))]


def test_groups_are_ranked_by_distinct_users_not_by_questions(csv_rows: list[dict[str, str]]) -> None:
    figures = [(row["users"], row["questions"]) for row in csv_rows[:3]]
    assert figures == [("4", "4"), ("2", "3"), ("1", "4")]  # the gold price: 4 questions, but one user
    assert [row["rank"] for row in csv_rows] == [str(n) for n in range(1, len(csv_rows) + 1)]


def test_each_group_says_why_and_names_the_closest_article(csv_rows: list[dict[str, str]], real_app: App) -> None:
    by_example = {row["examples"]: row for row in csv_rows}
    otp = by_example[scan(OTP_QUESTION).text]
    assert (otp["thumbs_down"], otp["dont_know"], otp["low_confidence"]) == ("1", "0", "0")
    assert otp["closest_article"] in {"safe-otp", "pay-smart-otp"}  # what a reader would call closest
    assert by_example[scan(ID_QUESTION).text]["low_confidence"] == "1"
    assert by_example[TRANSFER]["thumbs_down"] == "1"
    for row in csv_rows:
        assert row["closest_article"] in real_app.kb
        assert row["closest_title"] == real_app.kb.get(row["closest_article"], "vi").title
        assert row["topic_guess"] == real_app.kb.get(row["closest_article"], "vi").topic
        assert 0 < float(row["closest_score"]) < 2


def test_examples_are_redacted(csv_rows: list[dict[str, str]]) -> None:
    text = "\n".join(row["examples"] for row in csv_rows)
    assert "[mã OTP đã ẩn]" in text and "[số định danh đã ẩn]" in text
    assert "482913" not in text and "012345678901" not in text
    assert "[mã OTP đã ẩn]" not in {row["examples"] for row in csv_rows}  # a message that was only a secret


def test_the_markdown_is_an_article_skeleton_per_group(config: Path, tmp_path: Path) -> None:
    output = tmp_path / "gaps.md"
    code, _ = gaps_command(config, "--period", "2026-11", "--format", "md", "--output", str(output))
    assert code == 0
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Content gaps 2026-11")
    sections = re.findall(r"^## (\d+)\. .*?```markdown\n(.*?)```", text, flags=re.S | re.M)
    assert [int(rank) for rank, _ in sections] == list(range(1, len(sections) + 1))
    skeleton = sections[0][1]
    assert "- users: 4; questions: 4 (4 don't know)" in text
    _, front, body = skeleton.split("---\n", 2)
    fields = yaml.safe_load(front)
    assert set(fields) == {"id", "topic", "lang", "title", "questions", "related", "sources", "last_verified"}
    assert set(fields["questions"]) == set(EXAM_RESULTS)
    assert fields["topic"] in {"vneid", "public_services", "digital_payments", "online_safety", "digital_skills"}
    assert fields["related"] and all("TODO" in str(fields[key]) for key in ("id", "title", "last_verified"))
    assert "TODO" in fields["sources"][0]
    assert [line for line in body.splitlines() if line.startswith("## ")] == [
        "## Các bước",
        "## Nếu gặp lỗi",
        "## Lưu ý",
    ]


def test_without_output_the_export_goes_to_standard_output(config: Path) -> None:
    code, said = gaps_command(config, "--period", "2026-10", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(said)))
    assert [row["examples"] for row in rows] == ["tra cứu điểm thi tốt nghiệp THPT ở đâu vậy"]


# -- what a person gets wrong --------------------------------------------------------------------------


def test_a_period_without_gaps_writes_a_file_that_says_so(config: Path, tmp_path: Path) -> None:
    for fmt in ("md", "csv"):
        output = tmp_path / f"none.{fmt}"
        code, said = gaps_command(config, "--period", "2026-Q1", "--format", fmt, "--output", str(output))
        assert code == 0 and "no gaps in 2026-Q1" in said
        assert "No question of 2026-Q1 went unanswered" in output.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "there is no month 13"),
        (["--period", "nov"], "'nov' is not a period"),
        (["--province", "Nghe Ann Tinh"], "the closest names: Nghệ An"),
        (["--province", "Atlantis"], "no province is named 'Atlantis'"),
        (["--province", "Ha Noi", "--commune", "Atlantis"], "Hà Nội has no commune or ward named 'Atlantis'"),
        (["--province", "Ha Noi", "--commune", "Phuong Hoang Kim"], "may be Phường Hoàn Kiếm, Phường Hoàng Mai"),
        (["--output", "/no/such/folder/gaps.md"], "the folder /no/such/folder does not exist"),
        (["--output", "/tmp"], "is a folder"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(
    config: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--period" not in args:
        args = ["--period", "2026-11", *args]
    code, _ = gaps_command(config, *args)
    assert code == 2
    assert message in capsys.readouterr().err


# -- what the assistant journals is what the export reads ---------------------------------------------


def test_the_assistants_own_log_feeds_the_gaps(real_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hocvu.db'}")
    db.upgrade(quiet=True)
    monkeypatch.setattr(real_app.assistant, "journal", SqlJournal(db))
    started = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    asker = Chat(real_app, "gaps-weather")
    assert asker.say("thời tiết hà nội ngày mai thế nào").fallback
    disliking = Chat(real_app, "gaps-otp")
    question = "mã otp vneid 482913 nhập vào báo sai"
    assert not disliking.say(question).fallback
    disliking.press("👎")
    found = gap_candidates(db, started, datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1), below=0)
    db.dispose()
    assert {c.text: c.kinds for c in found} == {
        "thời tiết hà nội ngày mai thế nào": {gaps.DONT_KNOW},
        scan(question).text: {gaps.THUMBS_DOWN},
    }
