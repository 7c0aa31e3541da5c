"""The Zalo Official Account channel: signed webhook events in, consultation messages out (OA API v3).

The adapter converts and carries; the core (bot/) decides, and the runner (channels/runner.py) does what
every channel needs. The webhook route (`webhook`) checks Zalo's signature and the event's age, stores the
event in the runner's inbox and answers 200 (Zalo wants it within 2 s). Per stored event (`handle`):
- user_send_text → the core; a typed number (or a tapped button, whose payload is that number) presses
  the numbered choice last shown to the user;
- user_send_image, _sticker, _audio, _video, _file, _location, _link, _business_card → the core, as a
  message of that kind (it answers that it reads text);
- follow → the core's /start: the welcome that says what the assistant does;
- unfollow → the user is marked unreachable: nothing more is sent until they write again.
Receipts (user_seen_message, user_received_message), echoes of our own messages (oa_send_*), anonymous
users' messages (replying to them is another API) and the other known events are ignored on purpose at
the route, without being stored; an unknown event name is logged and answered 200.

Sending (`deliver`) is queued per user, in order. A send is refused, with a log line, to a user who
unfollowed or whom Zalo refused, and after `send_window` (7 days) without interaction, when Zalo would
refuse it (-230); replies name the user's message (`recipient.message_id`) while Zalo's reply quota for it
lasts; messages that do not reply to a user's message count against `monthly_allowance`. Zalo's error
codes are classified in channels/zalo_oa_api.py; the channel records a user's refusal
on the user and stops sending on a configuration error until restarted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.messages import Response, UserMessage, strip_markup
from channels import metrics
from channels.runner import Runner
from channels.send_queue import UserQueues
from channels.zalo_oa_api import TEMPLATE_CODES, Kind, ZaloApiError, ZaloOaApi
from channels.zalo_oa_render import ZaloMessage, choice, render, split_text
from channels.zalo_oa_store import Follower, ZaloOaStore, now

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"
START = "/start"

# What the core is told a non-text message was (bot/messages.py MESSAGE_KINDS).
MESSAGE_KINDS = {
    "user_send_text": "text",
    "user_send_image": "photo",
    "user_send_gif": "photo",
    "user_send_sticker": "sticker",
    "user_send_audio": "voice",
    "user_send_video": "video",
    "user_send_file": "document",
    "user_send_location": "location",
    "user_send_link": "other",
    "user_send_business_card": "contact",
}
# Known events that need nothing from us: receipts, echoes of what the OA sent, and events we do not act on.
IGNORED = frozenset(
    {
        "user_seen_message",
        "user_received_message",
        "user_submit_info",
        "user_click_chatnow",
        "user_reacted_message",
        "oa_reacted_message",
    }
)
IGNORED_PREFIXES = ("oa_send_", "anonymous_send_")


def signature(app_id: str, body: bytes, timestamp: str, secret_key: bytes) -> str:
    """Zalo's mac: plain SHA-256 (not an HMAC) of app_id + raw body + timestamp + the OA secret key."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret_key).hexdigest()


def _text(value: object) -> str | None:
    """Ids come as strings; accept numbers too rather than drop an event over its JSON type."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _id_of(data: dict[str, Any], field: str) -> str | None:
    holder = data.get(field)
    return _text(holder.get("id")) if isinstance(holder, dict) else None


def event_problem(data: dict[str, Any]) -> str | None:
    """Why a stored event cannot be acted on, or None. Only what processing relies on is checked."""
    name = data.get("event_name")
    if not isinstance(name, str) or not name:
        return "no event_name"
    if name in ("follow", "unfollow"):
        return None if _id_of(data, "follower") else f"{name} without follower.id"
    if name in MESSAGE_KINDS:
        if not _id_of(data, "sender"):
            return f"{name} without sender.id"
        message = data.get("message")
        if not isinstance(message, dict) or not _text(message.get("msg_id")):
            return f"{name} without message.msg_id"
        if name == "user_send_text" and not isinstance(message.get("text"), str):
            return "user_send_text without message.text"
    return None


def event_key(data: dict[str, Any]) -> str:
    """The inbox key: Zalo's msg_id, else (follow, unfollow) the event, its user and its time."""
    message = data.get("message")
    msg_id = _text(message.get("msg_id")) if isinstance(message, dict) else None
    if msg_id:
        return f"msg:{msg_id}"[:128]
    user = _id_of(data, "follower") or _id_of(data, "sender") or "?"
    return f"{data['event_name']}:{user}:{data['timestamp']}"[:128]


def is_ignored(name: str) -> bool:
    return name in IGNORED or name.startswith(IGNORED_PREFIXES)


def _within(timestamp: str, now_seconds: float, window: float) -> bool:
    """Whether a timestamp in milliseconds (its length unchecked: Zalo's docs do not fix it) is near now."""
    try:
        return timestamp.isascii() and timestamp.isdigit() and abs(now_seconds - int(timestamp) / 1000) <= window
    except ValueError:  # more digits than int() converts: not a time
        return False


def _refuse(status: int, reason: str, request: Request) -> JSONResponse:
    client = request.client.host if request.client else "?"
    log.warning("zalo_oa webhook: %s (from %s)", reason, client)
    return JSONResponse({"ok": False, "reason": reason}, status_code=status)


async def webhook(
    request: Request,
    runner: Runner,
    *,
    app_id: str,
    secret_key: bytes,
    window: float,
    clock: Callable[[], float] = time.time,
) -> JSONResponse:
    """Zalo's signature and the event's age checked on the raw body, the event stored, then 200."""
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not header.startswith("mac="):
        return _refuse(403, f"missing or malformed {SIGNATURE_HEADER}", request)
    body = await request.body()  # the app refuses bodies over 1 MB (413) before this reads them
    try:
        data = json.loads(body.decode("utf-8"))  # stored as text: UTF-8 only, as Zalo sends it
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8", request)
    except RecursionError:
        return _refuse(400, "body nested too deeply", request)
    except ValueError as exc:
        return _refuse(400, f"body is not JSON: {exc}", request)
    if not isinstance(data, dict):
        return _refuse(400, "body is not a JSON object", request)
    given_app, timestamp = _text(data.get("app_id")), _text(data.get("timestamp"))
    if given_app is None or timestamp is None:
        return _refuse(400, "body has no app_id or timestamp", request)
    expected = signature(given_app, body, timestamp, secret_key)
    # Constant time: the comparison must not tell a forger how many leading characters were right.
    if not hmac.compare_digest(header[4:].strip().lower().encode(), expected.encode()):
        return _refuse(403, "wrong signature", request)
    if not hmac.compare_digest(given_app.encode(), app_id.encode()):
        return _refuse(403, "event for another app", request)
    if not _within(timestamp, clock(), window):
        return _refuse(403, f"timestamp {timestamp[:20]} is outside the accepted window", request)
    name = data.get("event_name")
    if isinstance(name, str) and is_ignored(name):
        log.debug("zalo_oa: %s ignored on purpose", name)
        return JSONResponse({"ok": True})
    problem = event_problem(data)
    if problem:
        return _refuse(400, f"not a usable Zalo event: {problem}", request)
    assert isinstance(name, str)
    if name not in MESSAGE_KINDS and name not in ("follow", "unfollow"):
        log.info("zalo_oa: event %r is not one the assistant knows; ignored", name[:64])
        return JSONResponse({"ok": True})
    try:
        await runner.receive(CHANNEL, event_key(data), body.decode())
    except Exception as exc:
        # Not stored. Zalo retries only events it could not connect for (research notes), so unlike Telegram
        # it may not deliver this one again: the error line is what is left of it.
        log.error("zalo_oa event %s could not be stored, and Zalo may not send it again: %s", event_key(data), exc)
        return JSONResponse({"ok": False, "reason": "could not store the event"}, status_code=503)
    return JSONResponse({"ok": True})


class ZaloOaChannel:
    name = CHANNEL

    def __init__(
        self,
        api: ZaloOaApi,
        store: ZaloOaStore,
        *,
        buttons: bool,
        send_window: timedelta = timedelta(days=7),
        reply_window: timedelta = timedelta(hours=48),
        replies_per_message: int = 8,
        monthly_allowance: int = 0,
    ) -> None:
        self.api = api
        self.store = store
        self.buttons = buttons
        self.send_window = send_window
        self.reply_window = reply_window
        self.replies_per_message = replies_per_message
        self.monthly_allowance = monthly_allowance  # 0: no limit
        self.stopped: str | None = None  # a configuration error Zalo reported: no more sends until restarted
        self._templates_off = not buttons
        self._queues = UserQueues(CHANNEL)

    @property
    def source(self) -> str:
        """The inbox's namespace: one per Zalo app."""
        return f"{CHANNEL}:{self.store.app_id}"

    async def start(self) -> None:
        metrics.CHANNEL_STOPPED.labels(CHANNEL).set(0)
        await self.api.start()
        if not await asyncio.to_thread(self.api.tokens.has_pair):  # serving anyway: a pair may be stored later
            log.error(
                "zalo_oa: the OA has no token pair, so nothing can be sent: run `hocvu zalo auth` or set "
                "ZALO_OA_REFRESH_TOKEN (docs/zalo.md)"
            )
        if not self._templates_off and await asyncio.to_thread(self.store.templates_refused):
            self._templates_off = True

    async def close(self, grace: float) -> None:
        await self._queues.drain(grace)
        await self.api.close()

    # -- events in -----------------------------------------------------------------------------------

    async def handle(self, payload: str, runner: Runner) -> None:
        data = json.loads(payload)
        name = data["event_name"]
        if name == "follow":
            user = _id_of(data, "follower")
            assert user is not None
            await asyncio.to_thread(self.store.interacted, user, None)
            await runner.converse(UserMessage(CHANNEL, user, text=START))
        elif name == "unfollow":
            user = _id_of(data, "follower")
            assert user is not None
            await asyncio.to_thread(self.store.unreachable, user, "unfollowed")
            log.info("zalo_oa: a user unfollowed the OA; nothing more is sent to them")
        else:
            await self._on_message(name, data, runner)

    async def _on_message(self, name: str, data: dict[str, Any], runner: Runner) -> None:
        user = _id_of(data, "sender")
        assert user is not None
        message = data["message"]
        msg_id = _text(message.get("msg_id"))
        follower = await asyncio.to_thread(self.store.interacted, user, msg_id)
        kind = MESSAGE_KINDS[name]
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        if kind == "text":
            action = choice(text, follower.choices)
            if action is not None:
                await runner.converse(UserMessage(CHANNEL, user, action=action, kind="action", message_id=msg_id))
                return
        await runner.converse(UserMessage(CHANNEL, user, text=text, kind=kind, message_id=msg_id))

    # -- Channel -------------------------------------------------------------------------------------

    def deliver(self, user_id: str, response: Response) -> Awaitable[None]:
        rendered = render(response.replies, response.lang, buttons=not self._templates_off)
        if any(reply.image_png is not None for reply in response.replies):
            log.info("zalo_oa: an image reply was sent as its text only (image upload is not built)")
        return self._queue(user_id, rendered.messages, rendered.choices)

    def note(self, user_id: str, text: str) -> Awaitable[None]:
        return self._queue(user_id, [ZaloMessage(part) for part in split_text(strip_markup(text))], None)

    async def forget(self, user_id: str) -> None:
        await asyncio.to_thread(self.store.forget, user_id)

    # -- sending -------------------------------------------------------------------------------------

    def _queue(self, user_id: str, messages: list[ZaloMessage], choices: list[str] | None) -> Awaitable[None]:
        """Chain the send after the user's previous one, so their messages keep their order."""
        return self._queues.submit(user_id, lambda: self._send(user_id, messages, choices), len(messages))

    def refusal(self, follower: Follower | None) -> str | None:
        """Why Zalo would refuse anything sent to this user now, or None."""
        if self.stopped:
            return f"the channel is stopped: {self.stopped}"
        if follower is None:
            return "the user never wrote to the OA"
        if follower.unreachable_reason:
            return f"the user is unreachable ({follower.unreachable_reason})"
        if now() - follower.last_interaction_at > self.send_window:
            return f"the user's last interaction is over {self.send_window.days} days old"
        return None

    async def _send(self, user_id: str, messages: list[ZaloMessage], choices: list[str] | None) -> None:
        follower = await asyncio.to_thread(self.store.before_sending, user_id, choices, now() - self.send_window)
        problem = self.refusal(follower)
        if problem:
            log.warning("zalo_oa: not sending %d message(s): %s", len(messages), problem)
            metrics.SENDS.labels(CHANNEL, "refused").inc(len(messages))
            return
        assert follower is not None
        replies = follower.replies_to_message
        replying = follower.last_message_id is not None and now() - follower.last_interaction_at < self.reply_window
        try:
            for message in messages:
                reply_to = follower.last_message_id if replying and replies < self.replies_per_message else None
                recipient = {"message_id": reply_to} if reply_to else {"user_id": user_id}
                if reply_to is None and not await asyncio.to_thread(self.store.take_proactive, self.monthly_allowance):
                    log.warning(
                        "zalo_oa: this month's allowance of %d messages that do not reply to a user's message is "
                        "used up (zalo_oa.monthly_allowance); not sending",
                        self.monthly_allowance,
                    )
                    metrics.SENDS.labels(CHANNEL, "refused").inc()
                    return
                try:
                    await self._send_one(recipient, message)
                except ZaloApiError as exc:
                    metrics.SENDS.labels(CHANNEL, "failed").inc()
                    if exc.kind is Kind.USER:
                        log.warning("zalo_oa: Zalo will not deliver to this user: %s", exc)
                        if exc.code != -234:  # the night window closes only for hours; the rest last until they write
                            await asyncio.to_thread(self.store.unreachable, user_id, f"zalo error {exc.code}")
                        return
                    if exc.kind is Kind.CONFIG:
                        self.stopped = str(exc)
                        metrics.CHANNEL_STOPPED.labels(CHANNEL).set(1)
                        log.error(
                            "ZALO OA CHANNEL STOPPED: %s. The OA or app is disabled, unverified or not allowed this API; "
                            "fix it in the Zalo consoles, then restart (docs/zalo.md)",
                            exc,
                        )
                        return
                    log.error("zalo_oa: a message was not delivered: %s", exc)
                    continue
                metrics.SENDS.labels(CHANNEL, "sent").inc()
                if reply_to is not None:
                    replies += 1
        finally:  # one write for the replies sent, however the loop ended
            if replies > follower.replies_to_message and follower.last_message_id is not None:
                count = replies - follower.replies_to_message
                await asyncio.to_thread(self.store.replied, user_id, follower.last_message_id, count)

    async def _send_one(self, recipient: dict[str, str], message: ZaloMessage) -> None:
        if message.buttons and not self._templates_off:
            body: dict[str, Any] = {
                "text": message.text,
                "attachment": {
                    "type": "template",
                    "payload": {
                        "buttons": [
                            {"title": title, "type": "oa.query.show", "payload": payload}
                            for title, payload in message.buttons
                        ]
                    },
                },
            }
            try:
                await self.api.send(recipient, body)
                return
            except ZaloApiError as exc:
                if exc.code not in TEMPLATE_CODES:
                    raise
                # Buttons on /message/cs are unverified: the numbered text is already in the message.
                log.warning(
                    "zalo_oa: Zalo refused a message with buttons (%s); choices go as numbered text from now on", exc
                )
                self._templates_off = True
                await asyncio.to_thread(self.store.refuse_templates)
        await self.api.send(recipient, {"text": message.text})
