"""Button payloads: short, versioned strings that fit Telegram's 64-byte callback data.

A payload is `<version>:<verb>[:<arg>...]`. Buttons live on in old messages for months, so a payload
from another version is answered with a clear "this button is out of date", never misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

VERSION = "1"
MAX_BYTES = 64


class Verb(StrEnum):
    """Every button verb; bot/routes.py:BUTTONS names each one's handler. The values are stored in buttons of
    old messages: never change one, add new verbs instead."""

    ARTICLE = "a"  # show an article: a:<article>
    STEP = "st"  # step mode at a step: st:<article>:<index>
    ALL_STEPS = "all"  # every step at once: all:<article>
    FEEDBACK = "fb"  # helpful or not: fb:<article>:<+|->
    LANGUAGE = "lang"  # choose the language: lang:<vi|en>
    QUIZ_ANSWER = "qa"  # answer a quiz question: qa:<session>:<position>:<choice>
    QUIZ_START = "qs"  # start a quiz: qs:t|f|l:<topic or lesson>, qs:r (review), qs:c (continue)
    DELETE = "del"  # confirm deleting one's data: del:y:<time asked>:<signature>, del:n:<time asked>
    HANDOVER = "ho"  # end the talk with a volunteer: ho:end
    HOLDER_NAME = "hn"  # print the default name on certificates, then start the final test: hn:skip:<topic>
    PROFILE = "pf"  # where the user lives: pf:go, pf:skip, pf:p:<province>, pf:c:<commune>, pf:a:<age band>, pf:del
    BROADCAST = "bc"  # a step of /broadcast (bot/broadcast_chat.py): bc:<step>[:<choice>]
    SUBSCRIBE = "sub"  # opt in to a topic's lessons: sub:<topic>|all
    UNSUBSCRIBE = "uns"  # stop a topic's lessons: uns:<topic>|all
    FULL_TEXT = "ft"  # an article's whole text after its short first answer: ft:<article>
    NEXT_LESSON = "nl"  # pull the oldest lesson on offer (bot/offers.py): nl


class StaleAction(ValueError):
    """The payload comes from another version of the assistant or is not one of ours."""


@dataclass(frozen=True)
class Action:
    verb: Verb
    args: tuple[str, ...] = ()

    def arg(self, position: int, default: str = "") -> str:
        return self.args[position] if position < len(self.args) else default


def encode(verb: Verb, *args: object) -> str:
    payload = ":".join([VERSION, verb, *(str(a) for a in args)])
    if len(payload.encode()) > MAX_BYTES:
        raise ValueError(f"button payload longer than {MAX_BYTES} bytes: {payload!r}")
    return payload


def decode(payload: str) -> Action:
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != VERSION or parts[1] not in _VERBS:
        raise StaleAction(payload)
    return Action(Verb(parts[1]), tuple(parts[2:]))


_VERBS = frozenset(v.value for v in Verb)
