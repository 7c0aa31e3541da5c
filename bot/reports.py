"""Figures for officials: who registered, asked, learned and holds basic digital skills, per commune and period.

The core's part of `hocvu report` and of /stats in the chat (bot/stats_chat.py): the definition a province sets
(`reports:` in config.yml), calendar periods in Viet Nam's time, the region a report covers, and the figures
themselves as plain data. The `Reports` seam computes them; storage/report_store.py does it in SQL, every
figure an aggregate, so a report never loads the conversation log into Python.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import regions
from bot.people import AGE_BANDS, Region
from bot.texts import button_label, t
from errors import InputError
from knowledge_base.topics import TOPIC_IDS, topic_name

MONTH, QUARTER, YEAR = "month", "quarter", "year"
ZONE = "Asia/Ho_Chi_Minh"
# The certificates of these topics' final tests make "basic digital skills" unless a province says otherwise.
DEFAULT_SKILLS = ("vneid", "public_services", "digital_payments", "online_safety")
ELDERLY = ("60p",)
_PERIOD = re.compile(
    r"^\s*(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})|(?P<m2>\d{1,2})/(?P<y2>\d{4})|(?P<y3>\d{4})-?[qQ](?P<q1>\d)"
    r"|[qQ](?P<q2>\d)[/-](?P<y4>\d{4})|(?P<y5>\d{4}))\s*$"
)
PERIOD_FORMS = "2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year)"


class ReportError(InputError):
    """What a report was asked for cannot be: a malformed period, a place that does not exist."""


# -- periods ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year in Viet Nam's time (`number`: the month or quarter; 0 for a year)."""

    year: int
    kind: str
    number: int = 0

    @property
    def first_day(self) -> date:
        if self.kind == MONTH:
            return date(self.year, self.number, 1)
        if self.kind == QUARTER:
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end_day(self) -> date:
        """The day after the last one."""
        return self.next().first_day

    def next(self) -> Period:
        if self.kind == MONTH:
            return Period(self.year + self.number // 12, MONTH, self.number % 12 + 1)
        if self.kind == QUARTER:
            return Period(self.year + self.number // 4, QUARTER, self.number % 4 + 1)
        return Period(self.year + 1, YEAR)

    def previous(self) -> Period:
        if self.kind == MONTH:
            return Period(self.year - (self.number == 1), MONTH, (self.number - 2) % 12 + 1)
        if self.kind == QUARTER:
            return Period(self.year - (self.number == 1), QUARTER, (self.number - 2) % 4 + 1)
        return Period(self.year - 1, YEAR)

    def bounds(self, zone: str = ZONE) -> tuple[datetime, datetime]:
        """[start, end) as naive UTC, what the database stores: the bounds are converted, never the rows."""
        tz = ZoneInfo(zone)
        start = datetime.combine(self.first_day, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(self.end_day, datetime.min.time(), tzinfo=tz)
        return start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None)

    def __str__(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}" if self.kind == QUARTER else str(self.year)

    def label(self, lang: str) -> str:
        if self.kind == MONTH:
            return t("report_month", lang, month=self.number, year=self.year)
        if self.kind == QUARTER:
            return t("report_quarter", lang, quarter=self.number, year=self.year)
        return t("report_year", lang, year=self.year)

    @classmethod
    def containing(cls, moment: datetime, kind: str, zone: str = ZONE) -> Period:
        """The month, quarter or year `moment` (aware) falls in, in `zone`: "this month" for the chat."""
        local = moment.astimezone(ZoneInfo(zone))
        if kind == MONTH:
            return cls(local.year, MONTH, local.month)
        if kind == QUARTER:
            return cls(local.year, QUARTER, (local.month - 1) // 3 + 1)
        return cls(local.year, YEAR)


def parse_period(text: str) -> Period:
    """ "2026-11", "11/2026", "2026-Q4", "Q4/2026", "2026" → a Period; ReportError naming the value otherwise."""
    match = _PERIOD.match(text or "")
    if match is None:
        raise ReportError(f"{(text or '')[:40]!r} is not a period: write {PERIOD_FORMS}")
    g = match.groupdict()
    year = int(g["y1"] or g["y2"] or g["y3"] or g["y4"] or g["y5"])
    if not 2000 <= year <= 2100:
        raise ReportError(f"{text.strip()[:40]!r}: the year {year} is out of range; write {PERIOD_FORMS}")
    if g["m1"] or g["m2"]:
        month = int(g["m1"] or g["m2"])
        if not 1 <= month <= 12:
            raise ReportError(f"{text.strip()[:40]!r}: there is no month {month}; months are 1 to 12")
        return Period(year, MONTH, month)
    if g["q1"] or g["q2"]:
        quarter = int(g["q1"] or g["q2"])
        if not 1 <= quarter <= 4:
            raise ReportError(f"{text.strip()[:40]!r}: there is no quarter {quarter}; quarters are Q1 to Q4")
        return Period(year, QUARTER, quarter)
    return Period(year, YEAR)


# -- the definition --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """Who counts as having basic digital skills, and who as elderly: a province's choice (config.yml)."""

    certificates: tuple[str, ...] = DEFAULT_SKILLS  # topic ids: the certificate of each topic's final test
    at_least: int | None = None  # certificates of the list a user must hold; None: all of them
    elderly_age_bands: tuple[str, ...] = ELDERLY  # bot.people.AGE_BANDS
    pass_percent: int = 80  # a quiz passes at this score, as a final test does (certificates.pass_percent)
    zone: str = ZONE
    top_articles: int = 5

    @property
    def needed(self) -> int:
        return len(self.certificates) if self.at_least is None else self.at_least

    def problems(self) -> list[str]:
        """What is wrong with it, each naming the setting (config.yml's `reports:`)."""
        found = []
        for item in self.certificates:
            if item not in TOPIC_IDS:
                close = difflib.get_close_matches(item, TOPIC_IDS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                found.append(
                    f"'reports.basic_skills_certificates' has {item!r}, which is no certificate: {hint}"
                    f"certificates are the final tests of the topics {', '.join(TOPIC_IDS)}"
                )
        if not self.certificates:
            found.append("'reports.basic_skills_certificates' is empty: name at least one topic's certificate")
        if len(set(self.certificates)) != len(self.certificates):
            found.append("'reports.basic_skills_certificates' names a certificate twice")
        if self.at_least is not None and not 1 <= self.at_least <= len(self.certificates):
            found.append(
                f"'reports.basic_skills_at_least' is {self.at_least}; it must be between 1 and the "
                f"{len(self.certificates)} certificates listed (or null: all of them)"
            )
        for band in self.elderly_age_bands:
            if band not in AGE_BANDS:
                found.append(f"'reports.elderly_age_bands' has {band!r}; the age bands are {', '.join(AGE_BANDS)}")
        return found

    def describe(self, lang: str) -> str:
        names = ", ".join(topic_name(topic, lang) for topic in self.certificates)
        key = "report_definition_all" if self.at_least is None else "report_definition_some"
        skills = t(key, lang, n=self.needed, topics=names, percent=self.pass_percent)
        bands = ", ".join(age_band_label(band, lang) for band in self.elderly_age_bands)
        return skills + " " + t("report_definition_elderly", lang, bands=bands)


def age_band_label(band: str, lang: str) -> str:
    return button_label("age_" + band, lang) if band in AGE_BANDS else band


# -- where --------------------------------------------------------------------------------------------


def find_region(province: str | None, commune: str | None) -> Region | None:
    """The region a report covers, from names as people type them; None: the whole country.

    A name that exists nowhere is an error that suggests the closest ones.
    """
    if province is None and commune is None:
        return None
    province_code = _province_code(province) if province is not None else None
    if commune is None:
        return Region(province_code=province_code)
    return Region(commune_codes=(_commune_code(commune, province_code),))


def _province_code(text: str) -> int:
    if not text.strip():
        raise ReportError("--province is empty: give a province's name, e.g. 'Ha Noi'")
    found = regions.find_provinces(text)
    exact = [p for p in found if regions.key(p.short) == regions.key(text)]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0].code
    if found:
        raise ReportError(f"{text[:60]!r} may be {', '.join(p.short for p in found)}: write one of them")
    close = _closest(text, [p.short for p in regions.provinces()])
    hint = f"; the closest names: {', '.join(close)}" if close else ""
    raise ReportError(f"no province is named {text[:60]!r} (34 provinces since 1 July 2025){hint}")


def _commune_code(text: str, province_code: int | None) -> int:
    if not text.strip():
        raise ReportError("--commune is empty: give a commune's or ward's name")
    if province_code is None:
        found = regions.find_commune_anywhere(text)
        exact = [c for c in found if regions.key(c.name) == regions.key(text)]
        if len(exact or found) == 1:
            return (exact or found)[0].code
        if found:
            where = ", ".join(f"{c.name} ({_short(c.province_code)})" for c in (exact or found))
            raise ReportError(f"{text[:60]!r} may be {where}: add --province")
        raise ReportError(f"no commune or ward is named {text[:60]!r}; add --province to see the closest names")
    found = regions.find_communes(text, province_code)
    exact = [c for c in found if regions.key(c.name) == regions.key(text)]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0].code
    if found:
        raise ReportError(f"{text[:60]!r} may be {', '.join(c.name for c in found)}: write one of them")
    close = _closest(text, [c.name for c in regions.communes_of(province_code)])
    hint = f"; the closest names: {', '.join(close)}" if close else ""
    raise ReportError(f"{_short(province_code)} has no commune or ward named {text[:60]!r}{hint}")


def _closest(text: str, names: list[str]) -> list[str]:
    keyed = {regions.key(name): name for name in names}
    return [keyed[k] for k in difflib.get_close_matches(regions.key(text), list(keyed), n=3, cutoff=0.5)]


def _short(province_code: int | None) -> str:
    found = regions.province(province_code) if province_code is not None else None
    return found.short if found else "?"


def region_label(region: Region | None, lang: str) -> str:
    return t("report_whole_country", lang) if region is None else region.describe()


def area_name(province_code: int | None, commune_code: int | None, lang: str) -> tuple[str, str]:
    """(province, commune) names for a row; a place not given is "chưa rõ" (unknown), never left out."""
    unknown = t("report_unknown", lang)
    province = regions.province(province_code) if province_code is not None else None
    commune = regions.commune(commune_code) if commune_code is not None else None
    return (province.short if province else unknown, commune.name if commune else unknown)


# -- the figures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """One area's figures for one period. Every field adds up across areas (each user lives in one place),
    except `broadcasts`, which a store counts again at each level."""

    registered: int = 0  # users who had written by the end of the period
    new_users: int = 0  # users whose first message fell in the period
    active_users: int = 0  # users who wrote in the period
    questions: int = 0  # typed questions answered from the knowledge base or not
    answered: int = 0
    dont_know: int = 0  # the assistant said it did not know
    feedback_up: int = 0
    feedback_down: int = 0
    quiz_attempts: int = 0  # quizzes finished (topic, lesson and final tests; reviews are not tests)
    quiz_passed: int = 0  # ...at or above the pass mark
    certificates: int = 0  # certificates issued in the period (that still stand)
    skilled: int = 0  # registered users with basic digital skills at the end of the period
    elderly: int = 0  # registered users in the elderly age bands
    skilled_elderly: int = 0
    broadcasts: int = 0  # broadcasts created in the period that had a recipient in the area
    recipients: int = 0  # their deliveries to the area...
    delivered: int = 0  # ...and those sent

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)})

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(Counts))

    @property
    def skilled_share(self) -> float | None:
        return share(self.skilled, self.registered)

    @property
    def elderly_skilled_share(self) -> float | None:
        return share(self.skilled_elderly, self.elderly)

    @property
    def answered_share(self) -> float | None:
        return share(self.answered, self.questions)

    @property
    def pass_rate(self) -> float | None:
        return share(self.quiz_passed, self.quiz_attempts)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


COUNT_FIELDS = tuple(f.name for f in fields(Counts))


@dataclass(frozen=True)
class Area:
    """A commune (or "unknown" within a province), a province's roll-up, or the whole report's."""

    province_code: int | None
    commune_code: int | None
    now: Counts
    before: Counts  # the previous period
    top_articles: tuple[tuple[str, int], ...] = ()  # (article id, times it answered), most first
    level: str = "commune"  # commune | province | total


@dataclass(frozen=True)
class TopicFigures:
    topic: str
    attempts: int
    passed: int
    certificates: int
    attempts_before: int = 0
    passed_before: int = 0
    certificates_before: int = 0

    @property
    def pass_rate(self) -> float | None:
        return share(self.passed, self.attempts)


@dataclass(frozen=True)
class Report:
    period: Period
    region: Region | None
    definition: Definition
    communes: tuple[Area, ...]  # by province, then commune; "unknown" last in its province
    provinces: tuple[Area, ...]  # each province's roll-up
    total: Area
    topics: tuple[TopicFigures, ...] = ()
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def empty(self) -> bool:
        """Nothing at all to report: no user in the region by the period's end and nothing happened in it."""
        return self.total.now.empty


Progress = Callable[[str], None]  # told the name of each step as it ends, for a progress bar


class Reports(Protocol):
    def report(self, period: Period, region: Region | None, progress: Progress | None = None) -> Report:
        """Every figure of `region` (None: the whole country) for `period` and the period before it."""
        ...


def topic_order(topic: str) -> tuple[int, str]:
    """Topics in the registry's order; one no longer in it (an old record) after them."""
    return (TOPIC_IDS.index(topic) if topic in TOPIC_IDS else len(TOPIC_IDS), topic)


def roll_up(communes: Iterable[Area], level: str) -> list[Area]:
    """Per province ("province") or overall ("total"): the sums of the commune rows' additive counts."""
    groups: dict[int | None, tuple[Counts, Counts]] = {}
    for area in communes:
        key = area.province_code if level == "province" else None
        now, before = groups.get(key, (Counts(), Counts()))
        groups[key] = (now + area.now, before + area.before)
    return [Area(key, None, now, before, level=level) for key, (now, before) in groups.items()]
