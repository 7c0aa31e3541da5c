"""Pure rendering of the core's replies for a Zalo OA: plain text within Zalo's limits, numbered choices.

Zalo shows no markup, so `**bold**` is dropped. Every button of the core becomes a numbered line the user
can type ("2" presses the second), because buttons on `/v3.0/oa/message/cs` are not confirmed by any
official SDK (research notes, "Zalo"); where they are allowed, up to five also go as `oa.query.show`
buttons whose payload is that same number, so a tap and a typed number are one path. The numbers run
across the whole response, in the order they were shown, and the channel remembers that order per user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.messages import Reply
from bot.texts import t

MAX_TEXT = 2000  # Zalo's limit for one text message, in characters
MAX_BUTTONS = 5
MAX_TITLE = 100
_NUMBER = re.compile(r"[0-9]{1,3}")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


@dataclass(frozen=True)
class ZaloMessage:
    """One OA message: text, and (title, payload) buttons to attach when the OA accepts them."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rendered:
    messages: list[ZaloMessage]
    choices: list[str]  # the actions of the numbered choices, choice n at index n - 1


def _cut(text: str, limit: int) -> list[str]:
    """A paragraph longer than a message: cut at sentence ends, else line breaks or spaces, else anywhere."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = 0
        for match in _SENTENCE_END.finditer(window):
            if match.start() <= limit:
                cut = match.start()
        if cut <= limit // 3:
            cut = max(window.rfind("\n", 0, limit), window.rfind(" ", 0, limit))
        if cut <= limit // 3:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text as few messages as fit, breaking between paragraphs where possible."""
    units: list[str] = []
    for paragraph in text.split("\n\n"):
        if paragraph.strip():
            units.extend([paragraph] if len(paragraph) <= limit else _cut(paragraph, limit))
    messages: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 2 + len(unit) > limit:
            messages.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        messages.append(current)
    return messages


def render(replies: list[Reply], lang: str, *, buttons: bool, limit: int = MAX_TEXT) -> Rendered:
    """The response as Zalo messages, and its numbered choices. Images are not rendered (no upload yet)."""
    messages: list[ZaloMessage] = []
    choices: list[str] = []
    for reply in replies:
        text = reply.plain_text(t("sources", lang))
        numbered: list[tuple[str, str]] = []  # (number, label)
        for row in reply.buttons:
            for button in row:
                choices.append(button.action)
                numbered.append((str(len(choices)), button.label))
        if numbered:
            lines = "\n".join(f"{number}. {label}" for number, label in numbered)
            text = f"{text}\n\n{t('choose_number', lang)}\n{lines}" if text else f"{t('choose_number', lang)}\n{lines}"
        parts = split_text(text, limit)
        attached = tuple((label[:MAX_TITLE], number) for number, label in numbered[:MAX_BUTTONS]) if buttons else ()
        for position, part in enumerate(parts, start=1):
            messages.append(ZaloMessage(part, attached if position == len(parts) else ()))
    return Rendered(messages, choices)


def choice(text: str, choices: tuple[str, ...]) -> str | None:
    """The action a typed number (or a tapped button's payload) stands for, or None."""
    typed = text.strip().rstrip(".")
    if _NUMBER.fullmatch(typed) and 1 <= int(typed) <= len(choices):
        return choices[int(typed) - 1]
    return None
