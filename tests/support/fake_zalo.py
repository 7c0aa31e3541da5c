"""A fake Zalo: the OA API v3 (`/v3.0/oa/message/cs`) and the OAuth v4 token endpoint, one real HTTP server
on 127.0.0.1 that the channel reaches through its base-URL settings; and a signed-event sender for the webhook.

It answers like Zalo as far as the research notes know it: errors in the body (`error`, `message`) with HTTP
200, -216 for a token it does not know, -220 for one it expired, single-use refresh tokens (an old one gets an
OAuth `error` with HTTP 200), 2,000-character texts. It records every request and can inject faults: an error
code, HTTP 500, a slow answer (timeouts), refused buttons, closed windows per user.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.support.fake_http import ABANDONED, PlatformHandler, QuietServer, client_gone

APP_ID = "4318845810345721023"
APP_SECRET = "fake-app-secret"
OA_ID = "579745863508352884"
OA_SECRET_KEY = "fake-oa-secret-key"
SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"


# Message ids never repeat, whichever fake a test starts: the inbox remembers keys across tests on one database.
_MSG_IDS = itertools.count(int(time.time() * 1000))


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Fault:
    status: int = 200
    error: int | None = None
    delay: float = 0.0


class FakeZalo:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.requests: list[Request] = []
        self.listeners: list[Callable[[Request], None]] = []  # called with each request once answered
        self.delaying = 0  # requests held by an injected delay right now
        self.faults: dict[str, list[Fault]] = {}
        self.access_token = "access-0"
        self.refresh_token = "refresh-0"
        self.expired: set[str] = set()
        self.refuse_buttons = False
        self.closed_users: dict[str, int] = {}  # user id -> the error code Zalo answers for them
        self.oauth_delay = 0.0
        self.oauth_error: dict[str, Any] | None = None
        self.inbound: dict[str, str] = {}  # message id -> the user who sent it
        self.codes: dict[str, str] = {}  # authorisation code -> the PKCE challenge of its consent
        self._tokens = itertools.count(1)
        self._sent_ids = itertools.count(1)
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-zalo", daemon=True)

    def __enter__(self) -> FakeZalo:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls -------------------------------------------------------------------------------

    def fail_next(
        self, path: str, *, status: int = 200, error: int | None = None, delay: float = 0.0, times: int = 1
    ) -> None:
        with self._lock:
            self.faults.setdefault(path, []).extend(Fault(status, error, delay) for _ in range(times))

    def expire(self) -> None:
        """Zalo expires the current access token (-220 from now on)."""
        with self._lock:
            self.expired.add(self.access_token)

    # -- what the channel did ------------------------------------------------------------------------

    def calls(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def sent(self, user_id: str | None = None) -> list[Request]:
        """Messages Zalo accepted, in order, to `user_id` (by user id or by the id of their message)."""
        return [
            r
            for r in self.calls(SEND_PATH)
            if r.answer.get("error") == 0 and (user_id is None or r.answer["data"]["user_id"] == user_id)
        ]

    def texts(self, user_id: str | None = None) -> list[str]:
        return [r.body["message"]["text"] for r in self.sent(user_id)]

    def refreshes(self) -> list[Request]:
        return self.calls(TOKEN_PATH)

    # -- the server ----------------------------------------------------------------------------------

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None

    def _send(self, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        token = headers.get("access_token", "")
        with self._lock:
            if token in self.expired:
                return {"error": -220, "message": "Access token has expired"}
            if token != self.access_token:
                return {"error": -216, "message": "Access token is invalid"}
        recipient, message = body.get("recipient"), body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            return {"error": -201, "message": "Parameters are invalid"}
        user = recipient.get("user_id") or self.inbound.get(str(recipient.get("message_id")))
        if not user:
            return {"error": -201, "message": "recipient is invalid"}
        text = message.get("text")
        if not isinstance(text, str) or not text or len(text) > 2000:
            return {"error": -201, "message": "text is invalid or longer than 2000 characters"}
        if "attachment" in message:
            if self.refuse_buttons:
                return {"error": -201, "message": "attachment is invalid"}
            buttons = message["attachment"]["payload"]["buttons"]
            if len(buttons) > 5 or any(len(b["title"]) > 100 or len(b["payload"]) > 1000 for b in buttons):
                return {"error": -201, "message": "buttons over the limits"}
        if user in self.closed_users:
            return {"error": self.closed_users[user], "message": "User cannot receive this message"}
        return {
            "error": 0,
            "message": "Success",
            "data": {"message_id": f"sent-{next(self._sent_ids)}", "user_id": user},
        }

    def _token(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        if self.oauth_delay:
            time.sleep(self.oauth_delay)
        with self._lock:
            if self.oauth_error is not None:
                return dict(self.oauth_error)
            if headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
                return {"error": -14002, "error_name": "Invalid app", "error_description": "app_id or secret_key"}
            if form.get("grant_type") == "authorization_code":
                challenge = self.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "").encode()
                given = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
                if challenge is None or given != challenge:
                    return {"error": -14019, "error_name": "Invalid code", "error_description": "code or verifier"}
            elif form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
                return {"error": -14014, "error_name": "Invalid refresh token", "error_description": "used or unknown"}
            number = next(self._tokens)
            self.access_token, self.refresh_token = f"access-{number}", f"refresh-{number}"
            return {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(PlatformHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path == TOKEN_PATH:
                    body: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                else:
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {}
                request = Request(self.path, headers, body)
                fault = fake._fault(self.path)
                if fault is not None and fault.delay:
                    with fake._lock:
                        fake.delaying += 1
                    time.sleep(fault.delay)
                    with fake._lock:
                        fake.delaying -= 1
                if fault is not None and fault.delay and client_gone(self.connection):
                    # The client gave up waiting (a timeout): nothing is delivered, as a proxy in front of
                    # Zalo would drop it. (Whether Zalo itself delivers such a message is unknowable.)
                    request.status, request.answer = ABANDONED, {"error": -1, "message": "client closed request"}
                elif fault is not None and fault.status != 200:
                    request.status, request.answer = fault.status, {"error": -1, "message": "server error"}
                elif fault is not None and fault.error is not None:
                    request.answer = {"error": fault.error, "message": "injected"}
                elif self.path == SEND_PATH:
                    request.answer = fake._send(headers, body)
                elif self.path == TOKEN_PATH:
                    request.answer = fake._token(headers, body)
                else:
                    request.status, request.answer = 404, {"error": 404, "message": "not found"}
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


# -- events the OA's webhook receives ----------------------------------------------------------------------


def now_ms() -> str:
    return str(int(time.time() * 1000))


def message_event(
    fake: FakeZalo | None,
    user_id: str,
    text: str = "",
    *,
    event: str = "user_send_text",
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A user's message as Zalo posts it; `fake` learns its msg_id, so replies naming it reach the user."""
    msg_id = f"in-{next(_MSG_IDS)}"
    if fake is not None:
        fake.inbound[msg_id] = user_id
    message: dict[str, Any] = {"msg_id": msg_id}
    if event == "user_send_text":
        message["text"] = text
    else:
        message["attachments"] = [{"type": event.removeprefix("user_send_"), "payload": {"url": "https://x.invalid/a"}}]
    return {
        "app_id": APP_ID,
        "user_id_by_app": f"app-{user_id}",
        "event_name": event,
        "timestamp": timestamp or now_ms(),
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": message,
    }


def follow_event(user_id: str, event: str = "follow") -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "event_name": event,
        "timestamp": now_ms(),
        "user_id_by_app": f"app-{user_id}",
        "source": "oa_profile",
        "follower": {"id": user_id},
    }


def signed(event: dict[str, Any] | bytes, secret_key: str = OA_SECRET_KEY) -> tuple[bytes, dict[str, str]]:
    """The body and headers Zalo would send: mac = sha256(app_id + body + timestamp + OA secret key)."""
    body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    data = json.loads(body)
    mac = hashlib.sha256(
        str(data["app_id"]).encode() + body + str(data["timestamp"]).encode() + secret_key.encode()
    ).hexdigest()
    return body, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)
