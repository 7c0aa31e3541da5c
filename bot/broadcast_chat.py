"""/broadcast in the chat: a volunteer (or an admin) picks a lesson or writes a text, chooses who gets it and
when, sees the exact audience and confirms; admins approve free texts (/approvals, /approve, /reject); the
author reads the report (/broadcast status ID, or the button under the confirmation).

The rules are the core's, `bot.broadcasts.BroadcastDesk`, shared with `hocvu broadcast`: this module only
asks the questions and says the answers in the user's language. The draft lives in the conversation state
(`bcast`, as JSON) between buttons, so a restart in the middle loses nothing; `bcast_step` is set only while a
typed answer is awaited (the text, the communes, the time), and "thôi" / "hủy" then closes the flow.

A free text is read through the guard like any message (a secret typed in it refuses it), with a longer
limit than a question (`TEXT_LIMIT`, bot/assistant.py), and must fit one message on the chosen channels.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from bot import actions, handlers, regions
from bot.actions import Verb
from bot.broadcasts import (
    AT,
    AWAITING_APPROVAL,
    KIND_LESSON,
    MAX_TEXT,
    NOW,
    REJECTED,
    SCHEDULED,
    SENDABLE,
    WEEKLY,
    ZONE,
    BroadcastDesk,
    BroadcastReport,
    Draft,
    Schedule,
    Segment,
    parse_at,
    parse_place,
    parse_weekly,
    text_length,
    unofficial_links,
)
from bot.messages import Button, Notice, Reply, Response, escape_markup
from bot.people import ADMIN, AGE_BANDS, VOLUNTEER, Role, parse_user_key, user_key
from bot.reports import age_band_label
from bot.texts import button_label, t
from bot.turn import Turn
from errors import InputError
from knowledge_base.topics import TOPIC_IDS, topic_name
from language.normalize import core_phrase, fold

if TYPE_CHECKING:
    from bot.assistant import Assistant

TEXT_LIMIT = max(MAX_TEXT.values()) + 100  # the guard's cut for a broadcast's text: past it, "too long" is said
_TEXT, _PLACE, _AT, _WEEKLY = "text", "place", "at", "weekly"
_CANCEL = frozenset({"thoi", "huy", "huy bo", "cancel", "stop", "dung", "dung lai", "bo", "khong gui nua"})
_CHANNEL_NAMES = {"telegram": "Telegram", "zalo_oa": "Zalo OA"}
_STATUS_ID = re.compile(r"^#?(\d{1,9})$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?$")
_HM = re.compile(r"^(\d{1,2})[:h](\d{2})$")
_DATE_TIME = re.compile(
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{4})?)\s+\d{1,2}[:h]\d{2}|\d{1,2}[:h]\d{2}\s+\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{4})?"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _desk(core: Assistant) -> BroadcastDesk | None:
    return core.broadcasts if core.people is not None else None


def _author(core: Assistant, turn: Turn) -> Role | None:
    """The sender's role when they may broadcast (an admin, or a volunteer with a region); None otherwise."""
    assert core.people is not None
    role = core.people.role_of(user_key(turn.user))
    if role is None or role.role not in (VOLUNTEER, ADMIN):
        return None
    return role


def _say(turn: Turn, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> Response:
    return turn.reply([Reply(text=t(key, turn.lang, **values), buttons=buttons)], intent="broadcast")


def _button(key: str, lang: str, *args: object) -> Button:
    return Button(button_label(key, lang), actions.encode(Verb.BROADCAST, *args))


# -- the draft, kept in the conversation state ------------------------------------------------------------


def _load(turn: Turn) -> Draft | None:
    if not turn.state.bcast:
        return None
    try:
        data: dict[str, Any] = json.loads(turn.state.bcast)
        sched = data.get("schedule") or {}
        clock = sched.get("clock")
        schedule = Schedule(
            sched.get("kind", NOW),
            at=datetime.fromisoformat(sched["at"]) if sched.get("at") else None,
            weekday=sched.get("weekday"),
            clock=time.fromisoformat(clock) if clock else None,
        )
        return Draft(
            user_key(turn.user),
            Segment.from_json(data.get("segment") or {}),
            schedule,
            data.get("lesson"),
            data.get("text"),
        )
    except (ValueError, TypeError, KeyError):  # a state from another version: start again
        return None


def _keep(turn: Turn, draft: Draft, step: str | None = None) -> None:
    schedule = draft.schedule
    data = {
        "lesson": draft.lesson_id,
        "text": draft.text,
        "segment": draft.segment.as_json(),
        "schedule": {
            "kind": schedule.kind,
            "at": schedule.at.isoformat() if schedule.at else None,
            "weekday": schedule.weekday,
            "clock": schedule.clock.strftime("%H:%M") if schedule.clock else None,
        },
    }
    turn.update(bcast=json.dumps(data, ensure_ascii=False), bcast_step=step)


def _close(turn: Turn) -> None:
    turn.update(bcast=None, bcast_step=None)


# -- /broadcast ------------------------------------------------------------------------------------------


def start(core: Assistant, turn: Turn) -> Response:
    """/broadcast (or the words for it): the first question; /broadcast status ID: a broadcast's report."""
    desk = _desk(core)
    if desk is None:
        return _say(turn, "not_available")
    words = [fold(w) for w in turn.args]
    if words and (words[0] in ("status", "ketqua", "xem", "report") or _STATUS_ID.match(words[0])):
        number = next((m.group(1) for w in words if (m := _STATUS_ID.match(w))), None)
        if number is None:
            return _say(turn, "bcast_status_usage")
        return status(core, turn, int(number))
    role = _author(core, turn)
    if role is None:
        return _say(turn, "bcast_citizen")
    if role.role == VOLUNTEER and role.region is None:
        return _say(turn, "bcast_no_region")
    _keep(turn, Draft(user_key(turn.user)))
    lang = turn.lang
    with_lessons = sorted({lesson.topic for lesson in desk.lessons.values()}, key=TOPIC_IDS.index)
    rows = tuple(
        (Button(topic_name(topic, lang), actions.encode(Verb.BROADCAST, "t", topic)),) for topic in with_lessons
    )
    return _say(
        turn,
        "bcast_pick",
        (*rows, (_button("bcast_free_text", lang, "x"),), (_button("bcast_cancel", lang, "no"),)),
        region=role.region.describe() if role.region else t("report_whole_country", lang),
    )


def _lessons_of(desk: BroadcastDesk, turn: Turn, topic: str) -> Response:
    lang = turn.lang
    rows = tuple(
        (Button(lesson.text(lang).title[:60], actions.encode(Verb.BROADCAST, "l", lesson.id)),)
        for lesson in desk.lessons.values()
        if lesson.topic == topic
    )
    return _say(
        turn, "bcast_pick_lesson", (*rows, (_button("bcast_back", lang, "back"),)), topic=topic_name(topic, lang)
    )


def _segment_menu(core: Assistant, desk: BroadcastDesk, turn: Turn, draft: Draft, before: str = "") -> Response:
    """Who gets it, as the desk will send it (a volunteer's region and a lesson's topic filled in), with how many
    that is now, and a button for each thing to change."""
    lang = turn.lang
    try:
        plan = desk.check(draft)
    except InputError as problem:
        return _problem(turn, problem, draft)
    count = desk.store.audience(plan.segment)
    rows = (
        (_button("bcast_topics", lang, "tp"), _button("bcast_place", lang, "pl")),
        (_button("bcast_langs", lang, "lg"), _button("bcast_channels", lang, "ch"), _button("bcast_ages", lang, "ag")),
        (_button("bcast_next", lang, "go"),),
        (_button("bcast_cancel", lang, "no"),),
    )
    text = t("bcast_segment_menu", lang, segment=describe_segment(plan.segment, lang), n=count.total)
    return turn.reply([Reply(text=(before + "\n\n" + text).strip(), buttons=rows)], intent="broadcast")


def _choices(turn: Turn, key: str, what: str, options: list[tuple[str, str]], chosen: tuple[str, ...]) -> Response:
    """One choice among `options` (value, label) or all of them; the chosen ones ticked."""
    lang = turn.lang
    rows = tuple(
        (Button(("✅ " if value in chosen else "") + label, actions.encode(Verb.BROADCAST, what, value)),)
        for value, label in options
    )
    everyone = (_button("bcast_all", lang, what, "*"),)
    return _say(turn, key, (*rows, everyone, (_button("bcast_back", lang, "seg"),)))


def _place_menu(desk: BroadcastDesk, turn: Turn, role: Role, draft: Draft) -> Response:
    lang = turn.lang
    rows: list[tuple[Button, ...]] = [(_button("bcast_whole_region", lang, "pa"),)]
    if role.region is not None and role.region.commune_codes:  # a volunteer of a few communes: one button each
        for code in role.region.commune_codes[:8]:
            unit = regions.commune(code)
            ticked = "✅ " if code in draft.segment.commune_codes else ""
            rows.append(
                (Button(ticked + (unit.name if unit else str(code)), actions.encode(Verb.BROADCAST, "pc", code)),)
            )
    rows.append((_button("bcast_type_place", lang, "pt"),))
    rows.append((_button("bcast_back", lang, "seg"),))
    region = role.region.describe() if role.region else t("report_whole_country", lang)
    return _say(turn, "bcast_place_menu", tuple(rows), region=region)


def _time_menu(turn: Turn) -> Response:
    lang = turn.lang
    rows = (
        (_button("bcast_now", lang, "w", "now"),),
        (_button("bcast_at", lang, "w", "at"), _button("bcast_weekly", lang, "w", "wk")),
        (_button("bcast_back", lang, "seg"),),
    )
    return _say(turn, "bcast_when", rows)


def _preview(core: Assistant, desk: BroadcastDesk, turn: Turn, draft: Draft) -> Response:
    lang = turn.lang
    try:
        preview = desk.preview(draft)
    except InputError as problem:
        return _problem(turn, problem, draft)
    plan = preview.plan
    per = ", ".join(f"{_CHANNEL_NAMES.get(c, c)} {n}" for c, n in sorted(preview.audience.by_channel.items()))
    text = t(
        "bcast_preview",
        lang,
        what=_what(desk, plan.kind, plan.lesson_id, lang),
        segment=describe_segment(plan.segment, lang),
        when=describe_schedule(plan.schedule, lang),
        n=preview.audience.total,
        per=per,
        text=escape_markup(plan.texts.get(lang, plan.text) if plan.texts else plan.text)[:600],
    )
    if plan.status == AWAITING_APPROVAL:
        text += "\n\n" + t("bcast_needs_approval", lang)
    rows = (
        (_button("bcast_confirm", lang, "ok"),),
        (_button("bcast_change", lang, "seg"), _button("bcast_cancel", lang, "no")),
    )
    return turn.reply([Reply(text=text, buttons=rows)], intent="broadcast")


def _create(core: Assistant, desk: BroadcastDesk, turn: Turn, draft: Draft) -> Response:
    try:
        created = desk.create(draft)
    except InputError as problem:
        return _problem(turn, problem, draft)
    _close(turn)  # a second press of Confirm finds nothing to confirm: never two broadcasts
    plan, lang = created.plan, turn.lang
    if plan.status == AWAITING_APPROVAL:
        key = "bcast_created_waiting"
    elif created.runs:
        key = "bcast_created_sending"
    elif plan.schedule.kind == WEEKLY:
        key = "bcast_created_weekly"
    else:
        key = "bcast_created_at"
    text = t(key, lang, id=created.id, n=created.audience.total, when=describe_schedule(plan.schedule, lang))
    rows = ((_button("bcast_see_report", lang, "s", created.id),),)
    response = turn.reply([Reply(text=text, buttons=rows)], intent="broadcast")
    if plan.status == AWAITING_APPROVAL:
        response = replace(response, notices=_tell_admins(core, created.id, user_key(turn.user)))
    return response


def _problem(turn: Turn, problem: InputError, draft: Draft) -> Response:
    """What the desk refused, in the user's words where the case is known; nothing was created."""
    detail = str(problem)
    lang = turn.lang
    if "matches nobody" in detail:
        key = "bcast_nobody"
    elif "outside" in detail:
        key = "bcast_outside"
    else:
        key = "bcast_refused"
    rows = ((_button("bcast_change", lang, "seg"), _button("bcast_cancel", lang, "no")),)
    return _say(turn, key, rows, problem=escape_markup(detail))


# -- buttons --------------------------------------------------------------------------------------------


def button(core: Assistant, turn: Turn) -> Response:
    """A /broadcast button; one of an older version, or a step that no longer applies, is said to be stale."""
    return _step(core, turn) or handlers.stale_button(core, turn)


def _step(core: Assistant, turn: Turn) -> Response | None:
    """bc:t:<topic>, bc:l:<lesson>, bc:x (free text), bc:seg, bc:tp|lg|ch|ag[:<value>|*], bc:pl, bc:pa,
    bc:pc:<commune>, bc:pt, bc:go, bc:w:now|at|wk, bc:ok, bc:no, bc:back, bc:s:<id>, bc:ap:<id>; None: stale."""
    desk, action = _desk(core), turn.action
    if desk is None or action is None:
        return None
    what, arg = action.arg(0), action.arg(1)
    if what == "s" and arg.isdigit():
        return status(core, turn, int(arg))
    if what == "ap" and arg.isdigit():
        return approve(core, turn, int(arg))
    if what == "no":
        _close(turn)
        return _say(turn, "bcast_cancelled")
    role = _author(core, turn)
    if role is None:
        return _say(turn, "bcast_citizen")
    draft = _load(turn)
    if draft is None:
        return _say(turn, "bcast_no_draft")
    if what == "back":
        return start(core, turn)
    if what == "t" and arg in TOPIC_IDS:
        return _lessons_of(desk, turn, arg)
    if what == "l" and arg in desk.lessons:
        draft = replace(draft, lesson_id=arg, text=None)
        _keep(turn, draft)
        return _segment_menu(core, desk, turn, draft)
    if what == "x":
        _keep(turn, draft, _TEXT)
        return _say(turn, "bcast_ask_text", ((_button("bcast_cancel", turn.lang, "no"),),))
    if draft.lesson_id is None and draft.text is None:  # a button of an older message, before the content
        return start(core, turn)
    segment = draft.segment
    if what == "seg":
        _keep(turn, draft)
        return _segment_menu(core, desk, turn, draft)
    if what in ("tp", "lg", "ch", "ag"):
        field, options, question = _CHOICES[what]
        if not arg:
            labels = _labels(what, options, turn.lang)
            return _choices(turn, question, what, labels, getattr(segment, field))
        if arg != "*" and arg not in options:
            return None
        chosen: tuple[str, ...] = () if arg == "*" else (arg,)
        if what == "tp":
            segment = replace(segment, topics=chosen)
        elif what == "lg":
            segment = replace(segment, langs=chosen)
        elif what == "ch":
            segment = replace(segment, channels=chosen)
        else:
            segment = replace(segment, age_bands=chosen)
        draft = replace(draft, segment=segment)
        _keep(turn, draft)
        return _segment_menu(core, desk, turn, draft)
    if what == "pl":
        return _place_menu(desk, turn, role, draft)
    if what == "pa":
        draft = replace(draft, segment=replace(segment, province_code=None, commune_codes=()))
        _keep(turn, draft)
        return _segment_menu(core, desk, turn, draft)
    if what == "pc" and arg.isdigit() and role.region is not None and int(arg) in role.region.commune_codes:
        code = int(arg)
        codes = tuple(c for c in segment.commune_codes if c != code)
        if code not in segment.commune_codes:
            codes = (*codes, code)
        draft = replace(draft, segment=replace(segment, province_code=None, commune_codes=codes))
        _keep(turn, draft)
        return _segment_menu(core, desk, turn, draft)
    if what == "pt":
        _keep(turn, draft, _PLACE)
        return _say(turn, "bcast_ask_place", ((_button("bcast_back", turn.lang, "seg"),),))
    if what == "go":
        _keep(turn, draft)
        return _time_menu(turn)
    if what == "w":
        if arg == "now":
            draft = replace(draft, schedule=Schedule())
            _keep(turn, draft)
            return _preview(core, desk, turn, draft)
        if arg in ("at", "wk"):
            _keep(turn, draft, _AT if arg == "at" else _WEEKLY)
            return _say(turn, "bcast_ask_at" if arg == "at" else "bcast_ask_weekly")
        return None
    if what == "ok":
        return _create(core, desk, turn, draft)
    return None


# A segment's field each button changes: (Segment attribute, its values, the question).
_CHOICES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "tp": ("topics", TOPIC_IDS, "bcast_choose_topics"),
    "lg": ("langs", ("vi", "en"), "bcast_choose_langs"),
    "ch": ("channels", SENDABLE, "bcast_choose_channels"),
    "ag": ("age_bands", AGE_BANDS, "bcast_choose_ages"),
}


def _labels(what: str, options: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    if what == "tp":
        return [(o, topic_name(o, lang)) for o in options]
    if what == "lg":
        return [(o, button_label(o, lang)) for o in options]
    if what == "ch":
        return [(o, _CHANNEL_NAMES.get(o, o)) for o in options]
    return [(o, age_band_label(o, lang)) for o in options]


# -- typed answers --------------------------------------------------------------------------------------


def on_text(core: Assistant, turn: Turn) -> Response | None:
    """The typed answer the open /broadcast waits for (its text, its communes, its time); None: none awaited."""
    desk, step = _desk(core), turn.state.bcast_step
    if desk is None or step is None:
        return None
    draft, role = _load(turn), _author(core, turn)
    if draft is None or role is None:
        _close(turn)
        return None
    text = turn.text.strip()
    if core_phrase(fold(text)) in _CANCEL:
        _close(turn)
        return _say(turn, "bcast_cancelled")
    if step == _TEXT:
        return _typed_text(core, desk, turn, draft, text)
    if "?" in text or (len(text.split()) > 8 and ";" not in text):  # a question, not a place or a time
        turn.update(bcast_step=None)
        return None
    if step == _PLACE:
        return _typed_place(core, desk, turn, role, draft, text)
    try:
        schedule = _typed_at(text) if step == _AT else parse_weekly(text)
    except InputError as problem:
        if step == _AT and "past" in str(problem):
            return _say(turn, "bcast_past")
        return _say(turn, "bcast_bad_at" if step == _AT else "bcast_bad_weekly")
    draft = replace(draft, schedule=schedule)
    _keep(turn, draft)
    return _preview(core, desk, turn, draft)


def on_time(core: Assistant, turn: Turn) -> Response | None:
    """The time an open /broadcast waits for, before the guard: "2026-12-08 08:00" reads to the guard as an ID
    number and would be hidden. Only a message that is a valid date and time and nothing else is taken here (no
    secret can be one); anything else goes the usual way, through the guard."""
    if turn.state.bcast_step != _AT or _DATE_TIME.fullmatch(turn.message.text.strip()) is None:
        return None
    try:
        _typed_at(turn.message.text.strip())
    except InputError as problem:
        if "past" not in str(problem):  # not a real date ("31/02"): the guard decides what it is
            return None
    turn.text = turn.message.text.strip()
    turn.redacted = "<broadcast time>"
    return on_text(core, turn)


def _typed_text(core: Assistant, desk: BroadcastDesk, turn: Turn, draft: Draft, text: str) -> Response:
    if "sensitive_data" in turn.warnings:  # never stored, never sent to a commune
        return _say(turn, "bcast_text_secret")
    if not text:
        return _say(turn, "bcast_text_empty")
    channels = draft.segment.channels or SENDABLE
    for channel in sorted(channels):
        length, limit = text_length(text, channel), MAX_TEXT[channel]
        if length > limit:
            return _say(turn, "bcast_text_long", n=length, limit=limit, channel=_CHANNEL_NAMES.get(channel, channel))
    bad = unofficial_links(text, desk.official_hosts)
    if bad:
        return _say(turn, "bcast_text_links", links=", ".join(escape_markup(b) for b in bad[:5]))
    draft = replace(draft, text=text, lesson_id=None)
    _keep(turn, draft)
    return _segment_menu(core, desk, turn, draft)


def _typed_place(core: Assistant, desk: BroadcastDesk, turn: Turn, role: Role, draft: Draft, text: str) -> Response:
    """ "tỉnh Nghệ An", or communes separated by ";" ("Hoàn Kiếm; Ba Đình"): a volunteer's province is
    understood when a commune is written without one."""
    words = fold(text).split()
    prefix = 2 if words[:2] == ["thanh", "pho"] else 1 if words[:1] and words[0] in ("tinh", "tp", "province") else 0
    home = regions.province(role.region.province_code) if role.region and role.region.province_code else None
    try:
        if prefix:
            code, codes = parse_place(" ".join(text.split()[prefix:]), [])
        else:
            names = [part.strip() for part in text.split(";") if part.strip()]
            code, codes = parse_place(None, [n if "," in n or home is None else f"{n}, {home.short}" for n in names])
        segment = replace(draft.segment, province_code=code, commune_codes=codes)
        desk.within_region(role, segment)
    except InputError as problem:
        if "outside" in str(problem):
            region = role.region.describe() if role.region else ""
            return _say(turn, "bcast_outside_region", ((_button("bcast_back", turn.lang, "seg"),),), region=region)
        return _say(
            turn,
            "bcast_place_unknown",
            ((_button("bcast_back", turn.lang, "seg"),),),
            name=escape_markup(text[:60]),
            problem=escape_markup(str(problem)),
        )
    draft = replace(draft, segment=segment)
    _keep(turn, draft)
    return _segment_menu(core, desk, turn, draft)


def _typed_at(text: str) -> Schedule:
    """ "2026-12-08 08:00", also "08/12/2026 08:00", "8/12 8:00" or "8:00 8/12" (this year), Viet Nam time."""
    words = text.replace(",", " ").split()
    if len(words) == 2:
        day, clock = (words[0], words[1]) if _DMY.match(words[0]) else (words[1], words[0])
        dmy, hm = _DMY.match(day), _HM.match(clock)
        if dmy and hm:
            now = _now().astimezone(ZONE)
            year = int(dmy.group(3) or now.year)
            text = f"{year:04d}-{int(dmy.group(2)):02d}-{int(dmy.group(1)):02d} {int(hm.group(1)):02d}:{hm.group(2)}"
    return parse_at(text, _now())


# -- the report -----------------------------------------------------------------------------------------


def status(core: Assistant, turn: Turn, broadcast_id: int) -> Response:
    """A broadcast's report, for its author or an admin."""
    desk = _desk(core)
    assert desk is not None and core.people is not None
    me = user_key(turn.user)
    report = desk.store.report(broadcast_id)
    if report is None:
        return _say(turn, "bcast_unknown_id", id=broadcast_id)
    if report.created_by != me and not core.people.is_admin(me):
        return _say(turn, "bcast_not_yours", id=broadcast_id)
    return turn.reply([Reply(text=describe_report(desk, report, turn.lang))], intent="broadcast_status")


def describe_report(desk: BroadcastDesk, report: BroadcastReport, lang: str) -> str:
    counts = report.counts
    lines = [
        t(
            "bcast_report",
            lang,
            id=report.id,
            status=_status_name(report.status, lang),
            what=_what(desk, report.kind, report.lesson_id, lang),
            when=describe_schedule(report.schedule, lang),
            total=report.total,
            sent=counts.get("sent", 0),
            pending=report.pending,
            failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0),
            uncertain=counts.get("uncertain", 0),
        )
    ]
    for reason, n in sorted(report.failed_by_reason.items(), key=lambda item: -item[1]):
        lines.append(f"  • {escape_markup(reason)}: {n}")
    if counts.get("offered", 0) or report.pulled:
        lines.append(t("bcast_report_offers", lang, offered=counts.get("offered", 0), pulled=report.pulled))
    if report.kind == KIND_LESSON:
        lines.append(t("bcast_report_quiz", lang, answered=report.quiz_answered, finished=report.quiz_finished))
    for run in report.runs[:5]:
        when = run.run_at.astimezone(ZONE).strftime("%d/%m/%Y %H:%M")
        lines.append(t("bcast_report_run", lang, when=when, sent=run.sent, total=run.total, answered=run.quiz_answered))
    if report.status == REJECTED and report.note:
        lines.append(t("bcast_report_rejected", lang, reason=escape_markup(report.note)))
    return "\n".join(lines)


def _status_name(status: str, lang: str) -> str:
    key = {
        AWAITING_APPROVAL: "bcast_st_waiting",
        REJECTED: "bcast_st_rejected",
        SCHEDULED: "bcast_st_scheduled",
        "sending": "bcast_st_sending",
        "paused": "bcast_st_paused",
        "cancelled": "bcast_st_cancelled",
        "done": "bcast_st_done",
    }.get(status)
    return t(key, lang) if key else status


# -- admins: approvals -------------------------------------------------------------------------------------


def _admin(core: Assistant, turn: Turn) -> bool:
    return core.people is not None and core.people.is_admin(user_key(turn.user))


def _admin_desk(core: Assistant, turn: Turn) -> BroadcastDesk | Response:
    """The desk, for an admin; otherwise the answer that says why not."""
    desk = _desk(core)
    if desk is None:
        return _say(turn, "not_available")
    return desk if _admin(core, turn) else _say(turn, "admin_only")


def _awaiting(desk: BroadcastDesk, turn: Turn, broadcast_id: int) -> BroadcastReport | Response:
    """The broadcast's report when it awaits approval; otherwise the answer that says why not."""
    report = desk.store.report(broadcast_id)
    if report is None:
        return _say(turn, "bcast_unknown_id", id=broadcast_id)
    if report.status != AWAITING_APPROVAL:
        return _say(turn, "bcast_not_waiting", id=broadcast_id, status=_status_name(report.status, turn.lang))
    return report


def approvals(core: Assistant, turn: Turn) -> Response:
    """/approvals: the free texts waiting for an admin, each with its Approve button."""
    desk = _admin_desk(core, turn)
    if isinstance(desk, Response):
        return desk
    waiting = desk.store.awaiting()
    if not waiting:
        return _say(turn, "bcast_none_waiting")
    lang = turn.lang
    replies = [Reply(text=t("bcast_waiting_intro", lang, n=len(waiting)))]
    for report in waiting:
        text = t(
            "bcast_waiting_item",
            lang,
            id=report.id,
            by=report.created_by,
            segment=describe_segment(report.segment or Segment(), lang),
            when=describe_schedule(report.schedule, lang),
            text=escape_markup(report.text[:500]),
        )
        rows = (
            (Button(t("bcast_approve_button", lang, id=report.id), actions.encode(Verb.BROADCAST, "ap", report.id)),),
        )
        replies.append(Reply(text=text, buttons=rows))
    return turn.reply(replies, intent="approvals")


def approve_command(core: Assistant, turn: Turn) -> Response:
    """/approve ID"""
    number = next((m.group(1) for w in turn.args if (m := _STATUS_ID.match(w))), None)
    if number is None:
        return _say(turn, "bcast_approve_usage")
    return approve(core, turn, int(number))


def approve(core: Assistant, turn: Turn, broadcast_id: int) -> Response:
    desk = _admin_desk(core, turn)
    if isinstance(desk, Response):
        return desk
    report = _awaiting(desk, turn, broadcast_id)
    if isinstance(report, Response):
        return report
    try:
        runs = desk.approve(broadcast_id, user_key(turn.user))
    except InputError as problem:
        return _say(turn, "bcast_refused", problem=escape_markup(str(problem)))
    after = desk.report(broadcast_id)
    sent_to = sum(desk.report(run).total for run in runs) if runs else 0
    key = "bcast_approved_now" if runs else "bcast_approved_later"
    response = _say(turn, key, id=broadcast_id, n=sent_to, when=describe_schedule(after.schedule, turn.lang))
    told = _tell(core, report.created_by, "bcast_author_approved", id=broadcast_id)
    return replace(response, notices=told)


def reject_command(core: Assistant, turn: Turn) -> Response:
    """/reject ID reason"""
    desk = _admin_desk(core, turn)
    if isinstance(desk, Response):
        return desk
    match = _STATUS_ID.match(turn.args[0]) if turn.args else None
    reason = " ".join(turn.args[1:]).strip()  # guarded: a secret in a reason is never stored
    if match is None or not reason:
        return _say(turn, "bcast_reject_usage")
    broadcast_id = int(match.group(1))
    report = _awaiting(desk, turn, broadcast_id)
    if isinstance(report, Response):
        return report
    try:
        desk.reject(broadcast_id, user_key(turn.user), reason)
    except InputError as problem:
        return _say(turn, "bcast_refused", problem=escape_markup(str(problem)))
    response = _say(turn, "bcast_rejected", id=broadcast_id)
    told = _tell(core, report.created_by, "bcast_author_rejected", id=broadcast_id, reason=reason[:500])
    return replace(response, notices=told)


def _tell(core: Assistant, key: str, text_key: str, **values: object) -> tuple[Notice, ...]:
    """A notice for the user `key` in their language; none for the server's operator or a malformed key."""
    try:
        channel, user_id = parse_user_key(key)
    except InputError:
        return ()
    lang = core.states.load(channel, user_id).lang or core.default_lang
    return (Notice(channel, user_id, t(text_key, lang, **values)),)


def _tell_admins(core: Assistant, broadcast_id: int, author: str) -> tuple[Notice, ...]:
    """Every admin (config.yml's and those made in the store) is told a text awaits them."""
    assert core.people is not None
    keys = set(core.people.admins) | {r.key for r in core.people.store.roles() if r.role == ADMIN}
    return tuple(
        n for key in sorted(keys - {author}) for n in _tell(core, key, "bcast_admin_told", id=broadcast_id, by=author)
    )


# -- descriptions --------------------------------------------------------------------------------------------


def _what(desk: BroadcastDesk, kind: str, lesson_id: str | None, lang: str) -> str:
    if kind == KIND_LESSON and lesson_id is not None:
        lesson = desk.lessons.get(lesson_id)
        return t("bcast_what_lesson", lang, title=lesson.text(lang).title if lesson else lesson_id)
    return t("bcast_what_text", lang)


def describe_segment(segment: Segment, lang: str) -> str:
    everyone = t("bcast_everyone", lang)
    region = segment.region
    return t(
        "bcast_segment",
        lang,
        topics=", ".join(topic_name(x, lang) for x in segment.topics) or t("bcast_any_topic", lang),
        place=region.describe() if region is not None else t("report_whole_country", lang),
        langs=", ".join(button_label(x, lang) for x in segment.langs) or everyone,
        channels=", ".join(_CHANNEL_NAMES.get(x, x) for x in segment.channels) or everyone,
        ages=", ".join(age_band_label(x, lang) for x in segment.age_bands) or everyone,
    )


def describe_schedule(schedule: Schedule, lang: str) -> str:
    if schedule.kind == AT and schedule.at is not None:
        return t("bcast_when_at", lang, time=schedule.at.astimezone(ZONE).strftime("%H:%M %d/%m/%Y"))
    if schedule.kind == WEEKLY and schedule.weekday is not None and schedule.clock is not None:
        day = t("bcast_weekdays", lang).split(",")[schedule.weekday]
        return t("bcast_when_weekly", lang, day=day, clock=schedule.clock.strftime("%H:%M"))
    return t("bcast_when_now", lang)
