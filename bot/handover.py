"""Handover to a volunteer: asking for a person, talking through the volunteers' group, ending it.

The core decides; a channel only carries the result. While `ConversationState.handover` is set, the
user's text is not answered by the assistant but relayed (redacted by the guard, like everything
stored) to the volunteers as a `Handover("relay", ...)`. A volunteer's answer comes back through
`Assistant.volunteer_reply`. Notes for volunteers are written in the assistant's default language:
the volunteers' group is one group, whatever language each user chose.
"""

from __future__ import annotations

from dataclasses import replace

from bot import actions
from bot.messages import Button, Handover, Reply, escape_markup
from bot.state import ConversationState
from bot.texts import button_label, t

END_PAYLOAD = actions.encode(actions.Verb.HANDOVER, "end")


def end_button(lang: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(button_label("end_handover", lang), END_PAYLOAD),),)


def _name(display_name: str | None, note_lang: str) -> str:
    # One line: a name with line breaks could fake the card's own fields ("\nKhu vực: ...").
    name = " ".join((display_name or "").split())[:64]
    return escape_markup(name) or t("someone", note_lang)


def open_request(
    state: ConversationState,
    lang: str,
    *,
    display_name: str | None,
    last_answer: str | None,
    region: str | None,
    note_lang: str,
) -> tuple[list[Reply], ConversationState, Handover | None]:
    """The user asked for a person: a context card for the volunteers and a promise to the user."""
    if state.handover:
        return [Reply(text=t("handover_already", lang), buttons=end_button(lang))], state, None
    questions = "\n".join(f"• {escape_markup(q)}" for q in state.recent_questions) or t("nothing_yet", note_lang)
    card = t(
        "handover_card",
        note_lang,
        name=_name(display_name, note_lang),
        language=lang,
        region=region or t("unknown_value", note_lang),
        questions=questions,
        answer=escape_markup(last_answer) if last_answer else t("nothing_yet", note_lang),
    )
    replies = [Reply(text=t("handover_started", lang), buttons=end_button(lang))]
    return replies, replace(state, handover=True), Handover("open", card)


def relay(redacted: str, *, display_name: str | None, note_lang: str) -> tuple[list[Reply], Handover]:
    """A message during a handover goes to the volunteers; the user gets no bot answer for it."""
    note = t("handover_relay_note", note_lang, name=_name(display_name, note_lang), text=escape_markup(redacted))
    return [], Handover("relay", note)


def close(
    state: ConversationState, lang: str, *, display_name: str | None, note_lang: str
) -> tuple[list[Reply], ConversationState, Handover | None]:
    if not state.handover:
        return [Reply(text=t("handover_not_active", lang))], state, None
    note = t("handover_close_note", note_lang, name=_name(display_name, note_lang))
    return [Reply(text=t("handover_ended", lang))], replace(state, handover=False), Handover("close", note)


def volunteer_reply(
    state: ConversationState, text: str, lang: str, *, note_lang: str
) -> tuple[list[Reply], Handover | None]:
    """A volunteer answered: deliver it while the handover lasts; after the user ended it, tell the volunteer."""
    if not state.handover:
        return [], Handover("undelivered", t("handover_undelivered_note", note_lang))
    return [Reply(text=t("volunteer_says", lang, text=escape_markup(text.strip())), buttons=end_button(lang))], None


def failed(state: ConversationState, lang: str) -> tuple[list[Reply], ConversationState]:
    """The channel could not reach the volunteers: undo the handover so the user is not left waiting."""
    return [Reply(text=t("handover_failed", lang))], replace(state, handover=False)
