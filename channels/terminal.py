"""The terminal channel: chat with the assistant without any messenger.

Interactive when stdin is a terminal; otherwise it reads one message per line and prints the replies,
so conversations can be scripted. Buttons are shown numbered; typing the number presses the button.

Messages the core has for other people (`Response.notices`: an admin told a text awaits approval, an author
told it was approved) cannot reach them from here, and an operator trying the bot needs to see them: they are
printed after the replies, marked with whom they are for and that they were not sent.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TextIO

from bot.assistant import Assistant
from bot.messages import Button, Notice, Reply, Response, UserMessage
from bot.people import ADMIN, VOLUNTEER
from bot.texts import t

CHANNEL = "terminal"
# How a notice's addressee is named, by role (anyone else by their user key alone).
_ADDRESSEE = {ADMIN: "terminal_notice_admin", VOLUNTEER: "terminal_notice_volunteer"}


def render(reply: Reply, lang: str, first_button: int = 1) -> str:
    label = t("sources", lang)
    lines = [reply.plain_text(label)]
    number = first_button
    for row in reply.buttons:
        cells = []
        for button in row:
            cells.append(f"[{number}] {button.label}")
            number += 1
        lines.append("   ".join(cells))
    return "\n".join(line for line in lines if line)


def render_response(response: Response) -> tuple[str, list[Button]]:
    """All replies as text, and the buttons in the order their numbers were shown."""
    blocks: list[str] = []
    buttons: list[Button] = []
    for reply in response.replies:
        blocks.append(render(reply, response.lang, len(buttons) + 1))
        buttons.extend(b for row in reply.buttons for b in row)
    return "\n\n".join(blocks), buttons


class TerminalChat:
    def __init__(
        self,
        assistant: Assistant,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        user_id: str = "local",
        image_dir: Path | None = None,
    ) -> None:
        self.assistant = assistant
        self.image_dir = image_dir  # where images (certificates) are saved; a terminal cannot show them
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = user_id
        self._buttons: list[Button] = []

    def to_message(self, line: str) -> UserMessage:
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._buttons):
            return UserMessage(CHANNEL, self.user_id, action=self._buttons[int(choice) - 1].action, kind="action")
        return UserMessage(CHANNEL, self.user_id, text=line)

    def send(self, line: str) -> str:
        response = self.assistant.handle(self.to_message(line))
        text, self._buttons = render_response(response)
        for reply in response.replies:
            if reply.image_png is not None:
                text += "\n\n🖼 " + self._save_image(reply.image_png)
        for notice in response.notices:
            text += "\n\n" + self._notice(notice, response.lang)
        return text

    def _notice(self, notice: Notice, lang: str) -> str:
        if notice.channel == CHANNEL and notice.user_id == self.user_id:
            return notice.text  # for the person at this terminal after all
        key = f"{notice.channel}:{notice.user_id}"
        people = self.assistant.people
        role = people.role_of(key) if people is not None else None
        who = t(_ADDRESSEE[role.role], lang, user=key) if role is not None and role.role in _ADDRESSEE else key
        return t("terminal_notice", lang, who=who, text=notice.text)

    def _save_image(self, png: bytes) -> str:
        if self.image_dir is None:
            return f"(image, {len(png)} bytes)"
        self.image_dir.mkdir(parents=True, exist_ok=True)
        path = self.image_dir / f"{hashlib.sha256(png).hexdigest()[:16]}.png"
        path.write_bytes(png)
        return str(path)

    def run(self) -> int:
        interactive = self.stdin.isatty()
        if interactive:
            self.stdout.write(
                self.send("/start") + "\n\n" + t("terminal_prompt", "vi") + " / " + t("terminal_prompt", "en") + "\n"
            )
        while True:
            if interactive:
                self.stdout.write("\n> ")
                self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if not interactive and not line.strip():
                continue
            self.stdout.write(self.send(line) + "\n")
            if not interactive:
                self.stdout.write("\n")
            self.stdout.flush()
        return 0
