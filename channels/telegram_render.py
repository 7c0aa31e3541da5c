"""Pure rendering of the core's replies for Telegram: HTML text, inline keyboards, long-text splitting.

HTML parse mode is used because it needs only `<`, `>` and `&` escaped (MarkdownV2 needs eighteen
characters escaped and is a frequent cause of failed sends). Every message also carries a plain-text
twin, sent if Telegram still rejects the HTML, so a formatting problem never loses a reply.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import actions
from bot.messages import Reply, bold_segments, strip_markup
from bot.texts import t

MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
MAX_CAPTION = 1024


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: HTML text and its plain twin, or a photo; buttons on the last part."""

    html: str = ""
    plain: str = ""
    keyboard: InlineKeyboardMarkup | None = None
    photo: bytes | None = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def to_html(text: str) -> str:
    """Escape text for HTML parse mode and render the core's only markup, `**bold**`, as <b>."""
    return "".join(
        f"<b>{html.escape(segment, quote=False)}</b>" if bold else html.escape(segment, quote=False)
        for segment, bold in bold_segments(text)
    )


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = []
    for row in reply.buttons:
        cells = []
        for button in row:
            if len(button.action.encode()) > actions.MAX_BYTES:
                # Telegram would reject the whole message; losing one button is the lesser harm.
                continue
            cells.append(InlineKeyboardButton(button.label, callback_data=button.action))
        if cells:
            rows.append(cells)
    return InlineKeyboardMarkup(rows) if rows else None


def _paragraphs(reply: Reply, lang: str) -> list[tuple[str, str]]:
    """The reply as (html, plain) paragraphs, in reading order."""
    parts: list[str] = []
    if reply.title:
        parts.append(reply.title)
    if reply.text:
        parts.append(reply.text)
    rendered = [(to_html(p), strip_markup(p)) for p in parts]
    for number, step in enumerate(reply.steps, start=reply.first_step):
        rendered.append((f"<b>{number}.</b> {to_html(step)}", f"{number}. {strip_markup(step)}"))
    for heading, body in reply.sections:
        rendered.append(
            (
                f"<b>{html.escape(strip_markup(heading), quote=False)}</b>\n{to_html(body)}",
                f"{strip_markup(heading)}:\n{strip_markup(body)}",
            )
        )
    if reply.sources:
        label = t("sources", lang)
        links = ", ".join(
            f'<a href="{html.escape(link.url, quote=True)}">{html.escape(link.title, quote=False)}</a>'
            for link in reply.sources
        )
        rendered.append((f"{label}: {links}", f"{label}: " + ", ".join(link.url for link in reply.sources)))
    return rendered


def _cut_plain(text: str, limit: int) -> list[str]:
    """Cut text with no markup into pieces whose escaped form fits, preferring line breaks, then spaces."""
    pieces: list[str] = []
    rest = text
    while rest:
        if utf16_len(html.escape(rest, quote=False)) <= limit:
            pieces.append(rest)
            break
        # Largest prefix whose escaped form fits (binary search: escaping can grow a character fivefold).
        low, high = 1, len(rest)
        while low < high:
            middle = (low + high + 1) // 2
            if utf16_len(html.escape(rest[:middle], quote=False)) <= limit:
                low = middle
            else:
                high = middle - 1
        cut = low
        for separator in ("\n", " "):
            position = rest.rfind(separator, 0, cut)
            if position > cut // 2:
                cut = position + 1
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [p for p in pieces if p]


def _pack(paragraphs: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """Join paragraphs into as few messages as fit, breaking only between paragraphs where possible."""
    units: list[tuple[str, str]] = []
    for html_text, plain in paragraphs:
        if utf16_len(html_text) <= limit:
            units.append((html_text, plain))
        else:  # one paragraph longer than a message: send it unformatted in pieces rather than cut a tag
            units.extend((html.escape(piece, quote=False), piece) for piece in _cut_plain(plain, limit))
    messages: list[tuple[str, str]] = []
    current_html: list[str] = []
    current_plain: list[str] = []
    for html_text, plain in units:
        candidate = "\n\n".join([*current_html, html_text])
        if current_html and utf16_len(candidate) > limit:
            messages.append(("\n\n".join(current_html), "\n\n".join(current_plain)))
            current_html, current_plain = [], []
        current_html.append(html_text)
        current_plain.append(plain)
    if current_html:
        messages.append(("\n\n".join(current_html), "\n\n".join(current_plain)))
    return messages


def render_reply(reply: Reply, lang: str, limit: int = MAX_TEXT) -> list[Outgoing]:
    """One core reply as Telegram messages: an optional photo, then text split to fit, buttons last."""
    out: list[Outgoing] = []
    if reply.image_png is not None:
        out.append(Outgoing(photo=reply.image_png))
    markup = keyboard(reply)
    parts = _pack(_paragraphs(reply, lang), limit)
    if not parts and markup is not None:
        parts = [("…", "…")]  # a keyboard needs a message to hang on
    for number, (html_text, plain) in enumerate(parts, start=1):
        out.append(Outgoing(html_text, plain, markup if number == len(parts) else None))
    return out


def render(replies: list[Reply], lang: str, limit: int = MAX_TEXT) -> list[Outgoing]:
    return [message for reply in replies for message in render_reply(reply, lang, limit)]


def note_html(text: str, limit: int = MAX_TEXT) -> list[Outgoing]:
    """A note for the volunteers' group (card, relayed message) with the same escaping and splitting."""
    return [Outgoing(h, p) for h, p in _pack([(to_html(text), strip_markup(text))], limit)]
