"""The link to Rasa carries citizens' words: its token travels in a header (a JWT), never in a URL, a proxy
or a command line; Rasa's processes get none of the app's secrets; a slow or hostile server cannot hold a
turn past the timeout or flood the client; and no failure logs what the user wrote.

Against stand-in HTTP servers on 127.0.0.1; what the real Rasa server does with the same link is in
tests/test_nlu_rasa.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest

from errors import ConfigError
from hocvu.app import make_nlu, rasa_project
from hocvu.config import SECRET_VARIABLES, Settings, load_settings
from language.normalize import normalize
from language.query import Query
from nlu.embedded import EmbeddedEngine
from nlu.engine import NLUUnavailable
from nlu.fallback import FallbackEngine
from nlu.rasa_engine import RasaEngine
from nlu.rasa_server import CODE_ROOT, RasaServer
from tests.support.fakes import FakeEmbedder
from tests.support.nlu_engines import APP_SECRETS
from tests.support.nlu_files import TRAIN

TOKEN = "link-token-5e6f7a8b9c"
USER_TEXT = "cach nhan luong huu cho me toi o Ha Giang"  # typed without diacritics, as many do
GOOD = json.dumps({"text": USER_TEXT, "intent": {"name": "thanks", "confidence": 0.93}, "entities": []}).encode()
WORDS = [word for word in USER_TEXT.split() if len(word) > 3]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    url: str
    seen: list[Seen] = field(default_factory=list)


Respond = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def stand_in() -> Iterator[Callable[[Respond], StandIn]]:
    """A real HTTP server on 127.0.0.1 recording every request and answering as the test says."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Respond) -> StandIn:
        record = StandIn("")

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                record.seen.append(Seen(self.path, dict(self.headers.items()), body))
                with contextlib.suppress(OSError):  # the client gave up: what these tests are about
                    respond(self)

            do_GET = do_POST = do_CONNECT = _any

            def log_message(self, *args: object) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        record.url = f"http://127.0.0.1:{server.server_address[1]}"
        return record

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def reply(body: bytes, status: int = 200, *, length: bool = True) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        if length:
            handler.send_header("Content-Length", str(len(body)))
        else:
            handler.close_connection = True  # the body ends when the connection does
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def q(text: str = USER_TEXT) -> Query:
    return Query(normalize(text), FakeEmbedder())


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEngine:
    engine = EmbeddedEngine(FakeEmbedder(), TRAIN, tmp_path_factory.mktemp("nlu"))
    engine.warm_up()
    return engine


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- the token ----------------------------------------------------------------------------------------------


def test_the_token_travels_as_a_signed_jwt_in_a_header_never_in_the_url(
    stand_in: Callable[[Respond], StandIn],
) -> None:
    server = stand_in(reply(GOOD))
    assert RasaEngine(server.url, token=TOKEN, timeout=1).parse(q()).intent == "thanks"
    [request] = server.seen
    assert request.path == "/model/parse" and "token" not in request.path
    assert all(TOKEN not in value for value in request.headers.values())  # the token itself never travels
    scheme, jwt = request.headers["Authorization"].split(" ")
    header, payload, signature = jwt.split(".")
    assert scheme == "Bearer" and json.loads(_unb64(header)) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(TOKEN.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(signature), expected)
    claims = json.loads(_unb64(payload))
    assert claims["user"]["role"] == "admin" and 0 < claims["exp"] - time.time() <= 61


def test_no_proxy_ever_sees_the_link(stand_in: Callable[[Respond], StandIn]) -> None:
    """In a process started with proxies configured (urllib reads them once per process), as a server is."""
    proxy = stand_in(reply(b'{"intent": {"name": "greet", "confidence": 1.0}}'))
    rasa = stand_in(reply(GOOD))
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env |= {name: proxy.url for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy")}
    env["PYTHONPATH"] = str(CODE_ROOT)
    code = (
        "import sys\n"
        "from language.normalize import normalize\n"
        "from language.query import Query\n"
        "from nlu.rasa_engine import RasaEngine\n"
        "from tests.support.fakes import FakeEmbedder\n"
        "engine = RasaEngine(sys.argv[1], token=sys.argv[2], timeout=5)\n"
        "print(engine.parse(Query(normalize('cam on'), FakeEmbedder())).intent)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, rasa.url, TOKEN], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["thanks"]
    assert len(rasa.seen) == 1 and proxy.seen == []


@pytest.mark.parametrize("token", ["", None])
def test_the_client_needs_a_token(token: str | None) -> None:
    with pytest.raises(ConfigError, match="RASA_AUTH_TOKEN"):
        RasaEngine("http://127.0.0.1:5005", token=token, timeout=1)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:5005",
        "http://rasa.internal:5005",
        "http://127.0.0.1.nip.io:5005",
        "ftp://127.0.0.1:5005",
        "127.0.0.1:5005",
        "https://user:pw@rasa.example.org",
        "http://127.0.0.1:5005/?token=abc",
    ],
)
def test_the_client_sends_the_token_only_over_loopback_or_https(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nlu\.rasa\.url'"):
        RasaEngine(url, token=TOKEN, timeout=1)
    config = tmp_path / "config.yml"
    config.write_text(f"nlu:\n  rasa:\n    url: {json.dumps(url)}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{config}: 'nlu.rasa.url' must")):
        load_settings(config, environ={})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5005",
        "http://127.8.9.10:80",
        "http://localhost:5005",
        "http://[::1]:5005/",
        "https://rasa.example.org/nlu",
    ],
)
def test_loopback_and_https_urls_are_accepted(url: str) -> None:
    assert RasaEngine(url, token=TOKEN, timeout=1).url == url.rstrip("/")


def test_the_rasa_engine_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"data_dir: {tmp_path}\nnlu:\n  engine: rasa\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="RASA_AUTH_TOKEN"):
        make_nlu(load_settings(config, environ={}), FakeEmbedder())


# -- a server that is slow, drips or floods -----------------------------------------------------------------


def drip(everything: bool) -> Respond:
    """A byte every 0.2 s, for 10 s: of the whole answer, or of the body after prompt headers."""
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(GOOD)

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if not everything:
            handler.wfile.write(response)
            handler.wfile.flush()
        for byte in (response + GOOD if everything else GOOD)[:50]:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)

    return respond


@pytest.mark.parametrize("everything", [True, False], ids=["headers-and-body", "body"])
def test_a_server_dripping_bytes_cannot_hold_a_turn_past_the_timeout(
    stand_in: Callable[[Respond], StandIn], everything: bool
) -> None:
    server = stand_in(drip(everything))
    engine = RasaEngine(server.url, token=TOKEN, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(NLUUnavailable, match="did not answer"):
        engine.parse(q())
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("length", [True, False], ids=["with-length", "without-length"])
def test_an_oversized_answer_is_refused(stand_in: Callable[[Respond], StandIn], length: bool) -> None:
    huge = json.dumps({"intent": {"name": "thanks", "confidence": 0.9}, "padding": "x" * 2_000_000}).encode()
    server = stand_in(reply(huge, length=length))
    with pytest.raises(NLUUnavailable, match="bytes"):
        RasaEngine(server.url, token=TOKEN, timeout=2).parse(q())


# -- what a failure logs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"text": USER_TEXT, "entities": []}).encode(),
        json.dumps({"text": USER_TEXT, "intent": None}).encode(),
        json.dumps([USER_TEXT]).encode(),
        json.dumps({"intent": {"name": USER_TEXT, "confidence": 0.9}}).encode(),
        json.dumps({"intent": {"name": "thanks", "confidence": USER_TEXT}}).encode(),
        json.dumps({"intent": {"name": "thanks", "confidence": 7}, "text": USER_TEXT}).encode(),
        json.dumps({USER_TEXT: 1}).encode(),
        f"<html>{USER_TEXT}</html>".encode(),
    ],
)
def test_a_body_without_a_usable_intent_never_logs_the_users_text(
    stand_in: Callable[[Respond], StandIn],
    embedded: EmbeddedEngine,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    engine = FallbackEngine(RasaEngine(stand_in(reply(body)).url, token=TOKEN, timeout=1), embedded, retry_after=0)
    with caplog.at_level(logging.DEBUG):
        assert engine.parse(q()).engine == "embedded"
    assert "answering with embedded" in caplog.text
    assert engine.last_error and not [w for w in WORDS if w in caplog.text or w in engine.last_error]


# -- Rasa's processes ---------------------------------------------------------------------------------------


def test_rasa_processes_get_none_of_the_apps_secrets(settings: Settings) -> None:
    others = {
        "GITHUB_TOKEN": "ghp-decoy",
        "AWS_SECRET_ACCESS_KEY": "aws-decoy",
        "SENTRY_DSN": "https://key:dsn-pass-decoy@sentry.example.org/1",
        "UPSTREAM": "https://user:url-pass-decoy@upstream.example.org/",  # a password in a URL, whatever its name
    }
    kept = {"LANG": "C.UTF-8", "TOKENIZERS_PARALLELISM": "false", "KEYBOARD": "vi"}
    with mock.patch.dict(os.environ, {**APP_SECRETS, **others, **kept}):
        environment = rasa_project(settings).environment
    assert set(SECRET_VARIABLES) <= set(APP_SECRETS)
    assert not set(environment) & (set(APP_SECRETS) | set(others))
    assert not [v for v in (*APP_SECRETS.values(), *others.values()) if any(v in e for e in environment.values())]
    assert {name: environment[name] for name in kept} == kept and environment["HOCVU_E5_MODEL"]  # the rest is kept


def test_the_servers_command_line_holds_no_token(settings: Settings, tmp_path: Path) -> None:
    server = RasaServer(rasa_project(settings), port=5999, token=TOKEN)
    command = " ".join(server.command(tmp_path / "model.tar.gz"))
    assert TOKEN not in command and "token" not in command and "secret" not in command


def test_the_launcher_passes_the_secret_from_its_pipe_to_rasa_not_to_its_command_line(tmp_path: Path) -> None:
    """nlu/rasa_launcher.py with a stand-in `rasa` package that reports what it was started with."""
    fake = tmp_path / "rasa"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        "import json, os, sys\n"
        "def main():\n"
        "    print(json.dumps({'argv': sys.argv, 'cmdline': open('/proc/self/cmdline', 'rb').read().decode(),\n"
        "        'environ': open('/proc/self/environ', 'rb').read().decode(errors='replace'),\n"
        "        'stdin': sys.stdin.read()}))\n"
    )
    secret = "-starts-with-a-dash-" + TOKEN
    done = subprocess.run(
        [sys.executable, "-m", "nlu.rasa_launcher", "run", "--enable-api", "-p", "5999"],
        input=f"{secret}\nmore on the pipe\n",
        env={"PYTHONPATH": os.pathsep.join((str(tmp_path), str(CODE_ROOT))), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["argv"] == ["rasa", "run", "--enable-api", "-p", "5999", f"--jwt-secret={secret}"]
    assert secret not in seen["cmdline"] and secret not in seen["environ"]
    assert seen["stdin"] == ""  # Rasa gets nothing more from the pipe


def test_the_launcher_refuses_to_start_without_a_secret() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nlu.rasa_launcher", "run"],
        input="",
        env={"PYTHONPATH": str(CODE_ROOT), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "JWT secret on standard input" in done.stderr
