"""`hocvu report`: figures computed by the database equal those counted by plain Python over generated rows, on
SQLite and PostgreSQL; periods are Viet Nam's calendar; every form holds the same numbers; bad input is named."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageStat
from sqlalchemy import insert

from bot import regions
from bot.people import Region
from bot.reports import (
    COUNT_FIELDS,
    Counts,
    Definition,
    Period,
    ReportError,
    find_region,
    parse_period,
)
from errors import ConfigError
from hocvu import cli, report_cli
from hocvu.config import load_settings
from hocvu.report_cli import CHART_SIZE, View, render_csv, render_html, render_png, render_xlsx
from storage.database import Database
from storage.models import (
    AnswerFeedback,
    Broadcast,
    CertificateRow,
    ConversationLog,
    Delivery,
    QuizSessionRow,
    User,
)
from storage.report_store import SqlReports

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HANOI, HANOI_COMMUNES = 1, [c.code for c in regions.communes_of(1)[:4]]
HUE = next(p.code for p in regions.provinces() if p.short == "Huế")
HUE_COMMUNES = [c.code for c in regions.communes_of(HUE)[:2]]
DEFINITION = Definition(pass_percent=80, top_articles=3)
TOPICS = ("vneid", "public_services", "digital_payments", "online_safety", "digital_skills")
ARTICLES = [f"article-{n}" for n in range(8)]


def utc(text: str) -> datetime:
    """A naive UTC moment from a Viet Nam local time, as the database stores it."""
    return datetime.fromisoformat(text).replace(tzinfo=VN).astimezone(UTC).replace(tzinfo=None)


# -- generated rows, and the figures plain Python finds in them --------------------------------------------


@dataclass
class Rows:
    users: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    quizzes: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    broadcasts: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def insert(self, db: Database) -> None:
        with db.write() as connection:
            for model, rows in (
                (User, self.users),
                (ConversationLog, self.log),
                (QuizSessionRow, self.quizzes),
                (CertificateRow, self.certificates),
                (AnswerFeedback, self.feedback),
                (Broadcast, self.broadcasts),
                (Delivery, self.deliveries),
            ):
                if rows:
                    connection.execute(insert(model.__table__), rows)


def moment(rng: random.Random) -> datetime:
    """A naive UTC moment between August and December 2026, a few on the edges of a Viet Nam day."""
    local = datetime(2026, 8, 1) + timedelta(seconds=rng.randrange(int(timedelta(days=140).total_seconds())))
    if rng.random() < 0.15:  # around midnight in Viet Nam, which is the day before in UTC
        local = local.replace(hour=rng.choice((0, 23)), minute=30)
    return local.replace(tzinfo=VN).astimezone(UTC).replace(tzinfo=None)


def generate(seed: int = 7, users: int = 80) -> Rows:
    rng = random.Random(seed)
    rows = Rows()
    places: list[tuple[int | None, int | None]] = [
        *((HANOI, c) for c in HANOI_COMMUNES),
        *((HUE, c) for c in HUE_COMMUNES),
        (HANOI, None),  # a province but no commune: "unknown" within Hà Nội
        (None, None),  # no place at all
    ]
    for uid in range(1, users + 1):
        province, commune = rng.choice(places)
        rows.users.append(
            {
                "id": uid,
                "channel": "telegram",
                "external_id": str(1000 + uid),
                "role": "citizen",
                "consent": False,
                "created_at": moment(rng),
                "updated_at": datetime(2026, 12, 1),
                "province_code": province,
                "commune_code": commune,
                "age_band": rng.choice((None, "u40", "40_59", "60p", "60p")),
                "certificate_name_answered": False,
            }
        )
    for number in range(1, 900):
        uid = rng.choice([None, *range(1, users + 1)])  # None: a turn of a user who was forgotten
        kind = rng.random()
        intent, article, fallback, text = "greet", None, False, "xin chào"
        if kind < 0.45:
            intent, article, text = "ask_question", rng.choice(ARTICLES), "cach dang ky vneid"
        elif kind < 0.55:
            intent, article, text = "ask_question", rng.choice(ARTICLES), "<button a:article-1>"  # a pressed one
        elif kind < 0.75:
            intent, fallback, text = rng.choice((None, "out_of_scope", "ask_question")), True, "gia vang hom nay"
        rows.log.append(
            {
                "id": number,
                "user_id": uid,
                "channel": "telegram",
                "created_at": moment(rng),
                "redacted_text": text,
                "lang": "vi",
                "intent": intent,
                "article_id": article,
                "fallback": fallback,
                "score": 0.5,
                "latency_ms": 3.0,
                "warnings": "",
            }
        )
    for number in range(1, 160):
        total = rng.choice((5, 10))
        status = rng.choice(("finished", "finished", "finished", "open", "abandoned"))
        rows.quizzes.append(
            {
                "id": number,
                "user_id": rng.randrange(1, users + 1),
                "kind": rng.choice(("topic", "final", "lesson", "review")),
                "topic": rng.choice(TOPICS),
                "ref": "",
                "question_ids": [f"q{i}" for i in range(total)],
                "position": total if status == "finished" else rng.randrange(total),
                "correct": rng.randrange(total + 1),
                "status": status,
                "lang": "vi",
                "started_at": datetime(2026, 8, 1),
                "finished_at": moment(rng) if status == "finished" else None,
            }
        )
    number = 0
    for uid in range(1, users + 1):
        for topic in TOPICS:
            if rng.random() < 0.5:
                number += 1
                rows.certificates.append(
                    {
                        "id": number,
                        "user_id": uid,
                        "code": f"HV-{number:08d}",
                        "topic": topic,
                        "score_percent": 90,
                        "issued_at": moment(rng),
                    }
                )
    for number in range(1, 120):
        rows.feedback.append(
            {
                "id": number,
                "user_id": rng.randrange(1, users + 1),
                "article_id": rng.choice(ARTICLES),
                "positive": rng.random() < 0.7,
                "created_at": moment(rng),
            }
        )
    number = 0
    for broadcast in range(1, 8):
        rows.broadcasts.append(
            {"id": broadcast, "text": "Lịch học", "created_by": "cli:test", "created_at": moment(rng), "status": "done"}
        )
        recipients = rng.sample(range(1, users + 1), 20)
        for uid in recipients:
            number += 1
            rows.deliveries.append(
                _delivery(number, broadcast, str(1000 + uid), rng.choice(("sent", "sent", "failed")))
            )
        number += 1  # a recipient who is no user of ours: "unknown"
        rows.deliveries.append(_delivery(number, broadcast, f"9{broadcast}", "blocked"))
    return rows


def _delivery(number: int, broadcast: int, external: str, status: str) -> dict[str, Any]:
    return {
        "id": number,
        "broadcast_id": broadcast,
        "channel": "telegram",
        "user_id": external,
        "status": status,
        "attempts": 1,
        "next_attempt_at": datetime(2026, 8, 1),
    }


def local_period(moment_utc: datetime | None, period: Period) -> bool:
    """Whether a stored moment falls in `period`, judged on the row's own Viet Nam date (not the bounds)."""
    if moment_utc is None:
        return False
    local = moment_utc.replace(tzinfo=UTC).astimezone(VN)
    if period.kind == "month":
        return (local.year, local.month) == (period.year, period.number)
    if period.kind == "quarter":
        return (local.year, (local.month - 1) // 3 + 1) == (period.year, period.number)
    return local.year == period.year


def before_end(moment_utc: datetime, period: Period) -> bool:
    return local_period(moment_utc, period) or moment_utc.replace(tzinfo=UTC).astimezone(VN).date() < period.first_day


def expected(rows: Rows, period: Period, region: Region | None) -> dict[tuple[int | None, int | None], Counts]:
    """Every area's figures, by plain Python over the rows: what the database must agree with."""
    place = {u["id"]: (u["province_code"], u["commune_code"]) for u in rows.users}
    by_key = {("telegram", u["external_id"]): u["id"] for u in rows.users}

    def inside(key: tuple[int | None, int | None]) -> bool:
        if region is None:
            return True
        if region.province_code is not None:
            return key[0] == region.province_code
        return key[1] in region.commune_codes

    figures: dict[tuple[int | None, int | None], Counter[str]] = defaultdict(Counter)
    active: dict[tuple[int | None, int | None], set[int]] = defaultdict(set)
    held: dict[int, int] = Counter(
        c["user_id"]
        for c in rows.certificates
        if c["topic"] in DEFINITION.certificates and before_end(c["issued_at"], period)
    )
    for user in rows.users:
        key = place[user["id"]]
        if not before_end(user["created_at"], period):
            continue
        f = figures[key]
        f["registered"] += 1
        f["new_users"] += local_period(user["created_at"], period)
        elderly = user["age_band"] == "60p"
        skilled = held.get(user["id"], 0) >= len(DEFINITION.certificates)
        f["elderly"] += elderly
        f["skilled"] += skilled
        f["skilled_elderly"] += skilled and elderly
    for turn in rows.log:
        if not local_period(turn["created_at"], period):
            continue
        key = place[turn["user_id"]] if turn["user_id"] else (None, None)
        if turn["user_id"]:
            active[key].add(turn["user_id"])
        answered = (
            turn["intent"] == "ask_question"
            and not turn["fallback"]
            and not turn["redacted_text"].startswith("<button")
        )
        figures[key]["answered"] += answered
        figures[key]["dont_know"] += turn["fallback"]
        figures[key]["questions"] += answered or turn["fallback"]
    for key, users in active.items():
        figures[key]["active_users"] = len(users)
    for quiz in rows.quizzes:
        if quiz["status"] == "finished" and quiz["kind"] != "review" and local_period(quiz["finished_at"], period):
            f = figures[place[quiz["user_id"]]]
            f["quiz_attempts"] += 1
            f["quiz_passed"] += quiz["correct"] * 100 >= 80 * len(quiz["question_ids"])
    for certificate in rows.certificates:
        figures[place[certificate["user_id"]]]["certificates"] += local_period(certificate["issued_at"], period)
    for feedback in rows.feedback:
        if local_period(feedback["created_at"], period):
            figures[place[feedback["user_id"]]]["feedback_up" if feedback["positive"] else "feedback_down"] += 1
    created = {b["id"]: b["created_at"] for b in rows.broadcasts}
    reached: dict[tuple[int | None, int | None], set[int]] = defaultdict(set)
    for delivery in rows.deliveries:
        if not local_period(created[delivery["broadcast_id"]], period):
            continue
        uid = by_key.get((delivery["channel"], delivery["user_id"]))
        key = place[uid] if uid else (None, None)
        reached[key].add(delivery["broadcast_id"])
        figures[key]["recipients"] += 1
        figures[key]["delivered"] += delivery["status"] == "sent"
    for key, broadcasts in reached.items():
        figures[key]["broadcasts"] = len(broadcasts)
    return {key: Counts(**dict(f)) for key, f in figures.items() if inside(key) and any(f.values())}


def expected_topics(rows: Rows, period: Period, region: Region | None) -> dict[str, tuple[int, int, int]]:
    place = {u["id"]: (u["province_code"], u["commune_code"]) for u in rows.users}
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for quiz in rows.quizzes:
        key = place[quiz["user_id"]]
        if region and region.province_code is not None and key[0] != region.province_code:
            continue
        if quiz["status"] == "finished" and quiz["kind"] != "review" and local_period(quiz["finished_at"], period):
            found[quiz["topic"]][0] += 1
            found[quiz["topic"]][1] += quiz["correct"] * 100 >= 80 * len(quiz["question_ids"])
    for certificate in rows.certificates:
        key = place[certificate["user_id"]]
        if region and region.province_code is not None and key[0] != region.province_code:
            continue
        found[certificate["topic"]][2] += local_period(certificate["issued_at"], period)
    return {topic: (a, p, c) for topic, (a, p, c) in found.items() if a or p or c}


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def rows(db: Database) -> Rows:
    generated = generate()
    generated.insert(db)
    return generated


# -- the figures ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-11", "2026-Q4", "2026-Q3", "2026"])
@pytest.mark.parametrize("where", ["country", "province", "commune"])
def test_every_figure_equals_plain_python_over_the_rows(db: Database, rows: Rows, text: str, where: str) -> None:
    period = parse_period(text)
    region = {
        "country": None,
        "province": Region(province_code=HANOI),
        "commune": Region(commune_codes=(HANOI_COMMUNES[0],)),
    }[where]
    report = SqlReports(db, DEFINITION).report(period, region)
    got = {(a.province_code, a.commune_code): a.now for a in report.communes if not a.now.empty}
    assert got == expected(rows, period, region)
    got_before = {(a.province_code, a.commune_code): a.before for a in report.communes if not a.before.empty}
    assert got_before == expected(rows, period.previous(), region)
    # Roll-ups: sums of the communes' counts, except broadcasts, counted once per level.
    want = expected(rows, period, region)
    for name in COUNT_FIELDS:
        if name != "broadcasts":
            assert getattr(report.total.now, name) == sum(getattr(c, name) for c in want.values()), name
    created = {b["id"]: b["created_at"] for b in rows.broadcasts}
    assert report.total.now.broadcasts <= len([b for b in created.values() if local_period(b, period)])
    topics = {
        f.topic: (f.attempts, f.passed, f.certificates)
        for f in report.topics
        if f.attempts or f.passed or f.certificates
    }
    if region is None or region.province_code is not None:
        assert topics == expected_topics(rows, period, region)


def test_users_without_a_commune_are_counted_as_unknown_never_dropped(db: Database, rows: Rows) -> None:
    report = SqlReports(db, DEFINITION).report(parse_period("2026"), None)
    keys = {(a.province_code, a.commune_code) for a in report.communes}
    assert (HANOI, None) in keys and (None, None) in keys
    assert report.total.now.registered == len(rows.users)
    view = View(report, "vi", lambda a: a)
    unknown = [r for r in view.rows() if r.commune == "chưa rõ"]
    assert {r.province for r in unknown} >= {"Hà Nội", "chưa rõ"}


def test_the_top_articles_are_ranked_in_each_area(db: Database, rows: Rows) -> None:
    period = parse_period("2026-Q4")
    report = SqlReports(db, DEFINITION).report(period, None)
    counted = Counter(
        t["article_id"]
        for t in rows.log
        if local_period(t["created_at"], period)
        and t["intent"] == "ask_question"
        and not t["fallback"]
        and not t["redacted_text"].startswith("<button")
    )
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert list(report.total.top_articles) == ranked


def test_periods_are_viet_nam_calendar_months_and_quarters(db: Database) -> None:
    """A row at 00:30 on the 1st in Viet Nam is still the day before in UTC: it belongs to the new period."""
    rows = Rows(
        users=[
            {
                "id": 1,
                "channel": "telegram",
                "external_id": "1",
                "role": "citizen",
                "consent": False,
                "created_at": utc("2026-06-01 08:00"),
                "updated_at": utc("2026-06-01 08:00"),
                "province_code": HANOI,
                "commune_code": HANOI_COMMUNES[0],
                "certificate_name_answered": False,
            }
        ]
    )
    for number, local in enumerate(
        ("2026-09-30 23:30", "2026-10-01 00:30", "2026-11-30 23:30", "2026-12-01 00:30", "2026-12-31 23:59"), 1
    ):
        rows.log.append(
            {
                "id": number,
                "user_id": 1,
                "channel": "telegram",
                "created_at": utc(local),
                "redacted_text": "cach dang ky vneid",
                "lang": "vi",
                "intent": "ask_question",
                "article_id": "vneid-register",
                "fallback": False,
                "score": 1.0,
                "latency_ms": 1.0,
                "warnings": "",
            }
        )
    assert utc("2026-10-01 00:30").day == 30 and utc("2026-12-01 00:30").month == 11  # the day before in UTC
    rows.insert(db)
    reports = SqlReports(db, DEFINITION)
    answered = {
        text: reports.report(parse_period(text), None).total.now.answered
        for text in ("2026-09", "2026-10", "2026-11", "2026-12", "2026-Q3", "2026-Q4")
    }
    assert answered == {"2026-09": 1, "2026-10": 1, "2026-11": 1, "2026-12": 2, "2026-Q3": 1, "2026-Q4": 4}
    assert reports.report(parse_period("2026-12"), None).total.before.answered == 1  # November's


# -- periods, places, the definition --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026-11", Period(2026, "month", 11)),
        ("11/2026", Period(2026, "month", 11)),
        ("2026-1", Period(2026, "month", 1)),
        ("2026-Q4", Period(2026, "quarter", 4)),
        ("2026q1", Period(2026, "quarter", 1)),
        ("Q2/2026", Period(2026, "quarter", 2)),
        (" 2026 ", Period(2026, "year")),
    ],
)
def test_periods_are_read_as_people_write_them(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2026-00", "26-11", "2026-11-01", "", "tháng này", "1999"])
def test_a_malformed_period_names_the_forms_that_work(text: str) -> None:
    with pytest.raises(ReportError, match=r"period|month|quarter|year"):
        parse_period(text)


def test_periods_step_over_year_ends_and_convert_their_bounds_to_utc() -> None:
    assert parse_period("2026-01").previous() == Period(2025, "month", 12)
    assert parse_period("2026-Q1").previous() == Period(2025, "quarter", 4)
    assert parse_period("2026-12").next() == Period(2027, "month", 1)
    assert parse_period("2026-Q4").bounds() == (datetime(2026, 9, 30, 17), datetime(2026, 12, 31, 17))
    assert Period.containing(datetime(2026, 12, 31, 18, tzinfo=UTC), "quarter") == Period(2027, "quarter", 1)


def test_an_unknown_place_suggests_the_closest_names() -> None:
    with pytest.raises(ReportError, match="Hà Nội"):
        find_region("Ha Noii Xyz", None)
    with pytest.raises(ReportError, match="closest names: Phường Hoàn Kiếm"):
        find_region("Ha Noi", "Hoan Kiam Xyz")
    assert find_region("hn", "hoan kiem") == Region(
        commune_codes=(next(c.code for c in regions.communes_of(HANOI) if c.name == "Phường Hoàn Kiếm"),)
    )
    assert find_region("Ha Noi", None) == Region(province_code=HANOI)


def test_the_definition_is_validated_and_printed(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("reports:\n  basic_skills_certificates: [vneid, vnied]\n  elderly_age_bands: [70p]\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    assert "'vnied', which is no certificate: did you mean 'vneid'?" in str(raised.value)
    assert "'reports.elderly_age_bands' has '70p'" in str(raised.value)
    text = DEFINITION.describe("vi")
    assert "Ứng dụng VNeID" in text and "80%" in text and "Từ 60 tuổi" in text
    assert "all 4 topics" in Definition().describe("en")


# -- the forms ------------------------------------------------------------------------------------------


def _csv_sections(text: str) -> dict[str, list[list[str]]]:
    assert text.startswith("\ufeff")
    found: dict[str, list[list[str]]] = {}
    title = ""
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        if row and row[0].startswith("# "):
            title = row[0][2:]
            found[title] = []
        elif row:
            found[title].append(row)
    return found


def _number(cell: Any) -> Any:
    if cell in ("", None):
        return None
    text = str(cell)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text) if re.fullmatch(r"-?\d+\.\d+", text) else cell


def test_csv_and_xlsx_hold_the_same_numbers_as_the_report(db: Database, rows: Rows) -> None:
    from openpyxl import load_workbook

    report = SqlReports(db, DEFINITION).report(parse_period("2026-Q4"), Region(province_code=HANOI))
    view = View(report, "vi", lambda a: a)
    sections = _csv_sections(render_csv(view))
    book = load_workbook(io.BytesIO(render_xlsx(view)))
    assert set(sections) == set(book.sheetnames)
    for title, csv_rows in sections.items():
        sheet = [[_number(c) for c in row] for row in book[title].iter_rows(values_only=True)]
        assert [[_number(c) for c in row] for row in csv_rows] == sheet, title
    areas = sections["Theo xã, phường"]
    registered = areas[0].index("Người dùng")
    total = next(row for row in areas if row[0] == "Cả tỉnh")
    assert (
        int(total[registered])
        == report.total.now.registered
        == sum(c.registered for c in expected(rows, report.period, report.region).values())
    )


def test_the_html_is_one_file_holding_every_figure(db: Database, rows: Rows) -> None:
    report = SqlReports(db, DEFINITION).report(parse_period("2026-11"), None)
    view = View(report, "en", lambda a: a)
    page = render_html(view)
    assert "Basic digital skills" in page and "Whole country" in page
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", page)
    assert links and all(link.startswith("data:image/png;base64,") for link in links)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    cells = re.findall(r'<td class="n">([^<]*)</td>', page)
    for row in view.rows():
        for figure in report_cli.figures(row):
            assert report_cli._cell(figure) in cells


def test_the_png_is_a_chart_of_the_expected_size_and_not_blank(
    db: Database, rows: Rows, recwarn: pytest.WarningsRecorder
) -> None:
    report = SqlReports(db, DEFINITION).report(parse_period("2026-Q4"), Region(province_code=HANOI))
    image = Image.open(io.BytesIO(render_png(View(report, "vi", lambda a: a))))
    assert image.size == CHART_SIZE
    assert max(ImageStat.Stat(image.convert("L")).var) > 500  # bars and text, not one colour
    assert not [w for w in recwarn if "Glyph" in str(w.message)]  # every Vietnamese letter had a glyph


# -- the command ----------------------------------------------------------------------------------------


def _config(tmp_path: Path, db: Database) -> Path:
    config = tmp_path / "report-config.yml"
    config.write_text(f'data_dir: {tmp_path / "data"}\ndatabase:\n  url: "{db.url}"\n', encoding="utf-8")
    return config


def test_the_command_writes_each_format(
    db: Database, rows: Rows, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db)
    assert cli.main(["--config", str(config), "report", "--period", "2026-Q4", "--province", "ha noi"]) == 0
    table = capsys.readouterr().out
    assert "Báo cáo kỹ năng số: Thành phố Hà Nội, quý 4/2026" in table and "Định nghĩa" in table and "chưa rõ" in table
    for fmt in ("csv", "xlsx", "png", "html"):
        out = tmp_path / f"r.{fmt}"
        code = cli.main(
            [
                "--config",
                str(config),
                "report",
                "--period",
                "2026-11",
                "--format",
                fmt,
                "--output",
                str(out),
                "--lang",
                "en",
            ]
        )
        assert code == 0 and out.stat().st_size > 0, fmt
    assert "Digital skills report: Whole country, month 11/2026" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "there is no month 13"),
        (["--period", "tháng 11"], "is not a period: write 2026-11"),
        (["--period", "2026-11", "--province", "Ha Nol Xy"], "closest names: Hà Nội"),
        (["--period", "2026-11", "--province", "Ha Noi", "--commune", "Hoan Kiam Xyz"], "closest names"),
        (["--period", "2026-11", "--format", "csv", "--output", "/nonexistent/dir/r.csv"], "does not exist"),
        (["--period", "2026-11", "--format", "csv", "--output", "/proc/r.csv"], "cannot write there"),
    ],
)
def test_bad_input_is_named_with_exit_code_2(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert cli.main(["--config", str(_config(tmp_path, db)), "report", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_period_with_no_data_gives_a_report_that_says_so(
    db: Database, rows: Rows, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db)
    for fmt in ("table", "csv", "xlsx", "png", "html"):
        out = tmp_path / f"empty.{fmt}"
        assert (
            cli.main(["--config", str(config), "report", "--period", "2020-03", "--format", fmt, "--output", str(out)])
            == 2
        )
        assert "No data" in capsys.readouterr().err
        assert out.stat().st_size > 0
    assert "Không có dữ liệu" in (tmp_path / "empty.table").read_text(encoding="utf-8")
    assert "Không có dữ liệu" in (tmp_path / "empty.csv").read_text(encoding="utf-8")
    assert "Không có dữ liệu" in (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert Image.open(tmp_path / "empty.png").size == CHART_SIZE
