"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that python-telegram-bot reaches via `base_url`.

It records every request, answers like Telegram (message objects, `ok`/`error_code`/`description`),
validates what Telegram validates and we could get wrong (HTML entities, 4096-character texts, 64-byte
callback data), serves getUpdates long polling from a queue of updates, and can inject faults: 429
with `retry_after`, 500, 403 (blocked), slow answers (timeouts) and redirects.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.support.fake_http import ABANDONED, PlatformHandler, QuietServer, client_gone

BOT_ID = 777000111
TOKEN = f"{BOT_ID}:TEST-token"
BOT_USERNAME = "hocvu_test_bot"
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^<>]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


# One bot's update ids never repeat, whichever fake server a test starts, in this run or a later one:
# a database shared by several tests, and Redis across runs, remember the ids they processed.
_UPDATE_IDS = itertools.count(int(time.time() * 1000))


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    delay: float = 0.0
    chat_id: int | None = None  # only requests for this chat
    location: str | None = None  # a redirect's target
    garbage: bool = False  # a 200 whose body is not JSON


class Garbage:
    """An answer body that is not JSON."""


@dataclass(frozen=True)
class Redirect:
    location: str


@dataclass
class _State:
    requests: list[Request] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    webhook: dict[str, Any] = field(default_factory=dict)
    listeners: list[Callable[[Request], None]] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    waiting: dict[str, int] = field(default_factory=dict)
    rate: int | None = None  # sends accepted per sliding second; beyond it, 429 (like Telegram's flood control)
    accepted: deque[float] = field(default_factory=deque)
    rate_limited: int = 0  # 429s answered because of `rate`


def check_html(text: str) -> str | None:
    """What Telegram would say about this HTML text, or None when it parses."""
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        between = text[position : match.start()]
        if "<" in between or ">" in between:
            return "Bad Request: can't parse entities: unsupported start tag"
        if "&" in _ENTITY.sub("", between):
            return "Bad Request: can't parse entities: unescaped &"
        closing, name = match.group(1), match.group(2).lower()
        if name not in _ALLOWED_TAGS:
            return f'Bad Request: can\'t parse entities: unsupported start tag "{name}"'
        if closing:
            if not stack or stack.pop() != name:
                return f'Bad Request: can\'t parse entities: unexpected end tag "{name}"'
        else:
            stack.append(name)
        position = match.end()
    rest = text[position:]
    if "<" in rest or ">" in rest or "&" in _ENTITY.sub("", rest):
        return "Bad Request: can't parse entities: unescaped character"
    if stack:
        return f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
    return None


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode and parse_mode.upper() == "HTML":
        return html.unescape(_TAG.sub("", text))
    return text


class FakeTelegram:
    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.Condition()
        self._update_ids = _UPDATE_IDS
        self._message_ids = itertools.count(1)
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._state.held.clear()
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls -----------------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, *, times: int = 1, retry_after: int | None = None, chat_id: int | None = None
    ) -> None:
        with self._lock:
            self._state.faults.setdefault(method, []).extend(
                Fault(status, retry_after, chat_id=chat_id) for _ in range(times)
            )

    def delay_next(self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None) -> None:
        """Answer late. A client that gave up meanwhile is recorded with status ABANDONED, not as a send."""
        with self._lock:
            self._state.faults.setdefault(method, []).extend(
                Fault(200, delay=seconds, chat_id=chat_id) for _ in range(times)
            )

    def garbage_next(self, method: str, *, times: int = 1, chat_id: int | None = None) -> None:
        """Answer 200 with a body that is not JSON (a broken proxy): the client cannot tell what happened."""
        with self._lock:
            self._state.faults.setdefault(method, []).extend(
                Fault(200, garbage=True, chat_id=chat_id) for _ in range(times)
            )

    def limit_rate(self, per_second: int | None) -> None:
        """Accept at most `per_second` sendMessage calls in any sliding second; answer the rest 429."""
        with self._lock:
            self._state.rate = per_second
            self._state.accepted.clear()

    @property
    def rate_limited(self) -> int:
        """How many sends `limit_rate` refused."""
        with self._lock:
            return self._state.rate_limited

    def redirect_next(self, method: str, location: str, *, status: int = 302, times: int = 1) -> None:
        """Answer with a redirect to `location` (the Bot API never does; a proxy or a hijacked host might)."""
        with self._lock:
            self._state.faults.setdefault(method, []).extend(Fault(status, location=location) for _ in range(times))

    def hold(self, method: str) -> None:
        """Answer no `method` request until `release`: they wait, and `waiting` counts them."""
        with self._lock:
            self._state.held.add(method)

    def release(self, method: str) -> None:
        with self._lock:
            self._state.held.discard(method)
            self._lock.notify_all()

    def waiting(self, method: str) -> int:
        with self._lock:
            return self._state.waiting.get(method, 0)

    def block(self, chat_id: int) -> None:
        with self._lock:
            self._state.blocked.add(chat_id)

    def on_request(self, listener: Callable[[Request], None]) -> None:
        with self._lock:
            self._state.listeners.append(listener)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._state.requests)

    @property
    def webhook(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state.webhook)

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def sent(self, chat_id: int | None = None) -> list[Request]:
        """Messages the bot sent successfully (sendMessage and sendPhoto), in order."""
        return [
            r
            for r in self.requests
            if r.method in ("sendMessage", "sendPhoto")
            and r.params.get("_status") == 200
            and (chat_id is None or int(r.params["chat_id"]) == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [visible_text(r.params.get("text", ""), r.params.get("parse_mode")) for r in self.sent(chat_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s; requests: {[r.method for r in self.requests][-20:]}"
                )
            time.sleep(0.01)

    def wait_sent(self, chat_id: int, count: int, timeout: float = 10.0) -> list[str]:
        self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.texts(chat_id)

    # -- updates the bot will receive ------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._state.updates.append(update)
            self._lock.notify_all()
        return update

    def message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        first_name: str = "Lan",
        language_code: str = "vi",
        chat_type: str = "private",
        user_id: int | None = None,
        reply_to: int | None = None,
        edited: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        sender = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": first_name} if chat_type == "private" else {"title": "Nhóm"})
        body: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **({"text": text} if text is not None else {}),
            **(extra or {}),
        }
        if edited:
            body["edit_date"] = int(time.time())
        if reply_to is not None:
            body["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": chat,
                "from": self._bot_user(),
                "text": "…",
            }
        return {"update_id": self.next_update_id(), ("edited_message" if edited else "message"): body}

    def callback(self, chat_id: int, data: str, *, first_name: str = "Lan", message_id: int = 1) -> dict[str, Any]:
        return {
            "update_id": self.next_update_id(),
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": "vi"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                    "from": self._bot_user(),
                    "text": "…",
                },
            },
        }

    # -- the server --------------------------------------------------------------------------------

    @staticmethod
    def _bot_user() -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Hocvu", "username": BOT_USERNAME}

    def _sent_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "Nhóm"},
            "from": self._bot_user(),
        }
        if "text" in params:
            message["text"] = visible_text(params["text"], params.get("parse_mode"))
        if "photo" in params:
            message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]
        return message

    def _validate(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if method not in ("sendMessage", "editMessageText", "sendPhoto"):
            return None
        if "chat_id" in params and int(params["chat_id"]) in self._state.blocked:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        text = params.get("text")
        if text is not None:
            parse_mode = params.get("parse_mode")
            if parse_mode and parse_mode.upper() == "HTML" and (problem := check_html(text)):
                return 400, {"ok": False, "error_code": 400, "description": problem}
            if len(visible_text(text, parse_mode).encode("utf-16-le")) // 2 > 4096:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return 400, {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"}
        return None

    def _answer(self, method: str, params: dict[str, Any], client_gone: Callable[[], bool]) -> tuple[int, Any]:
        with self._lock:
            if method in self._state.held:
                self._state.waiting[method] = self._state.waiting.get(method, 0) + 1
                try:
                    while method in self._state.held:
                        self._lock.wait(0.05)
                        if client_gone():  # the client died or gave up: it never learns the outcome
                            return ABANDONED, {"ok": False, "error_code": ABANDONED, "description": "client gone"}
                finally:
                    self._state.waiting[method] -= 1
            faults = self._state.faults.get(method, [])
            chat = params.get("chat_id")
            fault = next(
                (f for f in faults if f.chat_id is None or (chat is not None and int(chat) == f.chat_id)), None
            )
            if fault is not None:
                faults.remove(fault)
            if fault is None and method == "sendMessage" and self._state.rate is not None:
                moment = time.monotonic()
                accepted = self._state.accepted
                while accepted and accepted[0] <= moment - 1.0:
                    accepted.popleft()
                if len(accepted) >= self._state.rate:
                    self._state.rate_limited += 1
                    fault = Fault(429, retry_after=1)
                else:
                    accepted.append(moment)
        if fault is not None and fault.garbage:
            return 200, Garbage()
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
            if client_gone():  # the client timed out: it never learns of this request's outcome
                return ABANDONED, {"ok": False, "error_code": ABANDONED, "description": "client closed request"}
        elif fault is not None and fault.location is not None:
            return fault.status, Redirect(fault.location)
        elif fault is not None and fault.status == 429:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {fault.retry_after}",
                "parameters": {"retry_after": fault.retry_after},
            }
        elif fault is not None:
            return fault.status, {"ok": False, "error_code": fault.status, "description": "Internal Server Error"}
        with self._lock:
            problem = self._validate(method, params)
        if problem is not None:
            return problem
        if method == "getMe":
            return 200, {"ok": True, "result": {**self._bot_user(), "can_join_groups": True}}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method in ("sendMessage", "sendPhoto", "copyMessage", "forwardMessage", "editMessageText"):
            return 200, {"ok": True, "result": self._sent_message(params)}
        if method == "setWebhook":
            with self._lock:
                self._state.webhook = dict(params)
            return 200, {"ok": True, "result": True}
        if method in ("deleteWebhook", "answerCallbackQuery", "setMyCommands", "sendChatAction", "close", "logOut"):
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            return 200, {"ok": True, "result": {"url": self.webhook.get("url", ""), "pending_update_count": 0}}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)  # short long-polls keep shutdown quick
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                ready = [u for u in self._state.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready[: int(params.get("limit") or 100)]
                self._lock.wait(remaining)

    def _record(self, method: str, params: dict[str, Any], status: int) -> None:
        request = Request(method, {**params, "_status": status}, time.monotonic())
        with self._lock:
            self._state.requests.append(request)
            listeners = list(self._state.listeners)
        for listener in listeners:
            listener(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(PlatformHandler):
            def do_POST(self) -> None:
                match = re.match(r"^/bot([^/]+)/(\w+)$", self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not match or match.group(1) != TOKEN:
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                method = match.group(2)
                params = _parse(self.headers.get("Content-Type", ""), body)
                status, payload = fake._answer(method, params, lambda: client_gone(self.connection))
                result = payload.get("result") if isinstance(payload, dict) else None
                if isinstance(result, dict) and "message_id" in result:
                    params["_message_id"] = result["message_id"]
                fake._record(method, params, status)
                if status == ABANDONED:
                    self.close_connection = True
                    return
                self._reply(status, payload)

            do_GET = do_POST

            def _reply(self, status: int, payload: Any) -> None:
                if isinstance(payload, Garbage):
                    data = b"<html>502 nginx</html>"
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if isinstance(payload, Redirect):
                    self.send_response(status)
                    self.send_header("Location", payload.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
    """PTB sends form fields, JSON-encoding the complex ones; files come as multipart."""
    fields: dict[str, Any] = {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = payload if part.get_filename() else payload.decode()
    elif content_type.startswith("application/json"):
        fields = json.loads(body or b"{}")
    else:
        fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    for key, value in list(fields.items()):
        if isinstance(value, str) and value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                fields[key] = json.loads(value)
    return fields
