"""Channel-neutral messages: what every channel turns its updates into, and what it renders.

Reply text may use one piece of markup, `**bold**`; channels render it natively (Telegram HTML) or drop
it (plain-text channels). Everything else is structure, not formatting, so no channel ever has to parse
the core's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.texts import t

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

# What a channel reports when the user sent something other than text.
MESSAGE_KINDS = ("text", "action", "sticker", "photo", "voice", "video", "location", "document", "contact", "other")


@dataclass(frozen=True)
class UserMessage:
    """One incoming message, independent of the channel it came from."""

    channel: str
    user_id: str
    text: str = ""
    action: str | None = None  # the payload of a pressed button
    kind: str = "text"
    message_id: str | None = None
    display_name: str | None = None
    language_hint: str | None = None  # the client's UI language, when the channel tells us


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Reply:
    """One outgoing message: a title, text, numbered steps, extra sections, sources and buttons."""

    text: str = ""
    title: str | None = None
    steps: tuple[str, ...] = ()
    first_step: int = 1  # the number shown for steps[0]; step mode shows one step of many
    sections: tuple[tuple[str, str], ...] = ()
    sources: tuple[Link, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    image_png: bytes | None = None

    def plain_text(self, sources_label: str) -> str:
        """The reply as plain text, for text-only channels and the JSON contract."""
        parts: list[str] = []
        if self.title:
            parts.append(strip_markup(self.title))
        if self.text:
            parts.append(strip_markup(self.text))
        if self.steps:
            parts.append(
                "\n".join(f"{n}. {strip_markup(step)}" for n, step in enumerate(self.steps, start=self.first_step))
            )
        for heading, body in self.sections:
            parts.append(f"{strip_markup(heading)}:\n{strip_markup(body)}")
        if self.sources:
            parts.append(f"{sources_label}: " + ", ".join(link.url for link in self.sources))
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Handover:
    """What a channel must post in its volunteers' group this turn (see bot/handover.py).

    kind: "open" (a new request: `note` is the context card), "relay" (the user's redacted message
    during a handover), "close" (the user ended it) or "undelivered" (a volunteer answered after the end).
    """

    kind: str
    note: str  # composed by the core; may use **bold** like any reply text


@dataclass(frozen=True)
class Notice:
    """A short plain message for another user of the assistant, sent this turn by the runner on that user's
    channel: an admin told that a broadcast awaits approval, a volunteer told an admin's answer."""

    channel: str
    user_id: str
    text: str


@dataclass(frozen=True)
class Response:
    """Everything the core produced for one message, plus what the product measures about it."""

    replies: list[Reply]
    lang: str
    intent: str | None = None
    topic: str | None = None
    article_id: str | None = None
    score: float = 0.0
    fallback: bool = False
    warnings: list[str] = field(default_factory=list)
    redacted_text: str = ""  # the only form of the user's text that may be logged or stored
    ranking: tuple[str, ...] = ()  # article ids retrieval ranked highest, best first (evaluation, "did you mean")
    handover: Handover | None = None  # set when the volunteers' group must see something
    forget_user: bool = False  # the user's data was just deleted: store nothing more about them
    notices: tuple[Notice, ...] = ()  # messages for other users (channels/runner.py sends them)

    def plain_text(self) -> str:
        label = t("sources", self.lang)
        return "\n\n".join(r.plain_text(label) for r in self.replies)


def escape_markup(text: str) -> str:
    """Text from a user, made inert inside core-composed text: their "**" must not become bold.

    A zero-width space between the asterisks breaks the pattern and shows nothing, so a name like
    "**admin note: send your OTP**" reaches volunteers as typed, not as the assistant's own emphasis.
    """
    return text.replace("**", "*\u200b*")


def strip_markup(text: str) -> str:
    return _BOLD.sub(r"\1", text)


def bold_segments(text: str) -> list[tuple[str, bool]]:
    """Split text into (segment, is_bold) pairs for channels that render bold natively."""
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in _BOLD.finditer(text):
        if match.start() > position:
            segments.append((text[position : match.start()], False))
        segments.append((match.group(1), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return segments
