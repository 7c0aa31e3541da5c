"""A fake Zalo Bot Platform API: `POST /bot<TOKEN>/<method>` with JSON bodies, one real HTTP server on
127.0.0.1 that the channel reaches through `zalo_bot.api_base_url`; and the updates its webhook receives.

It answers like the Bot API as far as the research notes know it: `{ok, result}`, or `{ok: false, error_code,
description}` (with HTTP 401 for an unknown token); sendMessage takes 1-2,000 characters; setWebhook wants an
https URL and a secret of 8-256 characters; getUpdates hands out one queued update per call, without offsets,
answers 408 when none came within its `timeout`, and is refused while a webhook is set. It records every
request and can inject faults: HTTP 500, a refusal with HTTP 200 (`ok: false`), 429, a slow answer (a
timeout: the fake then delivers nothing, as a proxy in front of Zalo would drop it).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fake_http import ABANDONED, PlatformHandler, QuietServer, client_gone

BOT_ID = "1459232241454765289"
TOKEN = f"{BOT_ID}:fake-zalo-bot-secret"
SECRET = "zalo-bot-webhook-secret"

# Message ids never repeat, whichever fake a test starts: the inbox remembers keys across tests on one database.
_MESSAGE_IDS = itertools.count(int(time.time() * 1000))


@dataclass
class Request:
    method: str
    body: dict[str, Any]
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Fault:
    status: int = 200
    refuse: str | None = None  # a description: ok=false with HTTP 200
    delay: float = 0.0


class FakeZaloBot:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.requests: list[Request] = []
        self.listeners: list[Callable[[Request], None]] = []  # called with each request once answered
        self.faults: dict[str, list[Fault]] = {}
        self.updates: list[dict[str, Any]] = []  # what getUpdates hands out, one per call
        self.webhook: dict[str, Any] = {}
        self._sent_ids = itertools.count(1)
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-zalo-bot", daemon=True)

    def __enter__(self) -> FakeZaloBot:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls -------------------------------------------------------------------------------

    def fail_next(
        self, method: str, *, status: int = 200, refuse: str | None = None, delay: float = 0.0, times: int = 1
    ) -> None:
        with self._lock:
            self.faults.setdefault(method, []).extend(Fault(status, refuse, delay) for _ in range(times))

    def push(self, update: dict[str, Any]) -> None:
        """A user writes while the bot polls: the next getUpdates hands this out."""
        with self._lock:
            self.updates.append(update.get("result", update))  # handed out inside {ok, result}
            self._lock.notify_all()

    # -- what the channel did ------------------------------------------------------------------------

    def calls(self, method: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method]

    def texts(self, chat_id: str) -> list[str]:
        """The texts the user received, in order: sendMessage calls the fake accepted."""
        return [
            r.body["text"]
            for r in self.calls("sendMessage")
            if r.answer.get("ok") is True and r.body.get("chat_id") == chat_id
        ]

    # -- the server ----------------------------------------------------------------------------------

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(method)
            return queue.pop(0) if queue else None

    def _answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": BOT_ID, "account_name": "bot.hocvu", "account_type": "BASIC"}}
        if method == "setWebhook":
            url, secret = body.get("url"), body.get("secret_token")
            if not isinstance(url, str) or not url.startswith("https://"):
                return 400, {"ok": False, "error_code": 400, "description": "url must be https"}
            if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
                return 400, {"ok": False, "error_code": 400, "description": "secret_token must be 8-256 characters"}
            with self._lock:
                self.webhook = {"url": url, "secret_token": secret}
            return 200, {"ok": True, "result": {"url": url, "updated_at": int(time.time() * 1000)}}
        if method == "deleteWebhook":
            with self._lock:
                self.webhook = {}
            return 200, {"ok": True, "result": {"url": "", "updated_at": int(time.time() * 1000)}}
        if method == "getUpdates":
            return self._get_update(body)
        if method == "sendMessage":
            text, chat_id = body.get("text"), body.get("chat_id")
            if not isinstance(chat_id, str) or not chat_id:
                return 200, {"ok": False, "error_code": 400, "description": "chat_id is required"}
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return 200, {"ok": False, "error_code": 400, "description": "text must be 1-2000 characters"}
            message_id = f"sent-{next(self._sent_ids)}"
            return 200, {"ok": True, "result": {"message_id": message_id, "date": int(time.time() * 1000)}}
        return 404, {"ok": False, "error_code": 404, "description": f"method {method} not found"}

    def _get_update(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        wait = float(body.get("timeout") or 30)
        deadline = time.monotonic() + wait
        with self._lock:
            if self.webhook:
                return 200, {
                    "ok": False,
                    "error_code": 400,
                    "description": "getUpdates is disabled while a webhook is set",
                }
            while not self.updates:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 408, {"ok": False, "error_code": 408, "description": "Request timeout"}
                self._lock.wait(min(left, 0.1))
            return 200, {"ok": True, "result": self.updates.pop(0)}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(PlatformHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                prefix = f"/bot{TOKEN}/"
                method = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                request = Request(method or self.path, body if isinstance(body, dict) else {})
                fault = fake._fault(method) if method else None
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if not method:
                    request.status, request.answer = (
                        401,
                        {"ok": False, "error_code": 401, "description": "Unauthorized"},
                    )
                elif fault is not None and fault.delay and client_gone(self.connection):
                    request.status, request.answer = ABANDONED, {"ok": False, "description": "client closed request"}
                elif fault is not None and fault.status != 200:
                    request.status = fault.status
                    request.answer = {"ok": False, "error_code": fault.status, "description": "injected"}
                elif fault is not None and fault.refuse is not None:
                    request.answer = {"ok": False, "error_code": 400, "description": fault.refuse}
                else:
                    request.status, request.answer = fake._answer(method, request.body)
                with fake._lock:
                    fake.requests.append(request)
                    fake._lock.notify_all()
                for listener in fake.listeners:
                    listener(request)
                if request.status == ABANDONED:
                    self.close_connection = True
                    return
                data = json.dumps(request.answer).encode()
                try:
                    self.send_response(request.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except ConnectionError:
                    pass

        return Handler


# -- updates the webhook receives (or getUpdates hands out) ----------------------------------------------


def update(
    user_id: str, *, event: str = "message.text.received", wrapped: bool = True, **fields: Any
) -> dict[str, Any]:
    """A user's message as the Bot API sends it: `fields` are the message's content (text=..., photo_url=...)."""
    message: dict[str, Any] = {
        "from": {"id": user_id, "display_name": "Bà Lan"},
        "chat": {"id": user_id, "chat_type": "PRIVATE"},
        "message_id": f"m{next(_MESSAGE_IDS)}",
        "date": int(time.time() * 1000),
        **fields,
    }
    bare = {"event_name": event, "message": message}
    return {"ok": True, "result": bare} if wrapped else bare


def text_update(user_id: str, text: str, *, wrapped: bool = True) -> dict[str, Any]:
    return update(user_id, text=text, wrapped=wrapped)
