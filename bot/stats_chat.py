"""/stats in the chat (and "thống kê", "tỷ lệ kỹ năng số"): a volunteer's region, or for an admin the whole
country (or a province named after the command), this month and this quarter in a short text, with the
month's chart as an image. Citizens are told politely that it is for volunteers.

The figures are `hocvu report`'s (bot/reports.py's `Reports` seam, computed in SQL by storage/report_store.py);
the chart is drawn behind the `Charts` seam, which hocvu/report_cli.py implements with matplotlib: the core
never imports a plotting library. Channels without images (the Zalo ones for now) send the text only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.messages import Reply, Response
from bot.people import ADMIN, VOLUNTEER, Region, user_key
from bot.reports import MONTH, QUARTER, Counts, Period, Report, ReportError, Reports, find_region, region_label
from bot.texts import t
from bot.turn import Turn

if TYPE_CHECKING:
    from bot.assistant import Assistant

log = logging.getLogger(__name__)


class Charts(Protocol):
    """Draws a report's chart as a PNG (hocvu/report_cli.py: `PngCharts`, the `hocvu report --format png` chart)."""

    def chart(self, report: Report, lang: str) -> bytes: ...


@dataclass
class Stats:
    reports: Reports
    charts: Charts | None = None  # None: the text only
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def stats(core: Assistant, turn: Turn) -> Response:
    desk, people = core.stats, core.people
    if desk is None or people is None:
        return turn.reply([Reply(text=t("not_available", turn.lang))], intent="stats")
    role = people.role_of(user_key(turn.user))
    if role is None or role.role not in (VOLUNTEER, ADMIN):
        return turn.reply([Reply(text=t("stats_citizen", turn.lang))], intent="stats")
    region: Region | None = role.region
    if role.role == ADMIN and turn.args:  # "/stats Nghe An": an admin may look at one province
        try:
            region = find_region(" ".join(turn.args), None)
        except ReportError as problem:
            return turn.reply([Reply(text=t("stats_no_place", turn.lang, problem=str(problem)))], intent="stats")
    elif role.role == VOLUNTEER and region is None:
        return turn.reply([Reply(text=t("bcast_no_region", turn.lang))], intent="stats")
    now = desk.clock()
    month = desk.reports.report(Period.containing(now, MONTH), region)
    quarter = desk.reports.report(Period.containing(now, QUARTER), region)
    lang = turn.lang
    text = "\n\n".join(
        [
            t("stats_title", lang, region=region_label(region, lang)),
            describe(month, lang),
            describe(quarter, lang),
            month.definition.describe(lang),
        ]
    )
    replies = [Reply(text=text)]
    if desk.charts is not None:
        try:
            image = desk.charts.chart(month, lang)
        except Exception:  # a chart that cannot be drawn must not take the figures with it
            log.exception("the /stats chart could not be drawn")
        else:
            replies.append(Reply(text=t("stats_chart_caption", lang), image_png=image))
    return turn.reply(replies, intent="stats")


def describe(report: Report, lang: str) -> str:
    """One period's figures with their change against the period before."""
    now, before = report.total.now, report.total.before
    return t(
        "stats_period",
        lang,
        period=report.period.label(lang),
        registered=now.registered,
        registered_change=change(now.registered, before.registered),
        active=now.active_users,
        active_change=change(now.active_users, before.active_users),
        answered=now.answered,
        dont_know=now.dont_know,
        answered_share=percent(now.answered_share, lang),
        skilled=now.skilled,
        skilled_share=percent(now.skilled_share, lang),
        skilled_change=points(now, before, lang),
        elderly=now.elderly,
        skilled_elderly=now.skilled_elderly,
        elderly_share=percent(now.elderly_skilled_share, lang),
        certificates=now.certificates,
        certificates_change=change(now.certificates, before.certificates),
    )


def change(now: int, before: int) -> str:
    return f"{now - before:+d}" if now != before else "±0"


def percent(fraction: float | None, lang: str) -> str:
    if fraction is None:
        return "–"
    text = f"{fraction * 100:.1f}%"
    return text.replace(".", ",") if lang == "vi" else text


def points(now: Counts, before: Counts, lang: str) -> str:
    """The skilled share's change in percentage points; "–" when either period has nobody."""
    if now.skilled_share is None or before.skilled_share is None:
        return "–"
    text = f"{(now.skilled_share - before.skilled_share) * 100:+.1f}"
    return text.replace(".", ",") if lang == "vi" else text
