"""Reporting periods: a calendar month, quarter or year in Viet Nam's time, as the naive-UTC bounds the
database stores times in.

"2026-11", "2026-Q4" (also "2026-q4", "Q4-2026") and "2026" name the month, quarter and year as an
official reports them: midnight Asia/Ho_Chi_Minh (UTC+7, no daylight saving) to the next period's midnight,
so a question asked at 23:30 on 30 November in Hà Nội counts in November though it was 16:30 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from errors import InputError

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(?:(\d{4})-?q([1-4])|q([1-4])-?(\d{4}))$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
FORMS = "a month (2026-11), a quarter (2026-Q4) or a year (2026)"


@dataclass(frozen=True)
class Period:
    label: str  # "2026-11", "2026-Q4", "2026": how it was meant, written one way
    start: datetime  # naive UTC, included
    end: datetime  # naive UTC, excluded

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as naive UTC, what the database stores."""
        return self.start, self.end

    def __str__(self) -> str:
        return self.label


def _bound(year: int, month: int) -> datetime:
    """Midnight in Viet Nam at the start of `month` (13 is January of the next year), as naive UTC."""
    if month > 12:
        year, month = year + 1, month - 12
    return datetime(year, month, 1, tzinfo=VIETNAM).astimezone(UTC).replace(tzinfo=None)


def parse_period(text: str) -> Period:
    """The period `text` names; InputError saying which forms are understood when it names none."""
    value = text.strip()
    year_typed = re.match(r"\d{4}", value) or re.search(r"\d{4}$", value)
    if year_typed and not 2000 <= int(year_typed[0]) <= 2999:
        raise InputError(f"--period {text!r}: the year {year_typed[0]} is outside what hocvu has data for")
    if month := _MONTH.match(value):
        year, number = int(month[1]), int(month[2])
        if not 1 <= number <= 12:
            raise InputError(f"--period {text!r}: there is no month {number}; write {FORMS}")
        return Period(f"{year}-{number:02d}", _bound(year, number), _bound(year, number + 1))
    if quarter := _QUARTER.match(value):
        year = int(quarter[1] or quarter[4])
        number = int(quarter[2] or quarter[3])
        first = 3 * (number - 1) + 1
        return Period(f"{year}-Q{number}", _bound(year, first), _bound(year, first + 3))
    if whole := _YEAR.match(value):
        year = int(whole[1])
        return Period(str(year), _bound(year, 1), _bound(year + 1, 1))
    raise InputError(f"--period {text!r} is not a period: write {FORMS}")
