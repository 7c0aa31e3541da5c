"""Broadcasts as volunteers and admins make them (issue #15, items 4 and 7): what goes out (a lesson of the
knowledge base, or a free text), to whom (a segment of the subscribers), when (now, at a time, weekly), who
approved it, and what came of it (the report, with how many then answered the lesson's quiz).

One place for the rules, shared by `hocvu broadcast` (hocvu/broadcast_cli.py) and the chat's /broadcast:
`BroadcastDesk` checks a `Draft` and talks to the `Broadcasts` seam, which channels/broadcast_plans.py
implements on SQL (the audience is counted and chosen there, in one query). The delivery engine
(channels/broadcast.py) then sends each run's deliveries.

The rules:
- only volunteers and admins broadcast; a volunteer only inside their region (`people.Region`): a segment
  with no place is their region, one that reaches outside it is refused, naming what is outside;
- the audience is always subscribers (an active, consented subscription: to the segment's topics, or to
  any) on a channel the engine delivers to, minus those who blocked the bot or left the Zalo OA;
- a free text goes out only once an admin approved it (an admin's own is approved by its author); a lesson
  of the knowledge base needs no approval; every broadcast records who made and who approved it;
- a free text's links must be to the sites the knowledge base cites as official (`official_hosts`);
- times are Asia/Ho_Chi_Minh; a weekly plan makes one run a week, each with its own deliveries and its
  audience chosen at that moment.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import regions
from bot.people import (
    ADMIN,
    AGE_BANDS,
    VOLUNTEER,
    People,
    PeopleError,
    Profile,
    QuietHours,
    Region,
    Role,
    parse_region,
)
from bot.texts import t
from errors import InputError
from knowledge_base.learning import Lesson
from knowledge_base.topics import TOPIC_IDS
from language.normalize import fold

KIND_TEXT, KIND_LESSON = "text", "lesson"
NOW, AT, WEEKLY = "now", "at", "weekly"
# A broadcast's status before the engine's (sending, paused, cancelled, done): waiting for an admin, refused by
# one, or approved and waiting for its time (a weekly plan stays scheduled; each week's run is a broadcast).
AWAITING_APPROVAL, REJECTED, SCHEDULED = "awaiting_approval", "rejected", "scheduled"
SENDABLE = ("telegram", "zalo_oa", "zalo_bot")  # the channels the engine has a sender for
LANGS = ("vi", "en")
MAX_TEXT = {"telegram": 4096, "zalo_oa": 2000, "zalo_bot": 2000}  # one message; Telegram counts UTF-16 units
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OPERATOR_PREFIX = "cli:"  # "cli:<login>": whoever runs `hocvu` on the server acts as an admin
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_WORDS = {
    **{name: n for n, name in enumerate(WEEKDAYS)},
    **{
        name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    **{f"t{n + 2}": n for n in range(6)},  # "t2" is Monday in Vietnamese ("thứ hai")
    **{f"thu {n + 2}": n for n in range(6)},
    **{f"thu {w}": n for n, w in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))},
    "cn": 6,
    "chu nhat": 6,
}
# What people write as a link: a scheme, or a bare domain ending in letters (vneid.gov.vn/x, bit.ly/y).
_LINK = re.compile(
    r"(?i)(?<![\w@.-])(?:[a-z][a-z0-9+.-]*://[^\s<>\"']+"
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])(?:[/?#:][^\s<>\"']*)?)"
)


def text_length(text: str, channel: str) -> int:
    return len(text.encode("utf-16-le")) // 2 if channel == "telegram" else len(text)


def text_problem(text: str, channels: Iterable[str]) -> str | None:
    """Why `text` cannot be one message on these channels, or None."""
    if not text.strip():
        return "the text is empty"
    for channel in sorted(set(channels)):
        limit, length = MAX_TEXT[channel], text_length(text, channel)
        if length > limit:
            return f"the text is {length:,} characters long; {channel} takes at most {limit:,} in one message"
    return None


def links(text: str) -> list[str]:
    """The links in a text, as written, each once."""
    return list(dict.fromkeys(m.group(0).rstrip(".,;:!?)]}") for m in _LINK.finditer(text)))


def link_host(link: str) -> str:
    rest = link.split("://", 1)[1] if "://" in link else link
    return re.split(r"[/?#:]", rest, maxsplit=1)[0].lower().removeprefix("www.")


def unofficial_links(text: str, official: frozenset[str]) -> list[str]:
    """The links of `text` that go anywhere but an official site (a host the knowledge base cites, or one of
    its subdomains): the rule that keeps a stolen volunteer account from pushing a scam link."""
    found = []
    for link in links(text):
        host = link_host(link)
        scheme = link.split("://", 1)[0].lower() if "://" in link else "https"
        if scheme not in ("http", "https") or not any(host == h or host.endswith("." + h) for h in official):
            found.append(link)
    return found


# -- who, where, when -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Who a broadcast is for, among the subscribers; an empty field is no limit."""

    topics: tuple[str, ...] = ()  # subscribers of any of these topics (none: of any topic)
    province_code: int | None = None
    commune_codes: tuple[int, ...] = ()  # a province or communes, not both
    langs: tuple[str, ...] = ()  # the user's language (one who never chose is Vietnamese)
    channels: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()

    @property
    def region(self) -> Region | None:
        if self.province_code is None and not self.commune_codes:
            return None
        return Region(self.province_code, self.commune_codes)

    def as_json(self) -> dict[str, object]:
        return {
            "topics": list(self.topics),
            "province": self.province_code,
            "communes": list(self.commune_codes),
            "langs": list(self.langs),
            "channels": list(self.channels),
            "age_bands": list(self.age_bands),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Segment:
        def strings(name: str) -> tuple[str, ...]:
            value = data.get(name)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        province = data.get("province")
        communes = data.get("communes")
        return cls(
            strings("topics"),
            int(str(province)) if province is not None else None,
            tuple(int(c) for c in communes) if isinstance(communes, list) else (),
            strings("langs"),
            strings("channels"),
            strings("age_bands"),
        )

    def describe(self) -> str:
        parts = [f"subscribers of {', '.join(self.topics)}" if self.topics else "subscribers of any topic"]
        region = self.region
        if region is not None:
            parts.append(f"in {region.describe()}")
        if self.langs:
            parts.append(f"language {', '.join(self.langs)}")
        if self.channels:
            parts.append(f"on {', '.join(self.channels)}")
        if self.age_bands:
            parts.append(f"aged {', '.join(self.age_bands)}")
        return " ".join(parts)


@dataclass(frozen=True)
class Schedule:
    kind: str = NOW  # NOW | AT | WEEKLY
    at: datetime | None = None  # AT: aware
    weekday: int | None = None  # WEEKLY: 0 is Monday
    clock: time | None = None  # WEEKLY: local time in ZONE

    def first_run(self, now: datetime) -> datetime:
        """When it goes first (aware, UTC)."""
        if self.kind == AT and self.at is not None:
            return self.at.astimezone(UTC)
        if self.kind == WEEKLY:
            return self.next_run(now)
        return now.astimezone(UTC)

    def next_run(self, after: datetime) -> datetime:
        """A weekly plan's first run strictly after `after` (aware, UTC)."""
        assert self.weekday is not None and self.clock is not None, "not a weekly schedule"
        local = after.astimezone(ZONE)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        moment = datetime.combine(day, self.clock, tzinfo=ZONE)
        if moment <= after:
            moment += timedelta(days=7)
        return moment.astimezone(UTC)

    def describe(self) -> str:
        if self.kind == AT and self.at is not None:
            return f"at {self.at.astimezone(ZONE):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh)"
        if self.kind == WEEKLY and self.weekday is not None and self.clock is not None:
            return f"every {WEEKDAYS[self.weekday]} {self.clock:%H:%M} (Asia/Ho_Chi_Minh)"
        return "now"


def parse_at(text: str, now: datetime) -> Schedule:
    """ "2026-12-08 08:00" in Asia/Ho_Chi_Minh, which must be in the future."""
    try:
        local = datetime.strptime(" ".join(text.split()), "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)
    except ValueError:
        raise InputError(f'--at {text[:40]!r} is not a time like "2026-12-08 08:00" (Asia/Ho_Chi_Minh)') from None
    if local <= now:
        raise InputError(
            f"{local:%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh) is in the past: it is {now.astimezone(ZONE):%Y-%m-%d %H:%M} "
            "now; give a later time, or no --at to send now"
        )
    return Schedule(AT, at=local)


def parse_weekly(text: str) -> Schedule:
    """ "mon 08:00" (also "monday 8:00", "t2 08:00", "thu 2 08:00", "cn 19:30"), Asia/Ho_Chi_Minh."""
    words = fold(text).replace(",", " ").split()
    day_words, clock_text = " ".join(words[:-1]), words[-1] if words else ""
    weekday = _WEEKDAY_WORDS.get(day_words)
    clock = None
    if re.fullmatch(r"[0-9]{1,2}[:h][0-9]{2}", clock_text):
        hours, minutes = (int(n) for n in re.split("[:h]", clock_text))
        if hours < 24 and minutes < 60:
            clock = time(hours, minutes)
    if weekday is None or clock is None:
        raise InputError(
            f'--weekly {text[:40]!r} is not a weekday and a time like "mon 08:00" '
            f"(days: {', '.join(WEEKDAYS)}; or t2 to t7, cn)"
        )
    return Schedule(WEEKLY, weekday=weekday, clock=clock)


# -- what the desk takes and gives ------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A broadcast as its author describes it, before any check."""

    by: str  # the author's user key, or "cli:<login>" for the operator
    segment: Segment = field(default_factory=Segment)
    schedule: Schedule = field(default_factory=Schedule)
    lesson_id: str | None = None  # a lesson of the knowledge base...
    text: str | None = None  # ...or a free text

    @property
    def kind(self) -> str:
        return KIND_LESSON if self.lesson_id is not None else KIND_TEXT


@dataclass(frozen=True)
class Plan:
    """A checked draft, as the store keeps it."""

    kind: str
    lesson_id: str | None
    text: str  # what is sent (a lesson: in Vietnamese)
    texts: Mapping[str, str]  # a lesson's text in each language, sent by the recipient's; empty for a free text
    segment: Segment
    schedule: Schedule
    send_at: datetime  # aware: the (first) run
    status: str  # AWAITING_APPROVAL or SCHEDULED
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


@dataclass(frozen=True)
class AudienceCount:
    total: int
    by_channel: Mapping[str, int]

    def describe(self) -> str:
        per = ", ".join(f"{channel} {n:,}" for channel, n in sorted(self.by_channel.items()))
        return f"{self.total:,} recipient(s)" + (f" ({per})" if per else "")


@dataclass(frozen=True)
class Preview:
    plan: Plan
    audience: AudienceCount


@dataclass(frozen=True)
class Created:
    id: int
    plan: Plan
    audience: AudienceCount
    runs: tuple[int, ...]  # broadcasts whose deliveries were made at once (it was due)


@dataclass(frozen=True)
class RunSummary:
    """One week's run of a weekly plan."""

    id: int
    run_at: datetime
    status: str
    total: int
    sent: int
    quiz_answered: int


@dataclass
class BroadcastReport:
    id: int
    kind: str
    lesson_id: str | None
    status: str
    text: str
    segment: Segment | None  # None: an explicit list of recipients
    schedule: Schedule
    send_at: datetime | None  # aware: when it goes (next), or went
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    note: str | None  # why it was rejected
    plan_id: int | None  # the weekly plan this is a run of
    counts: dict[str, int] = field(default_factory=dict)  # deliveries by status
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    pulled: int = 0  # of the sent: offers their users pulled (bot/offers.py)
    quiz_answered: int = 0  # recipients sent the lesson who then answered its quiz (a lesson only)
    quiz_finished: int = 0  # ...and finished it
    runs: list[RunSummary] = field(default_factory=list)  # a weekly plan's, newest first

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)


class Broadcasts(Protocol):
    """The store of broadcasts (channels/broadcast_plans.py: SQL)."""

    def audience(self, segment: Segment) -> AudienceCount:
        """The subscribers the segment reaches now, counted per channel, in one query."""
        ...

    def save(self, plan: Plan) -> int: ...

    def approve(self, broadcast_id: int, by: str, at: datetime, send_at: datetime) -> bool:
        """awaiting_approval → scheduled (to go at `send_at`); False when it was no longer awaiting."""
        ...

    def reject(self, broadcast_id: int, by: str, reason: str, at: datetime) -> bool: ...

    def materialise_due(self, now: datetime, quiet: QuietHours | None = None, *, only: int | None = None) -> list[int]:
        """Make the runs whose time has come: their audience chosen now and a delivery row for each, pending
        (held until the end of `quiet` hours). A weekly plan's run is made once, whichever worker asks first.
        Returns the broadcasts that started."""
        ...

    def report(self, broadcast_id: int) -> BroadcastReport | None: ...

    def recent(self, limit: int = 50) -> list[BroadcastReport]: ...

    def awaiting(self, limit: int = 20) -> list[BroadcastReport]:
        """Free texts waiting for an admin, oldest first: what /approvals lists."""
        ...


# -- the desk ---------------------------------------------------------------------------------------------


def render_lesson(lesson: Lesson, lang: str) -> str:
    """A lesson as one message: its title, its messages, then how to take its quiz."""
    text = lesson.text(lang)
    parts = [f"📘 {text.title}", *text.messages, t("broadcast_quiz_offer", lang, n=len(lesson.quiz), lesson=lesson.id)]
    return "\n\n".join(parts)


def _operator(key: str) -> bool:
    return key.startswith(OPERATOR_PREFIX)


@dataclass
class BroadcastDesk:
    store: Broadcasts
    people: People
    lessons: Mapping[str, Lesson]
    official_hosts: frozenset[str]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # -- checks -----------------------------------------------------------------------------------------

    def role(self, key: str) -> Role:
        """The author's role; an operator at the server's command line acts as an admin."""
        if _operator(key):
            return Role(key, ADMIN, None, "the server's operator", datetime.min.replace(tzinfo=UTC))
        role = self.people.role_of(key)
        if role is None or role.role not in (VOLUNTEER, ADMIN):
            raise InputError(f"{key} is neither a volunteer nor an admin: only they send broadcasts")
        if role.role == VOLUNTEER and role.region is None:
            raise InputError(f"volunteer {key} has no region: an admin gives one with `hocvu users promote`")
        return role

    def within_region(self, role: Role, segment: Segment) -> Segment:
        """The segment as this author may send it: a volunteer's without a place is their region; one that
        reaches outside it is refused, naming what is outside."""
        if role.role == ADMIN or role.region is None:
            return segment
        region = role.region
        if segment.province_code is None and not segment.commune_codes:
            return replace(segment, province_code=region.province_code, commune_codes=region.commune_codes)
        yours = f"{role.key} is a volunteer for {region.describe()}"
        if segment.province_code is not None:
            if region.province_code == segment.province_code:
                return segment
            province = regions.province(segment.province_code)
            raise InputError(
                f"{yours}: a broadcast to {province.name if province else segment.province_code} "
                "would reach outside that region; nothing was created"
            )
        outside = [code for code in segment.commune_codes if not region.covers(_place_of(code))]
        if outside:
            names = ", ".join(_commune_name(c) for c in outside)
            raise InputError(f"{yours}: {names} is outside that region; nothing was created")
        return segment

    def check(self, draft: Draft) -> Plan:
        """The draft as a plan to save, or InputError naming the first thing wrong (nothing is created)."""
        now = self.clock()
        role = self.role(draft.by)
        segment = self.within_region(role, _checked_segment(draft.segment))
        channels = segment.channels or SENDABLE
        if draft.lesson_id is not None and draft.text is not None:
            raise InputError("a broadcast is a lesson or a free text, not both")
        approved_by, approved_at = (role.key, now) if role.role == ADMIN else (None, None)
        if draft.lesson_id is not None:
            lesson = self.lessons.get(draft.lesson_id)
            if lesson is None:
                close = difflib.get_close_matches(draft.lesson_id, list(self.lessons), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else f" (there are {len(self.lessons)} lessons)"
                raise InputError(f"there is no lesson {draft.lesson_id!r}{hint}")
            texts = {lang: render_lesson(lesson, lang) for lang in LANGS}
            problem = next((p for p in (text_problem(x, channels) for x in texts.values()) if p), None)
            if problem:  # content grew past one message: say so rather than let the platform refuse it
                raise InputError(f"lesson {lesson.id} is too long to broadcast: {problem}")
            if not segment.topics:  # a lesson goes to those who asked for its topic
                segment = replace(segment, topics=(lesson.topic,))
            text, status = texts["vi"], SCHEDULED  # a lesson of the knowledge base needs no approval
        else:
            if draft.text is None:
                raise InputError("say what to send: a lesson (--lesson ID) or a free text (--text)")
            text, texts = draft.text.strip("\n"), {}
            problem = text_problem(text, channels)
            if problem:
                hint = (
                    "; limit the segment to --channel telegram" if "zalo" in problem and "telegram" in channels else ""
                )
                raise InputError(f"{problem}{hint}; nothing was created")
            bad = unofficial_links(text, self.official_hosts)
            if bad:
                raise InputError(
                    f"the text links to {', '.join(repr(b) for b in bad[:5])}, which is not an official site that "
                    "the knowledge base cites (such as vneid.gov.vn or dichvucong.gov.vn); nothing was created"
                )
            status = SCHEDULED if role.role == ADMIN else AWAITING_APPROVAL
        return Plan(
            draft.kind,
            draft.lesson_id,
            text,
            texts,
            segment,
            draft.schedule,
            draft.schedule.first_run(now),
            status,
            draft.by,
            now,
            approved_by,
            approved_at,
        )

    # -- what the CLI and the chat call ---------------------------------------------------------------------

    def preview(self, draft: Draft) -> Preview:
        """The exact audience, per channel, of the draft as it would be created; nothing is saved."""
        plan = self.check(draft)
        audience = self.store.audience(plan.segment)
        if audience.total == 0:
            raise InputError(f"the segment matches nobody: no {plan.segment.describe()}; nothing was created")
        return Preview(plan, audience)

    def create(self, draft: Draft) -> Created:
        preview = self.preview(draft)
        broadcast_id = self.store.save(preview.plan)
        runs: list[int] = []
        now = self.clock()
        if preview.plan.status == SCHEDULED and preview.plan.send_at <= now:
            runs = self.store.materialise_due(now, self.people.quiet, only=broadcast_id)
        return Created(broadcast_id, preview.plan, preview.audience, tuple(runs))

    def _admin(self, key: str, doing: str) -> str:
        role = self.role(key)
        if role.role != ADMIN:
            raise InputError(f"{key} is a volunteer: only an admin may {doing} a broadcast")
        return key

    def _awaiting(self, broadcast_id: int) -> BroadcastReport:
        report = self.report(broadcast_id)
        if report.status != AWAITING_APPROVAL:
            raise InputError(f"broadcast {broadcast_id} is {report.status}, not awaiting approval")
        return report

    def approve(self, broadcast_id: int, by: str) -> list[int]:
        """An admin's yes: it goes at its time (now, when that has passed); returns the runs started now."""
        self._admin(by, "approve")
        report = self._awaiting(broadcast_id)
        now = self.clock()
        send_at = report.send_at or now
        if report.schedule.kind == WEEKLY and send_at <= now:  # a week that passed while it waited is skipped
            send_at = report.schedule.next_run(now)
        if not self.store.approve(broadcast_id, by, now, send_at):
            raise InputError(f"broadcast {broadcast_id} is no longer awaiting approval")
        if send_at <= now:  # its time came while it waited: it goes now
            return self.store.materialise_due(now, self.people.quiet, only=broadcast_id)
        return []

    def reject(self, broadcast_id: int, by: str, reason: str) -> None:
        self._admin(by, "reject")
        if not reason.strip():
            raise InputError("say why it is rejected (--reason): its author will read it")
        self._awaiting(broadcast_id)
        if not self.store.reject(broadcast_id, by, reason.strip()[:500], self.clock()):
            raise InputError(f"broadcast {broadcast_id} is no longer awaiting approval")

    def report(self, broadcast_id: int) -> BroadcastReport:
        report = self.store.report(broadcast_id)
        if report is None:
            raise InputError(f"there is no broadcast {broadcast_id}")
        return report

    def materialise_due(self) -> list[int]:
        return self.store.materialise_due(self.clock(), self.people.quiet)


# -- reading an author's words ----------------------------------------------------------------------------


def _place_of(commune_code: int) -> Profile:
    unit = regions.commune(commune_code)
    return Profile(province_code=unit.province_code if unit else None, commune_code=commune_code)


def _commune_name(code: int) -> str:
    unit = regions.commune(code)
    if unit is None:
        return str(code)
    province = regions.province(unit.province_code)
    return f"{unit.name} ({province.short if province else '?'})"


def _checked_segment(segment: Segment) -> Segment:
    unknown = [topic for topic in segment.topics if topic not in TOPIC_IDS]
    if unknown:
        raise InputError(f"no topic is called {', '.join(unknown)}; the topics are {', '.join(TOPIC_IDS)}")
    for name, values, allowed in (
        ("language", segment.langs, LANGS),
        ("channel", segment.channels, SENDABLE),
        ("age band", segment.age_bands, AGE_BANDS),
    ):
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise InputError(f"{', '.join(wrong)} is not a {name} broadcasts know; use {', '.join(allowed)}")
    if segment.province_code is not None and segment.commune_codes:
        raise InputError("give a province or communes, not both")
    return replace(
        segment,
        topics=tuple(dict.fromkeys(segment.topics)),
        langs=tuple(dict.fromkeys(segment.langs)),
        channels=tuple(dict.fromkeys(segment.channels)),
        age_bands=tuple(dict.fromkeys(segment.age_bands)),
    )


def parse_place(province: str | None, communes: list[str]) -> tuple[int | None, tuple[int, ...]]:
    """A segment's place from an author's words (as `people.parse_region`); a commune that does not exist is
    refused with the names closest to it."""
    if province is None and not communes:
        return None, ()
    try:
        region = parse_region(province, communes)
    except PeopleError as exc:
        close = _close_communes(communes) if communes else []
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"{exc}{hint}; nothing was created") from None
    return region.province_code, region.commune_codes


def _close_communes(communes: list[str]) -> list[str]:
    """Names near the first commune that does not exist, in its province when one is written."""
    for text in communes:
        name, _, where = text.partition(",")
        provinces = regions.find_provinces(where) if where.strip() else []
        pool = (
            regions.communes_of(provinces[0].code)
            if provinces
            else tuple(c for p in regions.provinces() for c in regions.communes_of(p.code))
        )
        if any(regions.key(c.name) == regions.key(name) for c in pool):
            continue
        names = {regions.key(c.name): c for c in pool}
        close = difflib.get_close_matches(regions.key(name), list(names), n=3, cutoff=0.6)
        return [_commune_name(names[k].code) for k in close]
    return []
