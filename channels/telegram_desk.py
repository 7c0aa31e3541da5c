"""The volunteers' desk in a Telegram group: handover cards in, volunteers' replies out, for users of any channel.

The core composes what volunteers see (bot/handover.py) and the runner asks the desk to post it
(`VolunteerDesk.post`). Each posted message is linked to its user (channel and id), so a volunteer's reply
to it finds its way back through `Runner.volunteer_reply`, to Telegram or to any other channel. Only
listed volunteers (`telegram.volunteers`) are delivered, and only once: an edit would reach the citizen
as a second message they cannot tell from the first.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import Message

from bot.messages import Handover
from bot.texts import t
from channels.telegram_render import note_html
from channels.telegram_send import ChatSender
from channels.telegram_store import HandoverLinks

if TYPE_CHECKING:
    from channels.runner import Runner

log = logging.getLogger(__name__)


class TelegramDesk:
    def __init__(
        self, sender: ChatSender, links: HandoverLinks, *, chat_id: int, volunteers: frozenset[int], note_lang: str
    ) -> None:
        self.sender = sender
        self.links = links
        self.chat_id = chat_id
        self.volunteers = volunteers
        self.note_lang = note_lang  # one group, whatever language each user chose

    async def post(self, channel: str, user_id: str, event: Handover) -> bool:
        """Post the core's note in the group, in the user's thread, and remember which user it belongs to."""
        reply_to = None if event.kind == "open" else await asyncio.to_thread(self.links.card_for, channel, user_id)
        futures = [self.sender.submit(self.chat_id, out, reply_to=reply_to) for out in note_html(event.note)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        sent = [r for r in results if isinstance(r, Message)]
        for posted in sent:
            await asyncio.to_thread(self.links.link, posted.message_id, channel, user_id)
        return bool(sent)

    async def forget(self, channel: str, user_id: str) -> None:
        await asyncio.to_thread(self.links.forget, channel, user_id)

    async def on_message(self, message: Message, runner: Runner, *, edited: bool) -> None:
        """A reply to a card (or to a relayed message) goes to that user; other talk is the group's own."""
        target = message.reply_to_message
        if target is None or message.from_user is None or message.from_user.is_bot:
            return
        owner = await asyncio.to_thread(self.links.user_for, target.message_id)
        if owner is None:
            return
        if message.from_user.id not in self.volunteers:
            log.warning("a reply to a handover card from %s, who is not in telegram.volunteers", message.from_user.id)
            self._answer(message, t("handover_not_volunteer", self.note_lang, id=message.from_user.id))
            return
        if edited:
            self._answer(message, t("handover_edit_not_sent", self.note_lang))
            return
        text = message.text or message.caption
        if not text:
            self._answer(message, t("handover_text_only", self.note_lang))
            return
        channel, user_id = owner
        event = await runner.volunteer_reply(channel, user_id, text)
        if event is not None:
            self._answer(message, event.note)

    def _answer(self, message: Message, text: str) -> None:
        for out in note_html(text):
            self.sender.submit(self.chat_id, out, reply_to=message.message_id)
