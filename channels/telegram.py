"""The Telegram channel (python-telegram-bot 22 as the Bot API client): stored updates in, rendered replies out.

The adapter converts and carries; the core (bot/) decides, and the runner (channels/runner.py) does what
every channel needs. Updates arrive through the web app's webhook route (`webhook`) or, without a public
URL, through long polling (`TelegramChannel.poll`); either way each is stored in the inbox before Telegram
is told it arrived. Per stored update (`handle`):
- private chat → the core, through `Runner.converse`;
- the volunteers' group → the desk (channels/telegram_desk.py): a reply to a handover card goes to its user;
- other groups → a pointer to the private chat when addressed, otherwise ignored on purpose;
- the user blocked or unblocked the bot → recorded; channel posts, polls, inline queries and other
  update kinds → ignored on purpose, with a debug line.
Replies are rendered (HTML, split, keyboards) and queued per chat (telegram_send.ChatSender).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from telegram import Bot, BotCommand, CallbackQuery, ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Conflict, TelegramError

from bot import routes
from bot.messages import Response, UserMessage
from bot.texts import t
from channels.flood import Verdict
from channels.runner import Runner, language_of
from channels.telegram_desk import TelegramDesk
from channels.telegram_http import AiohttpRequest
from channels.telegram_render import Outgoing, note_html, render
from channels.telegram_send import ChatSender
from channels.telegram_store import BlockedChats
from errors import ConfigError

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
POLL_TIMEOUT = 20  # seconds a getUpdates call waits for news (long polling)


class TelegramConfigError(ConfigError):
    """The channel cannot start as configured; the message says what to fix."""


def check_secret(secret: str) -> str:
    if not secret:
        raise TelegramConfigError(
            "webhook mode needs a secret: set TELEGRAM_WEBHOOK_SECRET (16-256 characters of A-Z a-z 0-9 _ -)"
        )
    if not _SECRET_FORMAT.match(secret):
        raise TelegramConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)"
        )
    return secret


@dataclass(frozen=True)
class WebhookOptions:
    url: str  # the public HTTPS URL Telegram posts to (a reverse proxy in front of the web app)
    secret: str

    def __post_init__(self) -> None:
        check_secret(self.secret)
        if not self.url.startswith("https://"):
            raise TelegramConfigError(f"the Telegram webhook URL must be an https:// URL, got {self.url!r}")


def _kind(message: Message) -> str:
    if message.text is not None or message.caption:
        return "text"  # a photo with a caption is a question about the photo: answer the caption
    for attribute, kind in (
        ("sticker", "sticker"),
        ("photo", "photo"),
        ("voice", "voice"),
        ("audio", "voice"),
        ("video_note", "voice"),
        ("video", "video"),
        ("animation", "video"),
        ("location", "location"),
        ("venue", "location"),
        ("document", "document"),
        ("contact", "contact"),
    ):
        if getattr(message, attribute):
            return kind
    return "other"


def make_bot(token: str, base_url: str, *, request_timeout: float = 10.0) -> Bot:
    """The Bot API client: aiohttp under python-telegram-bot, one pool for sending and one for polling."""
    return Bot(
        token,
        base_url=base_url,
        request=AiohttpRequest(
            connection_pool_size=32,  # matches ChatSender's max_in_flight
            read_timeout=request_timeout,
            write_timeout=request_timeout,
            pool_timeout=10.0,
        ),
        get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=request_timeout),
    )


async def register(bot: Bot, webhook: WebhookOptions | None) -> None:
    """Once per deployment, not per worker: the command menu in Vietnamese and English, and the webhook.

    Without a webhook the webhook is removed, since Telegram refuses getUpdates while one is set.
    """
    for lang in ("vi", "en"):
        commands = [BotCommand(name, summary) for name, summary in routes.menu(lang)]
        await bot.set_my_commands(commands, language_code=lang)
    # Clients in other languages see the default menu: Vietnamese, the assistant's first language.
    await bot.set_my_commands([BotCommand(name, summary) for name, summary in routes.menu("vi")])
    if webhook is None:
        await bot.delete_webhook()
    else:
        await bot.set_webhook(webhook.url, secret_token=webhook.secret, allowed_updates=Update.ALL_TYPES)


class TelegramChannel:
    name = CHANNEL

    def __init__(self, bot: Bot, *, blocked: BlockedChats, desk: TelegramDesk | None, default_lang: str) -> None:
        self.bot = bot
        self.blocked = blocked
        self.desk = desk
        self.default_lang = default_lang
        self.sender = ChatSender(bot, on_blocked=self._on_blocked)
        self._username = ""

    @property
    def source(self) -> str:
        """The inbox's namespace: one per bot, so two bots on one database never collide."""
        return f"{CHANNEL}:{self.bot.token.split(':', 1)[0]}"

    async def start(self) -> None:
        """Ask Telegram who we are (a wrong token or an unreachable Bot API fails here, at start)."""
        await self.bot.initialize()
        self._username = (self.bot.username or "").lower()
        log.info("telegram: serving as @%s", self.bot.username)

    async def close(self, grace: float) -> None:
        await self.sender.drain(grace)
        await self.bot.shutdown()

    # -- Channel -------------------------------------------------------------------------------------

    def deliver(self, user_id: str, response: Response) -> Awaitable[None]:
        return self._queue(int(user_id), render(response.replies, response.lang))

    def note(self, user_id: str, text: str) -> Awaitable[None]:
        return self._queue(int(user_id), note_html(text))

    async def forget(self, user_id: str) -> None:
        await asyncio.to_thread(self.blocked.set_blocked, user_id, False)

    def _queue(self, chat_id: int, messages: list[Outgoing]) -> Awaitable[None]:
        futures = [self.sender.submit(chat_id, out) for out in messages]

        async def sent() -> None:
            await asyncio.gather(*futures, return_exceptions=True)  # the sender logged what it gave up on

        return sent()

    async def handle(self, payload: str, runner: Runner) -> None:
        data = json.loads(payload)
        problem = update_problem(data)
        if problem:  # polled updates are not checked on the way in; Telegram does not send these
            log.warning("telegram update ignored: %s", problem)
            return
        update = Update.de_json(data, self.bot)
        if update.callback_query is not None:
            await self._on_callback(update.callback_query, runner)
        elif update.my_chat_member is not None:
            await self._on_membership(update.my_chat_member)
        elif update.message is not None or update.edited_message is not None:
            message = update.message or update.edited_message
            assert message is not None
            if self.desk is not None and message.chat.id == self.desk.chat_id:
                await self.desk.on_message(message, runner, edited=update.message is None)
            elif message.chat.type == ChatType.PRIVATE:
                # An edited message is answered like a new one: the edit is usually a corrected question.
                await self._on_private(message, runner)
            else:
                await self._on_group(message, runner)
        else:  # channel posts, polls, inline queries, join requests...: not a conversation with us
            log.debug("update %s of a kind the assistant does not handle; ignored", update.update_id)

    async def _on_private(self, message: Message, runner: Runner) -> None:
        user = message.from_user
        await runner.converse(
            UserMessage(
                CHANNEL,
                str(message.chat.id),
                text=message.text or message.caption or "",
                kind=_kind(message),
                message_id=str(message.message_id),
                display_name=user.first_name if user else None,
                language_hint=user.language_code if user else None,
            )
        )

    async def _on_callback(self, query: CallbackQuery, runner: Runner) -> None:
        try:
            await query.answer()  # stops the button's spinner; the answer itself comes as a message
        except TelegramError as exc:
            log.warning("answerCallbackQuery failed: %s", exc)
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != ChatType.PRIVATE:
            return  # buttons only exist in private chats; anything else is not ours to act on
        await runner.converse(
            UserMessage(
                CHANNEL,
                str(chat.id),
                action=query.data or "",
                kind="action",
                display_name=query.from_user.first_name,
                language_hint=query.from_user.language_code,
            )
        )

    async def _on_group(self, message: Message, runner: Runner) -> None:
        """In other groups the bot answers only when addressed, and then points to the private chat."""
        text = message.text or ""
        addressed = text.startswith("/") or (self._username and f"@{self._username}" in text.lower())
        if message.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP) or not addressed:
            return
        if await runner.admit(CHANNEL, f"group:{message.chat.id}") is not Verdict.PASS:
            return
        user = message.from_user
        await self.note(str(message.chat.id), t("private_only", language_of(user.language_code if user else None)))

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        if change.chat.type != ChatType.PRIVATE:
            return
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await asyncio.to_thread(self.blocked.set_blocked, str(change.chat.id), True)
        elif status == ChatMemberStatus.MEMBER:
            await asyncio.to_thread(self.blocked.set_blocked, str(change.chat.id), False)

    async def _on_blocked(self, chat_id: int) -> None:
        if self.desk is None or chat_id != self.desk.chat_id:
            await asyncio.to_thread(self.blocked.set_blocked, str(chat_id), True)

    # -- updates in ----------------------------------------------------------------------------------

    async def poll(self, runner: Runner) -> None:
        """Long polling, for a bot without a public URL (one process): each batch is stored in the inbox
        before the next getUpdates call confirms it to Telegram, so a crash loses none of it."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
                )
                for update in updates:
                    await runner.receive(CHANNEL, str(update.update_id), json.dumps(update.to_dict()))
                    offset = update.update_id + 1
                failures = 0
            except Conflict as exc:  # a webhook is set, or another process polls with this token
                log.error("telegram: getUpdates refused (%s); retrying in 30 s", exc)
                await asyncio.sleep(30)
            except Exception as exc:  # the Bot API or the inbox unreachable: back off, keep the offset
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("telegram: polling failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)


async def webhook(request: Request, runner: Runner, secret: bytes) -> JSONResponse:
    """The webhook route: Telegram's secret header checked in constant time, the update stored, then 200."""
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, secret):  # constant time: the secret is the only credential
        log.warning("webhook request with a wrong or missing secret token from %s", _client(request))
        return JSONResponse({"ok": False, "description": "wrong or missing secret token"}, status_code=403)
    body = await request.body()  # the app refuses bodies over 1 MB (413) before this reads them
    try:
        data = json.loads(body)
    except RecursionError:
        return _bad_update("nested too deeply")
    except ValueError as exc:
        return _bad_update(f"not JSON: {exc}")
    problem = update_problem(data)
    if problem:
        return _bad_update(problem)
    try:
        await runner.receive(CHANNEL, str(data["update_id"]), body.decode())
    except Exception as exc:  # not stored: Telegram must deliver it again
        log.error("telegram update %s could not be stored: %s", data["update_id"], exc)
        return JSONResponse({"ok": False, "description": "could not store the update"}, status_code=503)
    return JSONResponse({"ok": True})


_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")


def update_problem(data: object) -> str | None:
    """Why `data` cannot be a Telegram update, or None. Only what processing relies on is checked."""
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return "not an update: no integer update_id"
    for kind in _MESSAGES:
        message = data.get(kind)
        if message is not None and not (isinstance(message, dict) and isinstance(message.get("chat"), dict)):
            return f"its {kind} has no chat"
    return None


def _bad_update(reason: str) -> JSONResponse:
    log.warning("webhook body is not a Telegram update: %s", reason)
    return JSONResponse({"ok": False, "description": f"body is not a Telegram update: {reason}"}, status_code=400)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
