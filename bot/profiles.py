"""Where a user lives (/profile), their subscriptions (/subscribe, /unsubscribe, the stop words) and admins'
role commands (/promote, /demote, /roles), in the chat. The rules and the store are in bot/people.py.

The profile is a short flow: province, then commune, then an optional age band. Each question accepts a typed
name (matched by bot/regions.py) and offers the likely matches as buttons (at most five; text-only channels
show them as numbered lines). "bỏ qua" skips, "thôi" / "dừng" close it (routes.PHRASES), and a message that is
clearly a question rather than a place leaves the flow and is answered.

Stop words: "DỪNG", "HỦY", "STOP" (also "dung", "huy"), alone in a message, from a user who has subscriptions,
end every subscription at once on every channel, whatever else is open, and say how to subscribe again. From a
user without subscriptions they keep their meaning of closing the open quiz or walk-through.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot import actions, regions
from bot.actions import Verb
from bot.messages import Button, Reply, Response, escape_markup
from bot.people import (
    ADMIN,
    AGE_BANDS,
    CITIZEN,
    ENDED_STOP_WORD,
    ENDED_UNSUBSCRIBE,
    VOLUNTEER,
    People,
    PeopleError,
    Profile,
    Region,
    parse_region,
    parse_user_key,
    user_key,
)
from bot.texts import button_label, t
from bot.turn import Turn
from knowledge_base.topics import TOPIC_IDS, find_topic, topic_name
from language.normalize import core_phrase, fold

if TYPE_CHECKING:
    from bot.assistant import Assistant

# Folded: "DỪNG", "dung", "HỦY", "huy", "STOP". "đúng" (right) also folds to "dung": its "đ" tells them apart.
STOP_WORDS = frozenset({"dung", "huy", "stop"})
_AGE_LABELS = {"u40": "age_u40", "40_59": "age_40_59", "60p": "age_60p"}  # bot/texts.py BUTTONS, by AGE_BANDS
_SKIP = frozenset({"bo qua", "skip", "khong", "ko", "khoi", "no", "khong muon", "bo"})
_PROVINCE, _COMMUNE, _AGE = "province", "commune", "age"


def _now() -> datetime:
    return datetime.now(UTC)


def _people(core: Assistant) -> People | None:
    return core.people


# -- the profile --------------------------------------------------------------------------------------


def offer(core: Assistant, turn: Turn) -> Reply | None:
    """The once-only offer on first use (/start): None when already offered or nothing is stored."""
    people = _people(core)
    if people is None:
        return None
    profile = people.store.profile(turn.user)
    if profile.offered or not profile.empty:
        return None
    people.store.save_profile(turn.user, Profile(offered=True))
    lang = turn.lang
    return Reply(
        text=t("profile_offer", lang),
        buttons=(
            (
                Button(button_label("profile_start", lang), actions.encode(Verb.PROFILE, "go")),
                Button(button_label("profile_skip", lang), actions.encode(Verb.PROFILE, "skip")),
            ),
        ),
    )


def show(core: Assistant, turn: Turn) -> Response:
    """/profile: what is stored (place, age band, subscriptions), with Change and Delete; with nothing stored,
    the first question at once."""
    people = _people(core)
    if people is None:
        return turn.reply([Reply(text=t("not_available", turn.lang))], intent="profile")
    profile = people.store.profile(turn.user)
    if profile.province_code is None and profile.age_band is None and not people.store.subscriptions(turn.user):
        return _ask_province(turn)
    return turn.reply([_summary(people, turn, profile)], intent="profile")


def _summary(people: People, turn: Turn, profile: Profile) -> Reply:
    lang = turn.lang
    unset = t("profile_unset", lang)
    province = regions.province(profile.province_code) if profile.province_code is not None else None
    commune = regions.commune(profile.commune_code) if profile.commune_code is not None else None
    topics = [topic_name(s.topic, lang) for s in people.store.subscriptions(turn.user)]
    text = t(
        "profile_show",
        lang,
        province=province.name if province else unset,
        commune=commune.name if commune else unset,
        age=button_label(_AGE_LABELS[profile.age_band], lang) if profile.age_band in _AGE_LABELS else unset,
        topics=", ".join(topics) or t("profile_none", lang),
    )
    return Reply(
        text=text,
        buttons=(
            (
                Button(button_label("profile_change", lang), actions.encode(Verb.PROFILE, "go")),
                Button(button_label("profile_delete", lang), actions.encode(Verb.PROFILE, "del")),
            ),
        ),
    )


def _ask_province(turn: Turn) -> Response:
    turn.update(profile_step=_PROVINCE, profile_province=None)
    return turn.reply(
        [Reply(text=t("profile_ask_province", turn.lang), buttons=_skip_row(turn.lang))], intent="profile"
    )


def _ask_commune(people: People, turn: Turn, province: regions.Province) -> Response:
    """The province is saved at once (a commune skipped keeps it), then its commune is asked."""
    profile = people.store.profile(turn.user)
    people.store.save_profile(turn.user, replace(profile, province_code=province.code, commune_code=None, offered=True))
    turn.update(profile_step=_COMMUNE, profile_province=province.code)
    text = t("profile_ask_commune", turn.lang, province=province.name)
    return turn.reply([Reply(text=text, buttons=_skip_row(turn.lang))], intent="profile")


def _ask_age(turn: Turn, before: list[Reply] | None = None) -> Response:
    turn.update(profile_step=_AGE)
    lang = turn.lang
    bands = tuple(
        Button(button_label(_AGE_LABELS[band], lang), actions.encode(Verb.PROFILE, "a", band)) for band in AGE_BANDS
    )
    reply = Reply(text=t("profile_ask_age", lang), buttons=(bands, *_skip_row(lang)))
    return turn.reply([*(before or []), reply], intent="profile")


def _skip_row(lang: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(button_label("profile_skip", lang), actions.encode(Verb.PROFILE, "skip")),),)


def _choices(turn: Turn, kind: str, found: list[tuple[int, str]]) -> Response:
    buttons = tuple((Button(name, actions.encode(Verb.PROFILE, kind, code)),) for code, name in found)
    return turn.reply(
        [Reply(text=t("profile_choose", turn.lang), buttons=(*buttons, *_skip_row(turn.lang)))], intent="profile"
    )


def _close(turn: Turn) -> None:
    turn.update(profile_step=None, profile_province=None)


def on_text(core: Assistant, turn: Turn) -> Response | None:
    """A typed answer while the profile flow is open; None: not an answer (a question), answer it instead."""
    people, step = _people(core), turn.state.profile_step
    if people is None or step is None:
        return None
    text = turn.text.strip()  # guarded: a secret typed by mistake is never echoed back or matched
    if turn.normalized is not None and turn.normalized.is_empty:
        return _ask_again(turn, step)
    folded = core_phrase(fold(text))
    if folded in _SKIP:
        return _skip(people, turn)
    if len(text) > regions.MAX_NAME_CHARS:
        return turn.reply([Reply(text=t("profile_too_long", turn.lang))], intent="profile")
    if step == _AGE:
        band = _age_band(folded)
        if band is None:
            if _looks_like_a_question(text):
                _close(turn)
                return None
            return _ask_age(turn, [Reply(text=t("profile_age_unclear", turn.lang))])
        return _save_age(people, turn, band)
    if step == _PROVINCE:
        provinces = regions.find_provinces(text)
        exact = [p for p in provinces if regions.key(p.short) == regions.key(text)]
        if len(exact) == 1 or len(provinces) == 1:
            return _ask_commune(people, turn, (exact or provinces)[0])
        if provinces:
            return _choices(turn, "p", [(p.code, p.name) for p in provinces])
        if _looks_like_a_question(text):
            _close(turn)
            return None
        return turn.reply(
            [
                Reply(
                    text=t("profile_no_province", turn.lang, name=escape_markup(text[:60])),
                    buttons=_skip_row(turn.lang),
                )
            ],
            intent="profile",
        )
    province = regions.province(turn.state.profile_province or -1)
    if province is None:  # a state from another version: start again
        return _ask_province(turn)
    communes = regions.find_communes(text, province.code)
    named = [c for c in communes if regions.key(c.name) == regions.key(text)]
    if len(named) == 1 or len(communes) == 1:
        return _save_commune(people, turn, (named or communes)[0])
    if communes:
        return _choices(turn, "c", [(c.code, c.name) for c in communes])
    if _looks_like_a_question(text):
        _close(turn)
        return None
    reply = Reply(
        text=t("profile_no_commune", turn.lang, name=escape_markup(text[:60]), province=province.name),
        buttons=_skip_row(turn.lang),
    )
    return turn.reply([reply], intent="profile")


def _ask_again(turn: Turn, step: str) -> Response:
    empty = Reply(text=t("profile_empty", turn.lang))
    if step == _AGE:
        return _ask_age(turn, [empty])
    province = regions.province(turn.state.profile_province or -1)
    if step == _COMMUNE and province is not None:
        question = t("profile_ask_commune", turn.lang, province=province.name)
    else:
        question = t("profile_ask_province", turn.lang)
    return turn.reply([empty, Reply(text=question, buttons=_skip_row(turn.lang))], intent="profile")


def _looks_like_a_question(text: str) -> bool:
    return "?" in text or len(text.split()) > 5


_AGE_NUMBER = re.compile(r"\b(\d{1,3})\b")


def _age_band(folded: str) -> str | None:
    match = _AGE_NUMBER.search(folded)
    if match is None:
        return None
    age = int(match.group(1))
    if not 5 <= age <= 120:
        return None
    return "u40" if age < 40 else "40_59" if age < 60 else "60p"


def _skip(people: People, turn: Turn) -> Response:
    step = turn.state.profile_step
    _close(turn)
    profile = people.store.profile(turn.user)
    if not profile.offered:
        people.store.save_profile(turn.user, replace(profile, offered=True))
    if step == _COMMUNE:  # the province is kept; the age band is still worth asking
        return _ask_age(turn)
    if step == _AGE:  # the place is saved already; the age band is what was skipped
        return turn.reply(
            [Reply(text=t("profile_saved", turn.lang)), _summary(people, turn, profile)], intent="profile"
        )
    return turn.reply([Reply(text=t("profile_skipped", turn.lang))], intent="profile")


def _save_commune(people: People, turn: Turn, commune: regions.Commune) -> Response:
    profile = people.store.profile(turn.user)
    people.store.save_profile(
        turn.user, replace(profile, province_code=commune.province_code, commune_code=commune.code, offered=True)
    )
    province = regions.province(commune.province_code)
    where = f"{commune.name}, {province.name}" if province else commune.name
    return _ask_age(turn, [Reply(text=f"📍 {where}")])


def _save_age(people: People, turn: Turn, band: str) -> Response:
    profile = people.store.profile(turn.user)
    profile = replace(profile, age_band=band, offered=True)
    people.store.save_profile(turn.user, profile)
    _close(turn)
    return turn.reply([Reply(text=t("profile_saved", turn.lang)), _summary(people, turn, profile)], intent="profile")


def button(core: Assistant, turn: Turn) -> Response | None:
    """pf:go (ask), pf:skip, pf:p:<province>, pf:c:<commune>, pf:a:<band>, pf:del; None: stale."""
    people, action = _people(core), turn.action
    if people is None or action is None:
        return None
    what, arg = action.arg(0), action.arg(1)
    if what == "go":
        return _ask_province(turn)
    if what == "skip":
        return _skip(people, turn)
    if what == "del":
        people.store.save_profile(turn.user, Profile(offered=True))
        _close(turn)
        return turn.reply([Reply(text=t("profile_deleted", turn.lang))], intent="profile")
    if what == "a" and arg in AGE_BANDS:
        return _save_age(people, turn, arg)
    code = int(arg) if arg.isdigit() else -1
    if what == "p" and (province := regions.province(code)) is not None:
        return _ask_commune(people, turn, province)
    if what == "c" and (commune := regions.commune(code)) is not None:
        return _save_commune(people, turn, commune)
    return None


# -- subscriptions --------------------------------------------------------------------------------------


def _topics_named(args: tuple[str, ...]) -> tuple[str, ...] | None:
    """Topics named by a command's words: every topic for "all" / "tat ca", None when none is named."""
    folded = fold(" ".join(args))
    if not folded.strip():
        return None
    if folded.strip() in ("all", "tat ca", "het", "tat"):
        return TOPIC_IDS
    topic = find_topic(folded)
    return (topic,) if topic else None


def subscribe(core: Assistant, turn: Turn) -> Response:
    """/subscribe [topic|all]: a named topic is an explicit opt-in; without one, the topics to choose from."""
    people = _people(core)
    if people is None:
        return turn.reply([Reply(text=t("not_available", turn.lang))], intent="subscribe")
    named = _topics_named(turn.args)
    if named is not None:
        return _subscribe(people, turn, named)
    lang, held = turn.lang, {s.topic for s in people.store.subscriptions(turn.user)}
    rows = tuple(
        (Button(topic_name(topic, lang), actions.encode(Verb.SUBSCRIBE, topic)),)
        for topic in TOPIC_IDS
        if topic not in held
    )
    text = t(
        "subscribe_offer",
        lang,
        quiet_start=people.quiet.start.strftime("%H:%M"),
        quiet_end=people.quiet.end.strftime("%H:%M"),
    )
    if not rows:
        return turn.reply(
            [Reply(text=t("subscribe_already", lang, topics=", ".join(topic_name(x, lang) for x in TOPIC_IDS)))],
            intent="subscribe",
        )
    all_row = ((Button(button_label("subscribe_all", lang), actions.encode(Verb.SUBSCRIBE, "all")),),)
    return turn.reply([Reply(text=text, buttons=(*rows, *all_row))], intent="subscribe")


def subscribe_button(core: Assistant, turn: Turn) -> Response | None:
    people, action = _people(core), turn.action
    if people is None or action is None:
        return None
    chosen = action.arg(0)
    if chosen == "all":
        return _subscribe(people, turn, TOPIC_IDS)
    if chosen not in TOPIC_IDS:
        return None
    return _subscribe(people, turn, (chosen,))


def _subscribe(people: People, turn: Turn, topics: tuple[str, ...]) -> Response:
    now = _now()
    added = [topic for topic in topics if people.store.subscribe(turn.user, topic, now)]
    lang = turn.lang
    if not added:
        names = ", ".join(topic_name(topic, lang) for topic in topics)
        return turn.reply([Reply(text=t("subscribe_already", lang, topics=names))], intent="subscribe")
    names = ", ".join(topic_name(topic, lang) for topic in added)
    return turn.reply([Reply(text=t("subscribe_done", lang, topics=names))], intent="subscribe")


def unsubscribe(core: Assistant, turn: Turn) -> Response:
    """/unsubscribe [topic|all]: without one, the user's subscriptions to choose from."""
    people = _people(core)
    if people is None:
        return turn.reply([Reply(text=t("not_available", turn.lang))], intent="unsubscribe")
    held = [s.topic for s in people.store.subscriptions(turn.user)]
    lang = turn.lang
    if not held:
        return turn.reply([Reply(text=t("unsubscribe_none", lang))], intent="unsubscribe")
    named = _topics_named(turn.args)
    if named is not None:
        return _unsubscribe(people, turn, named)
    rows = tuple((Button(topic_name(topic, lang), actions.encode(Verb.UNSUBSCRIBE, topic)),) for topic in held)
    all_row = ((Button(button_label("unsubscribe_all", lang), actions.encode(Verb.UNSUBSCRIBE, "all")),),)
    return turn.reply([Reply(text=t("unsubscribe_choose", lang), buttons=(*rows, *all_row))], intent="unsubscribe")


def unsubscribe_button(core: Assistant, turn: Turn) -> Response | None:
    people, action = _people(core), turn.action
    if people is None or action is None:
        return None
    chosen = action.arg(0)
    if chosen == "all":
        return _unsubscribe(people, turn, None)
    if chosen not in TOPIC_IDS:
        return None
    return _unsubscribe(people, turn, (chosen,))


def _unsubscribe(people: People, turn: Turn, topics: tuple[str, ...] | None) -> Response:
    ended = people.store.unsubscribe(turn.user, topics, ENDED_UNSUBSCRIBE, _now())
    lang = turn.lang
    if not ended:
        return turn.reply([Reply(text=t("unsubscribe_none", lang))], intent="unsubscribe")
    names = ", ".join(topic_name(topic, lang) for topic in ended)
    return turn.reply([Reply(text=t("unsubscribe_done", lang, topics=names))], intent="unsubscribe")


def is_stop_word(text: str) -> bool:
    typed = " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())
    folded = fold(typed)
    return folded in STOP_WORDS and (folded != "dung" or typed.startswith("d"))


def stop_word(core: Assistant, turn: Turn) -> Response | None:
    """ "DỪNG" / "HỦY" / "STOP" alone from a subscribed user: every subscription ended, and any open flow closed."""
    people = _people(core)
    if people is None or not is_stop_word(turn.text):
        return None
    ended = people.store.unsubscribe(turn.user, None, ENDED_STOP_WORD, _now())
    if not ended:
        return None
    if core.tutor is not None:
        core.tutor.stop(turn.user)
    drafting = turn.state.bcast is not None  # a volunteer's /broadcast being made: closed too, or the next
    # message would be taken for its text
    turn.update(step_article=None, step_index=0, profile_step=None, profile_province=None, bcast=None, bcast_step=None)
    names = ", ".join(topic_name(topic, turn.lang) for topic in ended)
    replies = [Reply(text=t("stop_word_done", turn.lang, topics=names))]
    if drafting:
        replies.append(Reply(text=t("bcast_cancelled", turn.lang)))
    return turn.reply(replies, intent="unsubscribe")


# -- roles, for admins in the chat --------------------------------------------------------------------


def _admin(core: Assistant, turn: Turn) -> People | None:
    people = _people(core)
    if people is None or not people.is_admin(user_key(turn.user)):
        return None
    return people


def promote(core: Assistant, turn: Turn) -> Response:
    """/promote <key> admin | tinh <province> | xa <commune>, <province>; <commune>, <province>"""
    people = _admin(core, turn)
    if people is None:
        return turn.reply([Reply(text=t("admin_only", turn.lang))], intent="promote")
    args = _admin_args(turn)
    if len(args) < 2:
        return turn.reply([Reply(text=t("admin_usage", turn.lang))], intent="promote")
    key, kind, rest = args[0], fold(args[1]), " ".join(args[2:])
    try:
        parse_user_key(key)
        if kind == "admin":
            role, region = ADMIN, None
        elif kind in ("tinh", "province", "tp"):
            role, region = VOLUNTEER, parse_region(rest, [])
        elif kind in ("xa", "phuong", "communes", "commune"):
            role, region = VOLUNTEER, parse_region(None, [part for part in rest.split(";") if part.strip()])
        else:
            return turn.reply([Reply(text=t("admin_usage", turn.lang))], intent="promote")
    except PeopleError as problem:
        return turn.reply([Reply(text=t("admin_error", turn.lang, problem=str(problem)))], intent="promote")
    return _changed(people, turn, key, role, region)


def demote(core: Assistant, turn: Turn) -> Response:
    people = _admin(core, turn)
    if people is None:
        return turn.reply([Reply(text=t("admin_only", turn.lang))], intent="demote")
    args = _admin_args(turn)
    if len(args) != 1:
        return turn.reply([Reply(text=t("admin_usage", turn.lang))], intent="demote")
    try:
        parse_user_key(args[0])
    except PeopleError as problem:
        return turn.reply([Reply(text=t("admin_error", turn.lang, problem=str(problem)))], intent="demote")
    return _changed(people, turn, args[0], CITIZEN, None)


_USER_KEY = re.compile(r"(?:telegram|zalo_oa|zalo_bot|terminal):[0-9A-Za-z_-]{1,128}")


def _admin_args(turn: Turn) -> tuple[str, ...]:
    """An admin command's words. User ids are long digit runs the guard takes for account or ID numbers
    ("zalo_oa:8461234567890123456"): when the first word as typed is a well-formed user key, the words as
    typed are used (an admin's command, checked to come from an admin; only codes and the key are stored,
    and the journal keeps the redacted text). Otherwise the guarded words, whose key is then refused."""
    typed = turn.message.text[:1000].split()[1:]
    if typed and _USER_KEY.fullmatch(typed[0]):
        return tuple(typed)
    return turn.args


def _changed(people: People, turn: Turn, key: str, role: str, region: Region | None) -> Response:
    people.store.set_role(key, role, region, user_key(turn.user), _now())
    where = f" ({region.describe()})" if region else ""
    return turn.reply([Reply(text=t("admin_done", turn.lang, who=key, role=role, region=where))], intent="promote")


def list_roles(core: Assistant, turn: Turn) -> Response:
    people = _admin(core, turn)
    if people is None:
        return turn.reply([Reply(text=t("admin_only", turn.lang))], intent="roles")
    lines = [f"{key}: admin (config.yml)" for key in sorted(people.admins)]
    for role in people.store.roles():
        where = f" ({role.region.describe()})" if role.region else ""
        lines.append(f"{role.key}: {role.role}{where}, {role.granted_by} {role.granted_at:%Y-%m-%d}")
    return turn.reply([Reply(text=t("admin_roles", turn.lang, lines="\n".join(lines) or "-"))], intent="roles")
