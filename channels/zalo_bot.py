"""The Zalo Bot channel (Zalo's Telegram-like Bot Platform): updates in by webhook or long polling, plain
numbered-text replies out (`sendMessage`, at most 2,000 characters, no keyboards).

The adapter converts and carries; the core (bot/) decides, and the runner (channels/runner.py) does what
every channel needs. Updates arrive through the web app's webhook route (`webhook`) or, without a webhook
URL, through long polling (`ZaloBotChannel.poll`, one process); either way each is stored in the inbox,
keyed by its message id, before Zalo is told it arrived (webhook) or the next update is asked for (polling).
Per stored update (`handle`):
- a private chat's text → the core; a typed number presses the numbered choice last shown to that user
  (the platform has no buttons, so every choice is a numbered line: channels/zalo_oa_render.py);
- a photo (`photo` or `photo_url`) with a caption → the caption, as Telegram does; without one, a photo,
  a sticker or a voice message → the core as that kind (it answers that it reads text);
- a group chat's message → ignored on purpose (bots answer people privately), with a log line.
An event name the channel does not know is logged and answered 200, never stored.

What the update looks like comes from third-party copies of Zalo's documentation (research notes, "Zalo";
docs/zalo.md lists what is unverified): `{event_name, message: {from, chat: {id, chat_type}, message_id,
date, text | photo | photo_url | caption | sticker | voice_url}}`, with or without an `{ok, result}` wrapper.
Only what processing relies on is checked; a body without it gets 400 and a log line.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.messages import Response, UserMessage, strip_markup
from channels import metrics
from channels.runner import Runner
from channels.send_queue import UserQueues
from channels.zalo_bot_api import CHANNEL, ZaloBotApi, ZaloBotError
from channels.zalo_bot_store import ZaloBotStore
from channels.zalo_oa_render import choice, render, split_text
from errors import ConfigError, ServiceError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
# Zalo asks for 8-256 characters; which characters is unverified, so only those safe in any header.
_SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
POLL_WAIT = 30.0  # seconds a getUpdates call waits for news (Zalo's documented default)

# Event names of users' messages, from third-party documentation copies; "message.voice.received" is a guess
# (voice messages carry `voice_url`). The kind of a message is read from its fields, not from its name.
MESSAGE_EVENTS = frozenset(
    {
        "message.text.received",
        "message.image.received",
        "message.sticker.received",
        "message.voice.received",
        "message.unsupported.received",
    }
)
_TEXT_FIELDS = ("text", "caption", "photo", "photo_url", "sticker", "voice", "voice_url")


class ZaloBotConfigError(ConfigError):
    """The channel cannot start as configured; the message says what to fix."""


def check_secret(secret: str) -> str:
    if not secret:
        raise ZaloBotConfigError(
            "the Zalo Bot webhook needs a secret: set ZALO_BOT_WEBHOOK_SECRET (8-256 characters of A-Z a-z 0-9 _ -)"
        )
    if not _SECRET_FORMAT.match(secret):
        raise ZaloBotConfigError("ZALO_BOT_WEBHOOK_SECRET must be 8-256 characters of A-Z a-z 0-9 _ - (docs/zalo.md)")
    return secret


def bot_id_of(token: str) -> str:
    """The bot's id: the token is `<bot id>:<secret>`."""
    bot_id, colon, secret = token.partition(":")
    if not colon or not bot_id or not secret or len(bot_id) > 32:
        raise ZaloBotConfigError("ZALO_BOT_TOKEN does not look like a Zalo bot token (<bot id>:<secret>)")
    return bot_id


@dataclass(frozen=True)
class WebhookOptions:
    url: str  # the public HTTPS URL Zalo posts to (a reverse proxy in front of the web app)
    secret: str

    def __post_init__(self) -> None:
        check_secret(self.secret)
        if not self.url.startswith("https://"):
            raise ZaloBotConfigError(f"the Zalo Bot webhook URL must be an https:// URL, got {self.url!r}")


async def register(api: ZaloBotApi, webhook: WebhookOptions | None) -> None:
    """Once per deployment, not per worker: the webhook set, or removed for polling, since Zalo refuses
    getUpdates while a webhook is set."""
    if webhook is None:
        await api.delete_webhook()
    else:
        await api.set_webhook(webhook.url, webhook.secret)


# -- updates --------------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    """Ids come as strings; accept numbers too rather than drop an update over its JSON type."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def unwrap(data: object) -> object:
    """The update, whether Zalo sent it bare or inside `{ok, result}` (both are seen)."""
    if isinstance(data, dict) and "result" in data and "ok" in data and "message" not in data:
        return data["result"]
    return data


def unknown_event(update: dict[str, Any]) -> str | None:
    """The update's event name when it is one the channel does not know, else None."""
    name = update.get("event_name")
    return name if isinstance(name, str) and name not in MESSAGE_EVENTS else None


def update_problem(update: object) -> str | None:
    """Why `update` cannot be a user's message, or None. Only what processing relies on is checked."""
    if not isinstance(update, dict):
        return "not a JSON object"
    if "event_name" in update and not isinstance(update["event_name"], str):
        return "event_name is not text"
    message = update.get("message")
    if not isinstance(message, dict):
        return "no message"
    chat = message.get("chat")
    if not isinstance(chat, dict) or _text(chat.get("id")) is None:
        return "no message.chat.id"
    if _text(message.get("message_id")) is None:
        return "no message.message_id"
    for name in _TEXT_FIELDS:
        if message.get(name) is not None and not isinstance(message[name], str):
            return f"message.{name} is not text"
    if message.get("from") is not None and not isinstance(message["from"], dict):
        return "message.from is not an object"
    return None


def event_key(update: dict[str, Any]) -> str:
    """The inbox key: Zalo's message id (a redelivered update has the same one)."""
    return f"msg:{_text(update['message']['message_id'])}"[:128]


def kind_of(message: dict[str, Any]) -> tuple[str, str]:
    """What the core is told the message is (bot/messages.py MESSAGE_KINDS), and its text."""
    if isinstance(message.get("text"), str):
        return "text", message["text"]
    if message.get("photo") or message.get("photo_url"):
        caption = message.get("caption")
        # A photo with a caption is a question about the photo: answer the caption.
        return ("text", caption) if isinstance(caption, str) and caption.strip() else ("photo", "")
    if message.get("sticker"):
        return "sticker", ""
    if message.get("voice") or message.get("voice_url"):
        return "voice", ""
    return "other", ""


def _display_name(message: dict[str, Any]) -> str | None:
    sender = message.get("from")
    if not isinstance(sender, dict):
        return None
    for field in ("display_name", "first_name", "name"):  # which one Zalo sends is unverified
        if isinstance(sender.get(field), str) and sender[field].strip():
            return str(sender[field])
    return None


def _refuse(status: int, reason: str, request: Request) -> JSONResponse:
    client = request.client.host if request.client else "?"
    log.warning("zalo_bot webhook: %s (from %s)", reason, client)
    return JSONResponse({"ok": False, "description": reason}, status_code=status)


async def webhook(request: Request, runner: Runner, secret: bytes) -> JSONResponse:
    """The webhook route: Zalo's secret header checked in constant time, the update stored, then 200."""
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, secret):  # constant time: the secret is the only credential
        return _refuse(403, f"wrong or missing {SECRET_HEADER}", request)
    body = await request.body()  # the app refuses bodies over 1 MB (413) before this reads them
    try:
        data = json.loads(body.decode("utf-8"))  # stored as text: UTF-8 only
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8", request)
    except RecursionError:
        return _refuse(400, "body nested too deeply", request)
    except ValueError as exc:
        return _refuse(400, f"body is not JSON: {exc}", request)
    update = unwrap(data)
    if isinstance(update, dict) and unknown_event(update) is not None:
        log.warning("zalo_bot: event %r is not one the assistant knows; ignored", str(update["event_name"])[:64])
        return JSONResponse({"ok": True})
    problem = update_problem(update)
    if problem:
        return _refuse(400, f"not a Zalo Bot update: {problem}", request)
    assert isinstance(update, dict)
    key = event_key(update)
    try:
        await runner.receive(CHANNEL, key, json.dumps(update, ensure_ascii=False))
    except Exception as exc:  # not stored: Zalo must be told so (whether it retries is unverified)
        log.error("zalo_bot update %s could not be stored: %s", key, exc)
        return JSONResponse({"ok": False, "description": "could not store the update"}, status_code=503)
    return JSONResponse({"ok": True})


# -- the channel ----------------------------------------------------------------------------------------


class ZaloBotChannel:
    name = CHANNEL

    def __init__(self, api: ZaloBotApi, store: ZaloBotStore, *, poll_wait: float = POLL_WAIT) -> None:
        self.api = api
        self.store = store
        self.poll_wait = poll_wait
        self._queues = UserQueues(CHANNEL)

    @property
    def source(self) -> str:
        """The inbox's namespace: one per bot, so two bots on one database never collide."""
        return f"{CHANNEL}:{self.store.bot_id}"

    async def start(self) -> None:
        """Ask Zalo who we are: a wrong token or an unreachable API fails here, at start."""
        await self.api.start()
        try:
            me = await self.api.get_me()
        except ZaloBotError as exc:
            await self.api.close()
            raise ServiceError(f"could not start against the Zalo Bot API at {self.api.base_url}: {exc}") from exc
        log.info("zalo_bot: serving as %s", str(me.get("account_name") or me.get("id") or "?")[:64])

    async def close(self, grace: float) -> None:
        await self._queues.drain(grace)
        await self.api.close()

    # -- updates in ----------------------------------------------------------------------------------

    async def handle(self, payload: str, runner: Runner) -> None:
        update = json.loads(payload)
        problem = update_problem(update)
        if problem:  # stored updates were checked on the way in; an older format, or a bug
            log.warning("zalo_bot update ignored: %s", problem)
            return
        message = update["message"]
        chat = message["chat"]
        chat_type = chat.get("chat_type")
        if isinstance(chat_type, str) and chat_type.upper() == "GROUP":  # only what says it is a group
            log.info("zalo_bot: a message in a group chat ignored; the assistant answers private chats only")
            return
        user = _text(chat["id"])
        assert user is not None
        message_id = _text(message["message_id"])
        kind, text = kind_of(message)
        name = _display_name(message)
        if kind == "text":
            action = choice(text, await asyncio.to_thread(self.store.choices, user))
            if action is not None:
                await runner.converse(
                    UserMessage(CHANNEL, user, action=action, kind="action", message_id=message_id, display_name=name)
                )
                return
        await runner.converse(
            UserMessage(CHANNEL, user, text=text, kind=kind, message_id=message_id, display_name=name)
        )

    async def poll(self, runner: Runner) -> None:
        """Long polling, for a bot without a webhook (one process). getUpdates hands out each update once and
        takes no offset, so an update is stored in the inbox before the next one is asked for."""
        failures = 0
        while True:
            try:
                updates = await self.api.get_updates(self.poll_wait)
                failures = 0
            except ZaloBotError as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                hint = "" if exc.retry else " (a webhook set? `hocvu zalo bot register` without a URL removes it)"
                log.warning("zalo_bot: polling failed: %s%s; retrying in %.0f s", exc, hint, delay)
                await asyncio.sleep(delay)
                continue
            for update in updates:
                await self._keep(update, runner)

    async def _keep(self, polled: dict[str, Any], runner: Runner) -> None:
        update = unwrap(polled)  # getUpdates' `result` is the bare update; a wrapped one is taken too
        if not isinstance(update, dict):
            log.warning("zalo_bot: a polled update is not a JSON object; ignored")
            return
        if unknown_event(update) is not None:
            log.warning("zalo_bot: event %r is not one the assistant knows; ignored", str(update["event_name"])[:64])
            return
        problem = update_problem(update)
        if problem:
            log.warning("zalo_bot: a polled update is not a user's message (%s); ignored", problem)
            return
        delay = 0.5
        while True:  # Zalo will not hand this update out again: keep trying to store it
            try:
                await runner.receive(CHANNEL, event_key(update), json.dumps(update, ensure_ascii=False))
                return
            except Exception as exc:
                log.error(
                    "zalo_bot update %s could not be stored (%s); trying again in %.1f s", event_key(update), exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)

    # -- Channel -------------------------------------------------------------------------------------

    def deliver(self, user_id: str, response: Response) -> Awaitable[None]:
        rendered = render(response.replies, response.lang, buttons=False)
        if any(reply.image_png is not None for reply in response.replies):
            log.info("zalo_bot: an image reply was sent as its text only (sendPhoto needs a public URL)")
        return self._queue(user_id, [message.text for message in rendered.messages], rendered.choices)

    def note(self, user_id: str, text: str) -> Awaitable[None]:
        return self._queue(user_id, split_text(strip_markup(text)), None)

    async def forget(self, user_id: str) -> None:
        await asyncio.to_thread(self.store.forget, user_id)

    # -- sending -------------------------------------------------------------------------------------

    def _queue(self, user_id: str, texts: list[str], choices: list[str] | None) -> Awaitable[None]:
        return self._queues.submit(user_id, lambda: self._send(user_id, texts, choices), len(texts))

    async def _send(self, user_id: str, texts: list[str], choices: list[str] | None) -> None:
        if choices is not None:  # before sending: the user may type a number as soon as they see it
            await asyncio.to_thread(self.store.set_choices, user_id, choices)
        for text in texts:
            try:
                await self.api.send_message(user_id, text)
            except ZaloBotError as exc:
                metrics.SENDS.labels(CHANNEL, "failed").inc()
                log.error("zalo_bot: a message was not delivered: %s", exc)
                continue
            metrics.SENDS.labels(CHANNEL, "sent").inc()
