"""Rasa Open Source as an NLU engine, over HTTP (`POST /model/parse`), with the standard library only.

Rasa cannot share the app's environment (it pins SQLAlchemy < 1.5, numpy < 1.24, Python < 3.11), so it
runs as its own process (`hocvu nlu serve`, see nlu/rasa_server.py). Any failure here (refused
connection, timeout, HTTP error, a body that is not a parse result) raises `NLUUnavailable`; the
`FallbackEngine` in nlu/fallback.py turns that into an answer from the embedded engine.

The link carries citizens' (redacted) words and must not be readable or usable by anyone else:
- Authentication is Rasa's JWT method (`rasa run --jwt-secret`, nlu/rasa_server.py): each request carries
  `Authorization: Bearer <JWT>`, signed with RASA_AUTH_TOKEN (HS256) and valid for a minute. The token
  itself never travels, and nothing secret is in a URL. (Rasa's `--auth-token` is checked only in the
  `?token=` query parameter, which proxies and access logs record.)
- The connection is made directly, never through a proxy (`http_proxy` and the like are not consulted),
  and plain http only to a loopback address; anything else must be https.
- `timeout` is the whole call's deadline (connect, send, every read), not a per-read timeout that a
  server dripping bytes could stretch indefinitely; answers are capped in size.
- Errors describe what was wrong with a body, never quote it: Rasa's answer echoes the user's text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import socket
import ssl
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from errors import ConfigError
from language.query import Query
from nlu.engine import INTENTS, Entity, IntentResult, NLUUnavailable

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Rasa's FallbackClassifier predicts this when no intent is confident: the message goes to retrieval.
RASA_FALLBACK_INTENT = "nlu_fallback"
# A parse result for one message is a few kB (intent ranking, entities); anything far bigger is not one.
MAX_RESPONSE_BYTES = 256 * 1024
JWT_LIFETIME = 60  # seconds; Rasa (sanic-jwt) allows three minutes of clock skew on top
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def _shape(value: Any) -> str:
    """What kind of thing `value` is, without quoting it."""
    if isinstance(value, dict):
        keys = sorted(str(k) for k in value)
        shown = [k for k in keys if _NAME.fullmatch(k)][:8]
        return f"an object with keys {', '.join(shown) or '(none)'}" + (" and others" if len(shown) < len(keys) else "")
    return f"a {type(value).__name__}"


def parse_rasa_response(body: bytes) -> IntentResult:
    """Validate a `/model/parse` body; anything unexpected is NLUUnavailable, never a guess.

    Messages name what was wrong, never the body's content: it echoes the user's text."""
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NLUUnavailable(f"Rasa returned a body that is not JSON ({len(body)} bytes)") from exc
    intent = data.get("intent") if isinstance(data, dict) else None
    if not isinstance(intent, dict):
        raise NLUUnavailable(f"Rasa returned no intent: the body is {_shape(data)}")
    name, confidence = intent.get("name"), intent.get("confidence")
    if not isinstance(name, str) or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise NLUUnavailable(
            f"Rasa returned a malformed intent: name is {_shape(name)}, confidence is {_shape(confidence)}"
        )
    if not 0.0 <= float(confidence) <= 1.0:
        raise NLUUnavailable(f"Rasa returned confidence {float(confidence)!r} outside 0..1")
    if name == RASA_FALLBACK_INTENT:
        name = "ask_question"
    elif name not in INTENTS:
        shown = repr(name) if _NAME.fullmatch(name) else "a name that is no intent's"
        raise NLUUnavailable(f"Rasa returned unknown intent {shown}: is the model trained on another data set?")
    entities: list[Entity] = []
    raw_entities = data.get("entities") or []
    if isinstance(raw_entities, list):
        for item in raw_entities:
            if isinstance(item, dict) and isinstance(item.get("entity"), str) and item.get("value") is not None:
                entities.append(Entity(item["entity"], str(item["value"]).casefold()))
    return IntentResult(name, float(confidence), tuple(dict.fromkeys(entities)), "rasa")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_token(secret: str, *, now: float | None = None, lifetime: int = JWT_LIFETIME) -> str:
    """A JWT Rasa's `--jwt-secret` accepts for every endpoint: HS256, role admin, expiring soon."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {
        "user": {"username": "hocvu", "role": "admin"},
        "exp": int(now if now is not None else time.time()) + lifetime,
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """ "" when `url` is one the client may send the token to, else what is wrong with it."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must start with http:// (to 127.0.0.1, ::1 or localhost only) or https://"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "must be https:// unless it is a loopback address (http://127.0.0.1, ::1 or localhost)"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "must not hold a user name, password, query or fragment"
    return ""


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the whole request took longer than its deadline")
    return left


class _DeadlineSocket(socket.socket):
    """A socket whose every read waits at most until one deadline, however the bytes trickle in."""

    deadline = 0.0

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    deadline = 0.0

    def recv_into(self, buffer: WriteableBuffer, nbytes: int | None = None, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)


class _Connection(http.client.HTTPConnection):
    """http.client over a deadline socket, connected directly (http.client never consults proxies)."""

    def __init__(self, host: str, port: int | None, deadline: float, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port or (443 if tls else 80), timeout=_remaining(deadline))
        self._deadline = deadline
        self._tls = tls

    def connect(self) -> None:
        plain = socket.create_connection((self.host, self.port), _remaining(self._deadline))
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is None:
            sock = _DeadlineSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
            sock.deadline = self._deadline
            sock.settimeout(_remaining(self._deadline))  # sending the request
            self.sock = sock
            return
        plain.settimeout(_remaining(self._deadline))  # the handshake's deadline
        wrapped = self._tls.wrap_socket(plain, server_hostname=self.host)
        assert isinstance(wrapped, _DeadlineSSLSocket)
        wrapped.deadline = self._deadline
        self.sock = wrapped


class RasaEngine:
    """A client of a running Rasa server; raises NLUUnavailable instead of waiting or guessing."""

    name = "rasa"

    def __init__(self, url: str, *, timeout: float, token: str | None, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        if not token:
            raise ConfigError(
                "the Rasa engine needs RASA_AUTH_TOKEN: set it to the token `hocvu nlu serve` was started with"
            )
        problem = check_url(url)
        if problem:
            raise ConfigError(f"'nlu.rasa.url' {problem}, got {url!r}")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_bytes = max_bytes
        parts = urllib.parse.urlsplit(self.url)
        self._host, self._port, self._prefix = parts.hostname or "", parts.port, parts.path
        self._tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._tls = ssl.create_default_context()
            self._tls.sslsocket_class = _DeadlineSSLSocket

    def warm_up(self) -> None:
        """Nothing to load in-process; whether the server is up is checked per message."""
        return None

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """The body of a 200 answer, within `timeout` all told; NLUUnavailable for anything else."""
        deadline = time.monotonic() + self.timeout
        headers = {"Authorization": f"Bearer {jwt_token(self.token)}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = None
        try:
            connection = _Connection(self._host, self._port, deadline, self._tls)
            connection.request(method, self._prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            length = response.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                raise NLUUnavailable(f"Rasa's answer is {int(length)} bytes, more than {self.max_bytes}")
            data = response.read(self.max_bytes + 1)
        except NLUUnavailable:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, reset, deadline, garbage
            raise NLUUnavailable(f"Rasa at {self.url} did not answer: {type(exc).__name__}: {exc}") from None
        finally:
            if connection is not None:
                connection.close()
        if len(data) > self.max_bytes:
            raise NLUUnavailable(f"Rasa's answer is more than {self.max_bytes} bytes")
        if response.status != 200:
            raise NLUUnavailable(f"Rasa answered HTTP {response.status}")
        return data

    def status(self) -> dict[str, Any]:
        """GET /status: the loaded model, or NLUUnavailable."""
        body = self._call("GET", "/status")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise NLUUnavailable(f"Rasa at {self.url} returned a status that is not JSON") from exc
        if not isinstance(data, dict):
            raise NLUUnavailable(f"Rasa at {self.url} returned an unexpected status: {_shape(data)}")
        return data

    def parse(self, query: Query) -> IntentResult:
        # The cleaned text: abbreviations expanded, diacritics kept as typed, like the training examples.
        payload = json.dumps({"text": query.text.clean}).encode()
        return parse_rasa_response(self._call("POST", "/model/parse", payload))
