"""`hocvu report`: figures per commune and period, as a terminal table, CSV, XLSX, a PNG chart or one HTML file.

The figures come from the `Reports` seam (bot/reports.py; storage/report_store.py computes them in SQL); this
module only lays them out. Every form holds the same numbers: shares are percentages rounded to one decimal.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.reports import Area, Counts, Report, ReportError, area_name, find_region, parse_period, region_label
from bot.texts import t
from errors import ConfigError
from hocvu.config import Settings
from knowledge_base.topics import topic_name

if TYPE_CHECKING:
    from storage.database import Database

FORMATS = ("table", "csv", "xlsx", "png", "html")
BINARY = ("xlsx", "png")
CHART_SIZE = (1200, 800)  # pixels of the PNG chart
CHART_DPI = 100
CHART_COMMUNES = 15  # bars: the communes with the most users

# The figures of an area, in the order every form shows them: (Counts attribute, text key, is a share).
FIGURES: tuple[tuple[str, str, bool], ...] = (
    ("registered", "report_col_registered", False),
    ("new_users", "report_col_new_users", False),
    ("active_users", "report_col_active_users", False),
    ("questions", "report_col_questions", False),
    ("answered", "report_col_answered", False),
    ("dont_know", "report_col_dont_know", False),
    ("answered_share", "report_col_answered_share", True),
    ("feedback_up", "report_col_feedback_up", False),
    ("feedback_down", "report_col_feedback_down", False),
    ("quiz_attempts", "report_col_quiz_attempts", False),
    ("quiz_passed", "report_col_quiz_passed", False),
    ("pass_rate", "report_col_pass_rate", True),
    ("certificates", "report_col_certificates", False),
    ("skilled", "report_col_skilled", False),
    ("skilled_share", "report_col_skilled_share", True),
    ("elderly", "report_col_elderly", False),
    ("skilled_elderly", "report_col_skilled_elderly", False),
    ("elderly_skilled_share", "report_col_elderly_skilled_share", True),
    ("broadcasts", "report_col_broadcasts", False),
    ("recipients", "report_col_recipients", False),
    ("delivered", "report_col_delivered", False),
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report", help="digital-skills figures per commune for a month, quarter or year (docs/reports.md)"
    )
    report.add_argument("--period", required=True, help="2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year)")
    report.add_argument("--province", help="only this province (e.g. 'Ha Noi'); default: the whole country")
    report.add_argument("--commune", help="only this commune or ward (with --province when its name is not unique)")
    report.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    report.add_argument(
        "--output", help="the file to write (default: stdout for table, csv and html; hocvu-report-PERIOD.xlsx|png)"
    )
    report.add_argument("--lang", choices=("vi", "en"), help="default: default_language in config.yml (vi)")


# -- the command ----------------------------------------------------------------------------------------


def run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from storage.report_store import STEPS, SqlReports

    period = parse_period(args.period)
    region = find_region(args.province, args.commune)
    lang = args.lang or settings.default_language
    output = _output_path(args.output, args.format, str(period))
    db = _open_database(settings)
    try:
        reports = SqlReports(db, settings.reports.definition(settings.certificates.pass_percent))
        with ProgressBar(STEPS) as step:
            report = reports.report(period, region, step)
    finally:
        db.dispose()
    view = View(report, lang, _article_titles(settings, lang))
    data = render(view, args.format)
    if output is None:
        stdout.write(data if isinstance(data, str) else data.decode())
        stdout.flush()
    else:
        _write(output, data)
        print(f"{output}", file=sys.stderr)
    if report.empty:
        # The file says so too; the exit code lets a script running many reports notice.
        print(f"hocvu report: {t('report_no_data', 'en', region=view.region, period=period)}", file=sys.stderr)
        return 2
    return 0


def _open_database(settings: Settings) -> Database:
    """The database, read only: a report never creates one (the SQLite default gets its indexes on first use)."""
    from storage.database import Database

    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        raise ConfigError(f"there is no database at {url}: nothing to report yet (is DATABASE_URL set?)")
    db = Database(url)
    if not db.is_current():
        if not db.is_sqlite:
            db.dispose()
            raise ConfigError(f"the database schema is not up to date: run `hocvu db upgrade` ({db.safe_url})")
        db.upgrade(quiet=True)
    return db


def _article_titles(settings: Settings, lang: str) -> Callable[[str], str]:
    from knowledge_base.articles import load_articles

    try:
        kb = load_articles(settings.articles_dir)
    except Exception:  # an article being edited must not stop a report: ids stand in for titles
        return lambda article_id: article_id

    def title(article_id: str) -> str:
        return kb.get(article_id, lang).title if article_id in kb else article_id

    return title


class ProgressBar:
    """A progress bar on stderr, only when a person watches it (a terminal); one step per query."""

    def __init__(self, steps: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=steps, file=sys.stderr, disable=not sys.stderr.isatty(), desc="report", leave=False)

    def __enter__(self) -> Callable[[str], None]:
        def step(name: str) -> None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)

        return step

    def __exit__(self, *_exc: object) -> None:
        self.bar.close()


# -- output files ------------------------------------------------------------------------------------------


def _output_path(given: str | None, fmt: str, period: str) -> Path | None:
    """Where to write, checked before any query runs: a path that cannot be written is an error at once."""
    if given is None and fmt not in BINARY:
        return None
    path = Path(given) if given else Path(f"hocvu-report-{period}.{fmt}")
    if path.is_dir():
        raise ReportError(f"--output {path} is a folder: give a file name, e.g. {path / f'report.{fmt}'}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReportError(f"--output {path}: the folder {folder} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise ReportError(f"--output {path}: cannot write there (the file is read-only)")
    try:  # the one sure test, whatever the permissions, mounts or file system say
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}."):
            pass
    except OSError as exc:
        raise ReportError(f"--output {path}: cannot write there ({exc.strerror or exc})") from None
    return path


def _write(path: Path, data: str | bytes) -> None:
    """Whole or not at all: written beside the target and renamed, so a failure leaves no half file."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            os.chmod(temporary, 0o644 & ~_umask())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(f"--output {path}: cannot write there ({exc.strerror or exc})") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# -- what every form shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    level: str  # the level's label: empty for a commune, "Cả tỉnh", "Tổng"
    province: str
    commune: str
    area: Area


class View:
    """A report in one language: its rows, headers and values, shared by every form."""

    def __init__(self, report: Report, lang: str, title_of: Callable[[str], str]) -> None:
        self.report, self.lang, self.title_of = report, lang, title_of
        self.region = region_label(report.region, lang)
        self.period = report.period.label(lang)
        self.previous = report.period.previous().label(lang)

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    @property
    def title(self) -> str:
        return self.t("report_title", region=self.region, period=self.period)

    @property
    def generated(self) -> str:
        from zoneinfo import ZoneInfo

        moment = self.report.generated_at.astimezone(ZoneInfo(self.report.definition.zone))
        return self.t("report_generated", time=f"{moment:%Y-%m-%d %H:%M}", previous=self.previous)

    @property
    def definition(self) -> str:
        return self.report.definition.describe(self.lang)

    @property
    def no_data(self) -> str:
        return self.t("report_no_data", region=self.region, period=self.period)

    def rows(self) -> list[Row]:
        """Communes grouped by province, each province's roll-up after its communes, the total last (once)."""
        found: list[Row] = []
        provinces = {area.province_code: area for area in self.report.provinces}
        several = len(provinces) > 1
        by_commune = self.report.region is not None and self.report.region.commune_codes
        for code, rollup in provinces.items():
            for area in self.report.communes:
                if area.province_code == code:
                    province, commune = area_name(area.province_code, area.commune_code, self.lang)
                    found.append(Row("", province, commune, area))
            if several or not by_commune:
                found.append(Row(self.t("report_whole_province"), area_name(code, None, self.lang)[0], "", rollup))
        if several or not found:
            found.append(Row(self.t("report_total"), self.region, "", self.report.total))
        return found

    def summary_levels(self) -> tuple[str, ...]:
        """The roll-ups' levels, or the commune's when the report is of communes alone."""
        levels = {row.area.level for row in self.rows()} - {"commune"}
        return tuple(levels) or ("commune",)

    def headers(self) -> list[str]:
        return [
            self.t("report_col_level"),
            self.t("report_col_province"),
            self.t("report_col_commune"),
            *(self.t(key) + (" (%)" if is_share else "") for _, key, is_share in FIGURES),
        ]

    def topic_headers(self) -> list[str]:
        before = self.t("report_col_before")
        return [
            self.t("report_col_topic"),
            self.t("report_col_quiz_attempts"),
            self.t("report_col_quiz_passed"),
            self.t("report_col_pass_rate") + " (%)",
            self.t("report_col_certificates"),
            f"{self.t('report_col_quiz_attempts')} ({before})",
            f"{self.t('report_col_pass_rate')} (%) ({before})",
            f"{self.t('report_col_certificates')} ({before})",
        ]

    def topic_rows(self) -> list[list[Any]]:
        return [
            [
                topic_name(topic.topic, self.lang),
                topic.attempts,
                topic.passed,
                percent(topic.pass_rate),
                topic.certificates,
                topic.attempts_before,
                percent(_rate(topic.passed_before, topic.attempts_before)),
                topic.certificates_before,
            ]
            for topic in self.report.topics
        ]

    def article_headers(self) -> list[str]:
        return [self.t("report_col_area"), "#", self.t("report_col_article"), "id", self.t("report_col_times")]

    def article_rows(self, levels: tuple[str, ...] = ("total", "province", "commune")) -> list[list[Any]]:
        found: list[list[Any]] = []
        for row in self.rows():
            if row.area.level not in levels:
                continue
            where = ", ".join(part for part in (row.commune, row.province) if part) or row.level
            if row.area.level == "total":
                where = f"{row.level}: {self.region}"
            for rank, (article_id, times) in enumerate(row.area.top_articles, start=1):
                found.append([where, rank, self.title_of(article_id), article_id, times])
        return found

    def change_headers(self) -> list[str]:
        return [
            self.t("report_col_area"),
            self.t("report_col_figure"),
            self.t("report_col_now"),
            self.t("report_col_before"),
            self.t("report_col_change"),
        ]

    def change_rows(self, levels: tuple[str, ...] = ("total", "province", "commune")) -> list[list[Any]]:
        found: list[list[Any]] = []
        for row in self.rows():
            if row.area.level not in levels:
                continue
            where = ", ".join(part for part in (row.commune, row.province) if part) or row.level
            for name, key, is_share in FIGURES:
                now, before = value(row.area.now, name), value(row.area.before, name)
                label = self.t(key) + (" (%)" if is_share else "")
                found.append([where, label, now, before, change(now, before)])
        return found


def value(counts: Counts, name: str) -> int | float | None:
    """A figure as every form writes it: a count, or a share as a percentage with one decimal (None: no base)."""
    found = getattr(counts, name)
    return percent(found) if isinstance(found, float) or found is None else int(found)


def percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 1)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def change(now: int | float | None, before: int | float | None) -> int | float | None:
    """This period minus the previous one (percentage points for shares); None when either is missing."""
    if now is None or before is None:
        return None
    return round(now - before, 1) if isinstance(now, float) or isinstance(before, float) else now - before


def figures(row: Row) -> list[int | float | None]:
    return [value(row.area.now, name) for name, _, _ in FIGURES]


def _cell(found: Any) -> str:
    if found is None:
        return "-"
    return f"{found:.1f}" if isinstance(found, float) else str(found)


def render(view: View, fmt: str) -> str | bytes:
    renderers: dict[str, Callable[[View], str | bytes]] = {
        "table": render_table,
        "csv": render_csv,
        "xlsx": render_xlsx,
        "png": render_png,
        "html": render_html,
    }
    return renderers[fmt](view)


# -- table ---------------------------------------------------------------------------------------------


def _aligned(headers: list[str], rows: list[list[Any]]) -> Iterator[str]:
    """Text left, numbers right, each column as wide as its widest cell."""
    texts = [[_cell(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in texts)]) for i, h in enumerate(headers)]
    yield "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    yield "  ".join("-" * w for w in widths)
    for row, cells in zip(rows, texts, strict=True):
        yield "  ".join(
            c.ljust(w) if isinstance(v, str) else c.rjust(w) for v, c, w in zip(row, cells, widths, strict=True)
        ).rstrip()


def render_table(view: View) -> str:
    out = [view.title, view.generated, "", f"{view.t('report_definition_heading')}: {view.definition}", ""]
    if view.report.empty:
        return "\n".join([*out, view.no_data, ""])
    rows = view.rows()
    out += [
        view.t("report_section_areas"),
        *_aligned(view.headers(), [[r.level, r.province, r.commune, *figures(r)] for r in rows]),
        "",
    ]
    out += [
        view.t("report_section_change"),
        *_aligned(view.change_headers(), view.change_rows((rows[-1].area.level,))),
        "",
    ]
    if view.report.topics:
        out += [view.t("report_section_topics"), *_aligned(view.topic_headers(), view.topic_rows()), ""]
    articles = view.article_rows(view.summary_levels())
    if articles:
        out += [view.t("report_section_articles"), *_aligned(view.article_headers(), articles), ""]
    return "\n".join(out)


# -- CSV and XLSX: the same sections, the same numbers -------------------------------------------------------


def sections(view: View) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) of each part; CSV writes them one after the other, XLSX one sheet each."""
    info = [
        [view.t("report_title", region=view.region, period=view.period)],
        [view.generated],
        [f"{view.t('report_definition_heading')}: {view.definition}"],
    ]
    if view.report.empty:
        info.append([view.no_data])
    found = [(view.t("report_section_info"), [str(view.report.period)], info)]
    if view.report.empty:
        return found
    return [
        *found,
        (
            view.t("report_section_areas"),
            view.headers(),
            [[r.level, r.province, r.commune, *figures(r)] for r in view.rows()],
        ),
        (view.t("report_section_change"), view.change_headers(), view.change_rows()),
        (view.t("report_section_topics"), view.topic_headers(), view.topic_rows()),
        (view.t("report_section_articles"), view.article_headers(), view.article_rows()),
    ]


def render_csv(view: View) -> str:
    """One file, its sections separated by an empty line, each starting with its title on a line of its own.
    UTF-8 with a byte-order mark, so spreadsheet programs read the Vietnamese right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\n")
    for number, (title, headers, rows) in enumerate(sections(view)):
        if number:
            writer.writerow([])
        writer.writerow([f"# {title}"])
        writer.writerow(headers)
        writer.writerows([["" if c is None else c for c in row] for row in rows])
    return buffer.getvalue()


def render_xlsx(view: View) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    for sheet in book.worksheets:  # the default empty sheet
        book.remove(sheet)
    for title, headers, rows in sections(view):
        sheet = book.create_sheet(_sheet_name(title))
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width, 8) + 2, 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    return "".join(c for c in title if c not in "[]:*?/\\")[:31]


# -- the chart ------------------------------------------------------------------------------------------


class PngCharts:
    """The `Charts` seam of the chat's /stats (bot/stats_chat.py): the same chart as `--format png`. matplotlib's
    settings are process-wide, so one chart is drawn at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def chart(self, report: Report, lang: str) -> bytes:
        with self._lock:
            return render_png(View(report, lang, lambda article_id: article_id))


def render_png(view: View) -> bytes:
    """Bars: the share with basic digital skills, among all users and among the elderly, per commune."""
    import matplotlib
    from matplotlib.figure import Figure  # drawn with Agg by savefig: no window, no pyplot state

    family = _font_family()
    with matplotlib.rc_context({"font.family": family, "font.size": 11}):
        figure = Figure(figsize=(CHART_SIZE[0] / CHART_DPI, CHART_SIZE[1] / CHART_DPI), dpi=CHART_DPI)
        axes = figure.add_subplot()
        title = view.t("report_chart_title", region=view.region, period=view.period)
        communes = [r for r in view.rows() if r.area.level == "commune" and r.area.now.registered]
        if view.report.empty or not communes:
            axes.axis("off")
            axes.text(
                0.5,
                0.5,
                view.no_data if view.report.empty else view.t("report_col_registered") + ": 0",
                ha="center",
                va="center",
                wrap=True,
                fontsize=16,
            )
        else:
            several = len({r.province for r in communes}) > 1
            shown = sorted(communes, key=lambda r: (-r.area.now.registered, r.province, r.commune))[:CHART_COMMUNES]
            bars = [*shown, *[r for r in view.rows() if r.area.level != "commune"][-1:]]
            labels = [
                (f"{r.commune} ({r.province})" if several else r.commune) if r.commune else f"{r.level}: {r.province}"
                for r in bars
            ]
            places = range(len(labels))
            everyone = [value(r.area.now, "skilled_share") or 0.0 for r in bars]
            elderly = [value(r.area.now, "elderly_skilled_share") or 0.0 for r in bars]
            height = 0.4
            axes.barh(
                [p - height / 2 for p in places], everyone, height, label=view.t("report_chart_all"), color="#1f6feb"
            )
            axes.barh(
                [p + height / 2 for p in places], elderly, height, label=view.t("report_chart_elderly"), color="#e8a33d"
            )
            axes.set_yticks(list(places), labels)
            axes.invert_yaxis()  # the most users on top, the roll-up last
            axes.set_xlim(0, 100)
            axes.set_xlabel(view.t("report_chart_axis"))
            axes.legend(loc="lower right")
            axes.grid(axis="x", alpha=0.3)
            if len(communes) > CHART_COMMUNES:
                title += "\n" + view.t("report_chart_others", shown=CHART_COMMUNES, n=len(communes))
        axes.set_title(title)
        figure.text(0.01, 0.01, view.definition, fontsize=8, wrap=True)
        figure.tight_layout(rect=(0, 0.05, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


def _font_family() -> str:
    """Noto Sans from the fontpkg-noto-sans wheel (OFL, Vietnamese glyphs), so the chart reads the same on any
    machine; matplotlib's own DejaVu Sans (which has them too) when the wheel is missing."""
    from matplotlib import font_manager

    try:
        import fontpkg_noto_sans

        path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
        font_manager.fontManager.addfont(str(path))
        return str(font_manager.FontProperties(fname=str(path)).get_name())
    except (ImportError, OSError, RuntimeError):
        return "DejaVu Sans"


# -- HTML ----------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans","DejaVu Sans",Arial,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #c8ccd0;padding:.25em .5em}th{background:#eef1f4;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.sum td{font-weight:bold;background:#f6f8fa}
img{max-width:100%;height:auto}.note{color:#57606a;font-size:.9em}
@media print{body{margin:0;font-size:10pt}h2{break-after:avoid}table{break-inside:auto}tr{break-inside:avoid}}
"""


def _html_table(headers: list[str], rows: list[list[Any]], sums: set[int] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for number, row in enumerate(rows):
        cells = "".join(
            f'<td class="n">{_cell(c)}</td>'
            if c is None or isinstance(c, int | float)
            else f"<td>{html.escape(str(c))}</td>"
            for c in row
        )
        body.append(f'<tr class="sum">{cells}</tr>' if sums and number in sums else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(view: View) -> str:
    """One file a person opens offline or prints: inline CSS, the chart inside as a data: URI, no link out."""
    parts = [
        f'<!DOCTYPE html><html lang="{view.lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(view.title)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{html.escape(view.title)}</h1><p class="note">{html.escape(view.generated)}</p>',
        f"<p><b>{html.escape(view.t('report_definition_heading'))}:</b> {html.escape(view.definition)}</p>",
    ]
    if view.report.empty:
        parts.append(f"<p><b>{html.escape(view.no_data)}</b></p>")
    else:
        chart = base64.b64encode(render_png(view)).decode("ascii")
        parts.append(
            f'<p><img alt="{html.escape(view.t("report_chart_title", region=view.region, period=view.period))}" src="data:image/png;base64,{chart}"></p>'
        )
        rows = view.rows()
        sums = {i for i, r in enumerate(rows) if r.area.level != "commune"}
        parts += [
            f"<h2>{html.escape(view.t('report_section_areas'))}</h2>",
            _html_table(view.headers(), [[r.level, r.province, r.commune, *figures(r)] for r in rows], sums),
            f"<h2>{html.escape(view.t('report_section_change'))} ({html.escape(view.previous)})</h2>",
            _html_table(view.change_headers(), view.change_rows(view.summary_levels())),
            f"<h2>{html.escape(view.t('report_section_topics'))}</h2>",
            _html_table(view.topic_headers(), view.topic_rows()),
            f"<h2>{html.escape(view.t('report_section_articles'))}</h2>",
            _html_table(view.article_headers(), view.article_rows()),
        ]
    parts.append("</body></html>\n")
    return "".join(parts)
