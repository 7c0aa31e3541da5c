"""Broadcast deliveries to Telegram through the channel's Bot API client (python-telegram-bot over aiohttp,
channels/telegram_http.py), each answer classified into an Outcome (channels/broadcast.py):

- the message object → sent, with its message id;
- 429 → pending after `retry_after`, this row only, every sender paused as long; the attempt does not count;
- 403 → blocked (the user blocked the bot, or left), and recorded where the channel keeps blocked chats;
- 400 and the like → failed with Telegram's reason (a chat that does not exist, a text it refuses);
- 5xx, and a connection that could not be made or a pool that had no room (the request never left) →
  pending after a back-off;
- a timeout after the request left, a connection lost before the answer, or an answer that is not the Bot
  API's (garbage with a 200) → uncertain: Telegram may have delivered it, and sends take no idempotency key.
The text goes as plain text (no parse mode): an operator's text is shown as typed, and never refused as HTML.
"""

from __future__ import annotations

import asyncio

from telegram import Bot, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from channels.broadcast_store import BLOCKED, FAILED, PENDING, SENT, UNCERTAIN, Due, Outcome
from channels.telegram_send import MAX_RETRY_AFTER, retry_after_seconds
from channels.telegram_store import BlockedChats

# telegram_http.AiohttpRequest names aiohttp's exception in its errors: these happen before the request left.
_NOT_SENT = ("ClientConnectorError", "ConnectionTimeoutError", "ClientConnectorDNSError")


class TelegramBroadcastSender:
    channel = "telegram"

    def __init__(self, bot: Bot, blocked: BlockedChats | None = None) -> None:
        self.bot = bot
        self.blocked = blocked  # where the channel remembers chats that blocked the bot

    async def send(self, due: Due) -> Outcome:
        try:
            message = await self.bot.send_message(
                int(due.user_id), due.text, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        except RetryAfter as exc:
            pause = retry_after_seconds(exc)
            if pause > MAX_RETRY_AFTER:
                return Outcome(PENDING, error=f"Telegram asked to wait {pause:.0f} s", retry_in=pause, refund=True)
            return Outcome(PENDING, error="429 Too Many Requests", retry_in=pause, refund=True, pause_all=pause)
        except Forbidden as exc:
            if self.blocked is not None:
                await asyncio.to_thread(self.blocked.set_blocked, due.user_id, True)
            return Outcome(BLOCKED, error=str(exc))
        except ChatMigrated as exc:
            return Outcome(FAILED, error=f"the chat became supergroup {exc.new_chat_id}")
        except BadRequest as exc:
            return Outcome(FAILED, error=str(exc))
        except InvalidToken as exc:
            return Outcome(PENDING, error=f"the bot token was refused: {exc}", retry_in=60.0)
        except TimedOut as exc:
            if any(name in str(exc) for name in _NOT_SENT):
                return Outcome(PENDING, error=f"could not connect: {exc}")
            return Outcome(UNCERTAIN, error=f"no answer in time after the request was sent ({exc})")
        except NetworkError as exc:
            text = str(exc)
            if any(name in text for name in _NOT_SENT):
                return Outcome(PENDING, error=f"could not connect: {text}")
            if text.startswith("aiohttp."):  # the connection broke after the request was written
                return Outcome(UNCERTAIN, error=f"the connection broke before the answer ({text})")
            return Outcome(PENDING, error=f"Telegram answered {text.split('.')[0]}")  # 5xx
        except TelegramError as exc:  # "Invalid server response": a 200 whose body is not the Bot API's
            return Outcome(UNCERTAIN, error=f"an answer that is not the Bot API's ({exc})")
        return Outcome(SENT, message_id=str(message.message_id))
