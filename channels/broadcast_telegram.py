"""Broadcast deliveries to Telegram: one `sendMessage` per row, a plain JSON POST over aiohttp, each answer
classified into an Outcome (channels/broadcast.py):

- `{"ok": true, "result": {...}}` → sent, with its message id;
- 429, or any refusal carrying `parameters.retry_after` → pending after `retry_after`, this row only, every
  sender paused as long; the attempt does not count (a pause over MAX_RETRY_AFTER: this row only);
- 403 → blocked (the user blocked the bot, or left), and recorded where the channel keeps blocked chats;
- `parameters.migrate_to_chat_id`, 400 and other 4xx → failed with Telegram's description (a chat that does
  not exist, a text it refuses);
- 401 and 404 → pending for a minute: the bot token was refused, an operator must act (it fails after the
  attempts);
- 5xx, an answer that is not the Bot API's with a status other than 2xx (a proxy's error page), and a
  connection that could not be made (the request never left) → pending after a back-off;
- a timeout after the request left, a connection lost before the answer, or a 2xx whose body is not the
  Bot API's JSON → uncertain: Telegram may have delivered it, and sends take no idempotency key.
The text goes as plain text (no parse mode): an operator's text is shown as typed, and never refused as HTML.

Why not python-telegram-bot's `Bot.send_message`, as the conversation's replies use: a broadcast is the one
place where the client's own CPU per message sets the ceiling (1,000 messages/s is 1 ms per message for the
engine, the database and the client together), and PTB's request objects and the `Message` it builds from
each answer were about 40% of the engine's CPU (docs/benchmarks.md). Only the message id of the answer is
needed. The Bot API's error shape is the one PTB reads (`BaseRequest._request_wrapper`): `description`,
`parameters.retry_after`, `parameters.migrate_to_chat_id`, and the HTTP status.

Every URL holds the bot token (`/bot<token>/sendMessage`): redirects are not followed, and no error text
quotes the URL.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from channels.broadcast_store import BLOCKED, FAILED, PENDING, SENT, UNCERTAIN, Due, Outcome
from channels.telegram_send import MAX_RETRY_AFTER
from channels.telegram_store import BlockedChats

_JSON = {"Content-Type": "application/json"}
_NO_PREVIEW = {"is_disabled": True}


class TelegramBroadcastSender:
    channel = "telegram"

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.telegram.org/bot",
        *,
        blocked: BlockedChats | None = None,
        timeout: float = 10.0,
        connections: int = 32,
    ) -> None:
        self._url = f"{base_url}{token}/sendMessage"  # base_url as python-telegram-bot's: ".../bot"
        self.blocked = blocked  # where the channel remembers chats that blocked the bot
        # The whole request bounded once (one timer per send; a per-read timer too cost ~3% of the engine's
        # CPU), and connecting apart, so that a request that never left is told from one that did.
        self._timeout = aiohttp.ClientTimeout(total=2 * timeout, sock_connect=timeout)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=self._connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> TelegramBroadcastSender:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, due: Due) -> Outcome:
        if self._session is None:
            raise RuntimeError("TelegramBroadcastSender.start() was not called")
        chat: int | str = int(due.user_id) if due.user_id.lstrip("-").isdigit() else due.user_id
        body = json.dumps({"chat_id": chat, "text": due.text, "link_preview_options": _NO_PREVIEW})
        try:
            async with self._session.post(self._url, data=body, headers=_JSON, allow_redirects=False) as response:
                status, raw = response.status, await response.read()
        # aiohttp's errors for a connection that was never made: the request did not leave.
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            return Outcome(PENDING, error=f"could not connect: {type(exc).__name__}")
        except TimeoutError as exc:  # the whole request's time ran out after it left
            return Outcome(UNCERTAIN, error=f"no answer in time after the request was sent ({type(exc).__name__})")
        except aiohttp.ClientError as exc:  # the connection broke after the request was written
            return Outcome(UNCERTAIN, error=f"the connection broke before the answer ({type(exc).__name__})")
        return await self._answered(due, status, raw)

    async def _answered(self, due: Due, status: int, raw: bytes) -> Outcome:
        try:
            data: Any = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if 200 <= status < 300:
                return Outcome(UNCERTAIN, error=f"an answer that is not the Bot API's (HTTP {status}, not JSON)")
            return Outcome(PENDING, error=f"an answer that is not the Bot API's (HTTP {status})")
        if 200 <= status < 300 and data.get("ok") is True:
            result = data.get("result")
            message_id = result.get("message_id") if isinstance(result, dict) else None
            return Outcome(SENT, message_id=None if message_id is None else str(message_id))
        parameters: dict[str, Any] = data["parameters"] if isinstance(data.get("parameters"), dict) else {}
        description = str(data.get("description") or f"HTTP {status}")[:500]
        retry_after = _seconds(parameters.get("retry_after"))
        if retry_after is not None or status == 429:
            pause = 1.0 if retry_after is None else retry_after
            if pause > MAX_RETRY_AFTER:
                return Outcome(PENDING, error=f"Telegram asked to wait {pause:.0f} s", retry_in=pause, refund=True)
            return Outcome(PENDING, error="429 Too Many Requests", retry_in=pause, refund=True, pause_all=pause)
        if parameters.get("migrate_to_chat_id") is not None:
            return Outcome(FAILED, error=f"the chat became supergroup {parameters['migrate_to_chat_id']}")
        if status == 403:
            if self.blocked is not None:
                await asyncio.to_thread(self.blocked.set_blocked, due.user_id, True)
            return Outcome(BLOCKED, error=description)
        if status in (401, 404):
            return Outcome(PENDING, error=f"the bot token was refused: {description}", retry_in=60.0)
        if status >= 500:
            return Outcome(PENDING, error=f"Telegram answered HTTP {status}: {description}")
        if 200 <= status < 300:  # a 2xx that is not `ok`: not the Bot API's answer; it may have been delivered
            return Outcome(UNCERTAIN, error=f"an answer that is not the Bot API's ({description})")
        return Outcome(FAILED, error=description)


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value))
