"""The Telegram channel (python-telegram-bot 22): updates in, rendered replies out, polling or webhook.

The adapter converts and carries; the core (bot/) decides. Per update:
1. claim the update id in the ledger, so an update delivered twice is processed once;
2. route it: private chat → the core; volunteers' group → a reply to a handover card goes to its user;
   other groups → a pointer to the private chat when addressed, otherwise ignored on purpose;
   channel posts, polls, inline queries and other update kinds → ignored on purpose;
3. flood limit per user; then the synchronous core runs in a worker thread, one message per user at a
   time (in order), many users in parallel;
4. replies are rendered (HTML, split, keyboards) and queued per chat (telegram_send.ChatSender).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import tornado.httpserver
import tornado.web
from telegram import BotCommand, CallbackQuery, ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot import routes
from bot.assistant import Assistant
from bot.messages import Response, UserMessage
from bot.texts import t
from channels.flood import FloodGate, Verdict
from channels.telegram_http import AiohttpRequest
from channels.telegram_render import note_html, render
from channels.telegram_send import ChatSender
from channels.telegram_store import BlockedChats, HandoverLinks, UpdateLedger, UserTurns
from errors import ConfigError

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{16,256}$")

T = TypeVar("T")


class TelegramConfigError(ConfigError):
    """The channel cannot start as configured; the message says what to fix."""


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


class TelegramChannel:
    def __init__(
        self,
        assistant: Assistant,
        *,
        ledger: UpdateLedger,
        links: HandoverLinks,
        blocked: BlockedChats,
        flood: FloodGate,
        volunteer_chat_id: int | None = None,
        volunteers: frozenset[int] = frozenset(),
        core_threads: int,
        turns: UserTurns | None = None,
    ) -> None:
        self.assistant = assistant
        self.turns = turns  # several webhook workers: one message per user at a time across all of them
        self.ledger = ledger
        self.links = links
        self.blocked = blocked
        self.flood = flood
        self.volunteer_chat_id = volunteer_chat_id
        self.volunteers = volunteers  # who may answer handover cards (telegram.volunteers)
        self._core = ThreadPoolExecutor(max_workers=core_threads, thread_name_prefix="hocvu-core")
        self._io = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hocvu-telegram-db")
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._sender: ChatSender | None = None
        self._bot_username = ""

    # -- wiring ------------------------------------------------------------------------------------

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._sender = ChatSender(application.bot, on_blocked=self._on_blocked)
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)

    @property
    def sender(self) -> ChatSender:
        if self._sender is None:
            raise RuntimeError("TelegramChannel.attach(application) was not called")
        return self._sender

    async def setup(self, application: Application[Any, Any, Any, Any, Any, Any], *, announce: bool = True) -> None:
        """After initialize(): remember who we are and publish the command menu in Vietnamese and English."""
        self._bot_username = (application.bot.username or "").lower()
        if not announce:
            return
        for lang in ("vi", "en"):
            commands = [BotCommand(name, summary) for name, summary in routes.menu(lang)]
            await application.bot.set_my_commands(commands, language_code=lang)
        # Clients in other languages see the default menu: Vietnamese, the assistant's first language.
        await application.bot.set_my_commands([BotCommand(name, summary) for name, summary in routes.menu("vi")])

    async def close(self) -> None:
        await self.sender.drain()
        if self.turns is not None:
            await self.turns.close()
        self._core.shutdown(wait=True)
        self._io.shutdown(wait=True)

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, function, *args)

    async def _run_core(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._core, function, *args)

    @contextlib.asynccontextmanager
    async def _user_turn(self, user_id: str) -> AsyncIterator[None]:
        """One message per user at a time, in arrival order; the lock is forgotten when nobody holds it."""
        lock, users = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, users + 1)
        try:
            async with lock:
                if self.turns is None:
                    yield
                else:
                    async with self.turns.hold(user_id):
                        yield
        finally:
            lock, users = self._locks[user_id]
            if users == 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, users - 1)

    # -- updates -----------------------------------------------------------------------------------

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.process(update)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed", update_id, exc_info=context.error)

    async def process(self, update: Update) -> None:
        if not await self._db(self.ledger.first_time, update.update_id):
            log.info("update %s was delivered again; already processed", update.update_id)
            return
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.my_chat_member is not None:
            await self._on_membership(update.my_chat_member)
        elif update.message is not None or update.edited_message is not None:
            message = update.message or update.edited_message
            assert message is not None
            if self.volunteer_chat_id is not None and message.chat.id == self.volunteer_chat_id:
                await self._on_volunteer_message(message, edited=update.message is None)
            elif message.chat.type == ChatType.PRIVATE:
                # An edited message is answered like a new one: the edit is usually a corrected question.
                await self._on_private(message)
            else:
                await self._on_group(message)
        else:  # channel posts, polls, inline queries, join requests...: not a conversation with us
            log.debug("update %s of a kind the assistant does not handle; ignored", update.update_id)

    def _flood_ok(self, chat_id: int, key: str, lang_hint: str | None) -> bool:
        verdict = self.flood.check(key)
        if verdict is Verdict.WARN:
            for out in note_html(t("slow_down", _hint(lang_hint))):
                self.sender.submit(chat_id, out)
        return verdict is Verdict.PASS

    async def _on_private(self, message: Message) -> None:
        user = message.from_user
        hint = user.language_code if user else None
        if not self._flood_ok(message.chat.id, str(message.chat.id), hint):
            return
        incoming = UserMessage(
            CHANNEL,
            str(message.chat.id),
            text=message.text or message.caption or "",
            kind=_kind(message),
            message_id=str(message.message_id),
            display_name=user.first_name if user else None,
            language_hint=hint,
        )
        await self._converse(message.chat.id, incoming)

    async def _on_callback(self, query: CallbackQuery) -> None:
        try:
            await query.answer()  # stops the button's spinner; the answer itself comes as a message
        except TelegramError as exc:
            log.warning("answerCallbackQuery failed: %s", exc)
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != ChatType.PRIVATE:
            return  # buttons only exist in private chats; anything else is not ours to act on
        hint = query.from_user.language_code
        if not self._flood_ok(chat.id, str(chat.id), hint):
            return
        incoming = UserMessage(
            CHANNEL,
            str(chat.id),
            action=query.data or "",
            kind="action",
            display_name=query.from_user.first_name,
            language_hint=hint,
        )
        await self._converse(chat.id, incoming)

    async def _converse(self, chat_id: int, incoming: UserMessage) -> None:
        async with self._user_turn(incoming.user_id):
            response = await self._run_core(self.assistant.handle, incoming)
            self._reply(chat_id, response)
            if response.forget_user:  # the core deleted the user's data; the channel's links go too
                await self._db(self.links.forget, incoming.user_id)
            if response.handover is not None:
                await self._to_volunteers(incoming.user_id, response)

    def _reply(self, chat_id: int, response: Response) -> None:
        for out in render(response.replies, response.lang):
            self.sender.submit(chat_id, out)

    async def _on_group(self, message: Message) -> None:
        """In other groups the bot answers only when addressed, and then points to the private chat."""
        text = message.text or ""
        addressed = text.startswith("/") or (self._bot_username and f"@{self._bot_username}" in text.lower())
        if message.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP) or not addressed:
            return
        user = message.from_user
        if not self._flood_ok(message.chat.id, f"group:{message.chat.id}", None):
            return
        for out in note_html(t("private_only", _hint(user.language_code if user else None))):
            self.sender.submit(message.chat.id, out)

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        if change.chat.type != ChatType.PRIVATE:
            return
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await self._db(self.blocked.set_blocked, str(change.chat.id), True)
        elif status == ChatMemberStatus.MEMBER:
            await self._db(self.blocked.set_blocked, str(change.chat.id), False)

    async def _on_blocked(self, chat_id: int) -> None:
        if chat_id != self.volunteer_chat_id:
            await self._db(self.blocked.set_blocked, str(chat_id), True)

    # -- volunteers --------------------------------------------------------------------------------

    async def _to_volunteers(self, user_id: str, response: Response) -> None:
        """Post the core's note in the volunteers' group and remember which user it belongs to."""
        event = response.handover
        if event is None or self.volunteer_chat_id is None:
            return
        reply_to = None if event.kind == "open" else await self._db(self.links.card_for, user_id)
        futures = [self.sender.submit(self.volunteer_chat_id, out, reply_to=reply_to) for out in note_html(event.note)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        sent = [r for r in results if isinstance(r, Message)]
        for posted in sent:
            await self._db(self.links.link, posted.message_id, user_id)
        if not sent and event.kind == "open":
            failed = await self._run_core(self.assistant.handover_failed, CHANNEL, user_id)
            self._reply(int(user_id), failed)

    async def _on_volunteer_message(self, message: Message, *, edited: bool) -> None:
        """A reply to a handover card (or to a relayed message) goes to that user; other talk is the group's own.

        Only listed volunteers are delivered, and only once: an edit would reach the citizen as a second
        message they cannot tell from the first.
        """
        target = message.reply_to_message
        if target is None or message.from_user is None or message.from_user.is_bot:
            return
        user_id = await self._db(self.links.user_for, target.message_id)
        if user_id is None:
            return
        assert self.volunteer_chat_id is not None
        note_lang = self.assistant.default_lang
        if message.from_user.id not in self.volunteers:
            log.warning("a reply to a handover card from %s, who is not in telegram.volunteers", message.from_user.id)
            for out in note_html(t("handover_not_volunteer", note_lang, id=message.from_user.id)):
                self.sender.submit(self.volunteer_chat_id, out, reply_to=message.message_id)
            return
        if edited:
            for out in note_html(t("handover_edit_not_sent", note_lang)):
                self.sender.submit(self.volunteer_chat_id, out, reply_to=message.message_id)
            return
        text = message.text or message.caption
        if not text:
            for out in note_html(t("handover_text_only", note_lang)):
                self.sender.submit(self.volunteer_chat_id, out, reply_to=message.message_id)
            return
        async with self._user_turn(user_id):
            response = await self._run_core(self.assistant.volunteer_reply, CHANNEL, user_id, text)
        self._reply(int(user_id), response)
        if response.handover is not None:
            for out in note_html(response.handover.note):
                self.sender.submit(self.volunteer_chat_id, out, reply_to=message.message_id)


def _hint(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "vi"


# -- running -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOptions:
    url: str  # the public HTTPS URL Telegram posts to (a reverse proxy in front of listen:port)
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram/webhook"

    def __post_init__(self) -> None:
        if not self.secret:
            raise TelegramConfigError(
                "webhook mode needs a secret: set TELEGRAM_WEBHOOK_SECRET (16-256 characters of A-Z a-z 0-9 _ -)"
            )
        if not _SECRET_FORMAT.match(self.secret):
            raise TelegramConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)"
            )
        if not self.url.startswith("https://"):
            raise TelegramConfigError(f"--webhook-url must be an https:// URL, got {self.url!r}")


def build_application(
    token: str, base_url: str, *, polling: bool, request_timeout: float = 10.0
) -> Application[Any, Any, Any, Any, Any, Any]:
    requests = AiohttpRequest(
        connection_pool_size=32,  # matches ChatSender's max_in_flight
        read_timeout=request_timeout,
        write_timeout=request_timeout,
        pool_timeout=10.0,
    )
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .concurrent_updates(256)  # ordering per user is kept by TelegramChannel itself
        .request(requests)
    )
    if polling:
        builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=request_timeout))
    else:
        builder = builder.updater(None)
    return builder.build()


class _WebhookHandler(tornado.web.RequestHandler):
    def initialize(self, ptb: Application[Any, Any, Any, Any, Any, Any], secret: bytes) -> None:
        self.ptb = ptb
        self.secret = secret

    def check_xsrf_cookie(self) -> None:  # Telegram sends no cookies; the secret header authenticates
        return None

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):  # constant time: the secret is the only credential
            log.warning("webhook request with a wrong or missing secret token from %s", self.request.remote_ip)
            self.set_status(403)
            self.finish({"ok": False, "description": "wrong or missing secret token"})
            return
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update: no integer update_id")
            update = Update.de_json(data, self.ptb.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("webhook body is not a Telegram update: %s", exc)
            self.set_status(400)
            self.finish({"ok": False, "description": f"body is not a Telegram update: {exc}"})
            return
        await self.ptb.update_queue.put(update)  # acknowledge at once; processing goes on in the background
        self.finish({"ok": True})


def webhook_server(
    application: Application[Any, Any, Any, Any, Any, Any],
    options: WebhookOptions,
    sockets: list[socket.socket] | None = None,
) -> tornado.httpserver.HTTPServer:
    """The webhook endpoint on options.listen:port, or on `sockets` bound before worker processes forked."""
    web = tornado.web.Application(
        [(options.path, _WebhookHandler, {"ptb": application, "secret": options.secret.encode()})],
        log_function=lambda handler: None,  # one access line per update would drown the real log
    )
    server = tornado.httpserver.HTTPServer(web, xheaders=True, max_body_size=1 << 20)
    if sockets is None:
        server.listen(options.port, options.listen)
    else:
        server.add_sockets(sockets)
    return server


async def serve(
    channel: TelegramChannel,
    application: Application[Any, Any, Any, Any, Any, Any],
    stop: asyncio.Event,
    webhook: WebhookOptions | None = None,
    ready: Callable[[], None] | None = None,
    *,
    sockets: list[socket.socket] | None = None,
    announce: bool = True,
) -> None:
    """Run until `stop` is set: long polling by default, or a webhook server with a secret token.

    Several webhook workers share `sockets`; only the one that `announce`s registers the webhook and the
    command menu with Telegram, which needs it once.
    """
    channel.attach(application)
    try:
        async with application:
            await channel.setup(application, announce=announce)
            await application.start()
            server = None
            if webhook is None:
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            else:
                server = webhook_server(application, webhook, sockets)
                if announce:
                    await application.bot.set_webhook(
                        webhook.url, secret_token=webhook.secret, allowed_updates=Update.ALL_TYPES
                    )
            log.info("telegram: serving as @%s (%s)", application.bot.username, "webhook" if webhook else "polling")
            if ready is not None:
                ready()
            try:
                await stop.wait()
            finally:
                if server is not None:
                    server.stop()
                elif application.updater is not None:
                    await application.updater.stop()
                await application.stop()
                await channel.close()
    finally:
        # Application.shutdown() skips the bot when initialize() failed half-way (the Bot API unreachable
        # at start), which would leave its HTTP session open.
        await application.bot.shutdown()
