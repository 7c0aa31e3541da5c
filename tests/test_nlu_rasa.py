"""The Rasa engine: against a real Rasa server, and its fallback when Rasa is down, slow or talks nonsense.

The real server needs Python 3.10 and `make rasa`; without them those tests are skipped with the reason (and
fail under CI: tests/support/services.py).
Stand-ins for a broken Rasa are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from embeddings.onnx_export import INFO_FILE
from hocvu.app import rasa_project
from hocvu.config import Settings
from hocvu.nlu_cli import free_port
from language.normalize import normalize
from language.query import Query
from nlu.embedded import EmbeddedEngine
from nlu.engine import NLUUnavailable
from nlu.evaluation import NLUReport, effective_intent, evaluate
from nlu.fallback import FallbackEngine
from nlu.rasa_engine import RasaEngine, jwt_token, parse_rasa_response
from nlu.rasa_server import RasaProject, RasaServer
from nlu.training_data import load_training_data
from tests.support.fakes import FakeEmbedder
from tests.support.nlu_engines import APP_SECRETS
from tests.support.nlu_files import ANSWERED, HELD_OUT_FILES, TRAIN, citizen_questions
from tests.support.services import missing

REPO = Path(__file__).resolve().parent.parent
TOKEN = "stand-in-token"

Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def stand_in() -> Iterator[Callable[[Handler], str]]:
    """A real HTTP server on 127.0.0.1 answering /model/parse however the test says."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Handler) -> str:
        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                respond(self)

            def log_message(self, *args: object) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _reply(status: int, body: bytes) -> Handler:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEngine:
    engine = EmbeddedEngine(FakeEmbedder(), TRAIN, tmp_path_factory.mktemp("nlu"))
    engine.warm_up()
    return engine


def q(text: str) -> Query:
    return Query(normalize(text), FakeEmbedder())


GOOD = json.dumps(
    {
        "text": "nói tiếng anh đi",
        "intent": {"name": "change_language", "confidence": 0.97},
        "entities": [{"entity": "language", "value": "en", "start": 4, "end": 13}],
    }
).encode()


def test_parses_a_rasa_reply(stand_in: Callable[[Handler], str]) -> None:
    url = stand_in(_reply(200, GOOD))
    result = RasaEngine(url, token=TOKEN, timeout=1).parse(q("nói tiếng anh đi"))
    assert (result.intent, result.confidence, result.entity("language"), result.engine) == (
        "change_language",
        0.97,
        "en",
        "rasa",
    )


def test_rasa_fallback_intent_means_answer_from_the_knowledge_base() -> None:
    body = json.dumps({"intent": {"name": "nlu_fallback", "confidence": 0.4}, "entities": []}).encode()
    assert parse_rasa_response(body).intent == "ask_question"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"",
        b"null",
        b'{"intent": null}',
        b'{"intent": {"name": "greet", "confidence": "high"}}',
        b'{"intent": {"name": "greet", "confidence": 7}}',
        b'{"intent": {"name": "book_flight", "confidence": 0.9}}',
    ],
)
def test_garbage_is_unavailable_not_a_guess(body: bytes) -> None:
    with pytest.raises(NLUUnavailable):
        parse_rasa_response(body)


@pytest.mark.parametrize(
    "respond",
    [
        _reply(500, b'{"error": "boom"}'),
        _reply(200, b"not json at all"),
        _reply(200, b'{"intent": {"name": "unknown_thing", "confidence": 0.99}}'),
        _reply(401, b'{"message": "User is not authenticated."}'),
    ],
)
def test_fallback_answers_when_rasa_fails(
    stand_in: Callable[[Handler], str],
    embedded: EmbeddedEngine,
    respond: Handler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = FallbackEngine(RasaEngine(stand_in(respond), token=TOKEN, timeout=1), embedded, retry_after=0)
    with caplog.at_level(logging.WARNING, logger="nlu.fallback"):
        result = engine.parse(q("tiep di"))
    assert result.engine == "embedded" and result.intent == "next_step"
    assert engine.fallbacks == 1 and engine.last_error
    assert "answering with embedded" in caplog.text


def test_fallback_when_rasa_is_down(embedded: EmbeddedEngine) -> None:
    down = RasaEngine(f"http://127.0.0.1:{free_port()}", token=TOKEN, timeout=0.5)
    engine = FallbackEngine(down, embedded, retry_after=0)
    assert engine.parse(q("cảm ơn bạn nhiều")).intent == "thanks"
    assert engine.fallbacks == 1


def test_slow_rasa_costs_one_timeout_then_is_left_alone(
    stand_in: Callable[[Handler], str], embedded: EmbeddedEngine
) -> None:
    calls: list[float] = []

    def slow(handler: BaseHTTPRequestHandler) -> None:
        calls.append(time.monotonic())
        time.sleep(1.0)
        _reply(200, GOOD)(handler)

    engine = FallbackEngine(RasaEngine(stand_in(slow), token=TOKEN, timeout=0.2), embedded, retry_after=60)
    started = time.monotonic()
    first = engine.parse(q("tiep di"))
    second = engine.parse(q("nhac lai"))
    assert first.engine == second.engine == "embedded"
    assert len(calls) == 1  # the second message did not wait for Rasa again
    assert time.monotonic() - started < 1.0
    assert engine.fallbacks == 2


def test_rasa_recovers_after_the_pause(stand_in: Callable[[Handler], str], embedded: EmbeddedEngine) -> None:
    now = [0.0]
    healthy = [False]

    def flaky(handler: BaseHTTPRequestHandler) -> None:
        _reply(200, GOOD)(handler) if healthy[0] else _reply(503, b"{}")(handler)

    engine = FallbackEngine(
        RasaEngine(stand_in(flaky), token=TOKEN, timeout=1), embedded, retry_after=10, clock=lambda: now[0]
    )
    assert engine.parse(q("noi tieng anh di")).engine == "embedded"
    healthy[0] = True
    now[0] = 5.0
    assert engine.parse(q("noi tieng anh di")).engine == "embedded"  # still pausing
    now[0] = 11.0
    assert engine.parse(q("noi tieng anh di")).engine == "rasa"


def test_a_model_is_retrained_when_its_e5_features_would_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale model is never served: its name changes with the components' code, the app code they train
    with, and the e5 model they read."""
    components = tmp_path / "components"
    components.mkdir()
    (components / "featurizer.py").write_text("VERSION = 1\n")
    monkeypatch.setattr("nlu.rasa_server.COMPONENTS", components)
    shared = tmp_path / "lexical.py"  # app code a component trains with
    shared.write_text("BUCKETS = 4096\n")
    monkeypatch.setattr("nlu.rasa_server.APP_CODE", (shared,))
    e5 = tmp_path / "e5-small-int8"
    e5.mkdir()
    (e5 / INFO_FILE).write_text('{"format": "e5-small-int8-meanpool-v3"}')

    def project(e5_model: Path) -> RasaProject:
        data = TRAIN
        return RasaProject(
            tmp_path / "venv",
            data,
            REPO / "nlu" / "config.yml",
            tmp_path,
            REPO / "requirements" / "rasa.lock",
            e5_model=e5_model,
        )

    first = project(e5).model_path
    assert project(e5).model_path == first  # nothing changed: no retraining
    (e5 / INFO_FILE).write_text('{"format": "e5-small-int8-meanpool-v4"}')
    rebuilt = project(e5).model_path
    (components / "featurizer.py").write_text("VERSION = 2\n")
    edited = project(e5).model_path
    shared.write_text("BUCKETS = 8192\n")
    shared_edited = project(e5).model_path
    moved = project(tmp_path / "elsewhere").model_path
    assert len({first, rebuilt, edited, shared_edited, moved}) == 5


def test_custom_components_inside_rasa(settings: Settings) -> None:
    """The folding tokenizer and the out-of-scope gate, on Rasa's own classes in Rasa's interpreter."""
    project = rasa_project(settings)
    if not project.rasa.exists():
        missing("Rasa", f"not installed at {project.venv}", "Run `make rasa` (it needs Python 3.10; RASA_PYTHON=...).")
    done = subprocess.run(
        [
            str(project.venv / "bin" / "python"),
            str(REPO / "tests" / "support" / "rasa_components_probe.py"),
            "Bạn tên là gì?",
            "ko dc a oi",
            "how do I log in",
        ],
        env=project.environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    tokens = report["tokens"]
    # Typed with or without diacritics, the count features see the same words; text and offsets stay as typed.
    assert [t["lemma"] for t in tokens["Bạn tên là gì?"]] == ["ban", "ten", "la", "gi"]
    assert [(t["text"], t["start"]) for t in tokens["Bạn tên là gì?"]] == [
        ("Bạn", 0),
        ("tên", 4),
        ("là", 8),
        ("gì", 11),
    ]
    assert [t["lemma"] for t in tokens["ko dc a oi"]] == ["khong", "duoc", "a", "oi"]  # as the app sends it
    assert [t["lemma"] for t in tokens["how do I log in"]] == ["how", "do", "i", "log", "in"]
    gate = report["gate"]["parsed"]
    # Trained on 8 off-topic and 10 on-topic sentences (tests/support/rasa_components_probe.py), with real e5 vectors.
    for off_topic in ("dự báo thời tiết ngày mai ở hà nội", "công thức làm bánh flan"):
        (first, gated), (second, rest) = gate[off_topic]["ranking"]
        assert (first, second) == ("out_of_scope", "feedback_negative")
        assert gate[off_topic]["intent"] == {"name": "out_of_scope", "confidence": gated} and gated >= 0.8
        assert rest == pytest.approx(0.99 * (1 - gated))  # beyond the FallbackClassifier's ambiguity margin
    for on_topic in ("cach dang ky tai khoan vneid", "tiep di"):  # typed without diacritics: DIET's answer kept
        assert gate[on_topic]["intent"] == {"name": "feedback_negative", "confidence": 0.99}
    assert report["gate"]["untrained"] == {"name": "feedback_negative", "confidence": 0.99}
    refused = report["gate"]["refused"]
    assert [r.split(":")[0].split()[0] for r in refused] == ["OutOfScopeGate"] * 4
    assert "0.3" in refused[0] and "'high'" in refused[1] and "needs 'model'" in refused[2] and "'other'" in refused[3]


# -- the real Rasa server (the session fixture `rasa_server`: tests/support/nlu_engines.py) ---------------


@pytest.fixture(scope="session")
def rasa_reports(rasa_server: RasaServer) -> dict[str, NLUReport]:
    engine = RasaEngine(rasa_server.url, token=rasa_server.token, timeout=5)
    return {
        path.name: evaluate(engine, load_training_data(path).examples, FakeEmbedder(), 0.7) for path in HELD_OUT_FILES
    }


# What a correct training of the shipped pipeline must reach. DIET's result depends on its seed and on the
# machine (its kernels and e5 features), and correct trainings spread widely: over 8 of them (five seeds,
# kernel settings; `python -m bench.rasa_spread`, docs/benchmarks.md, NLU) accuracy was 0.957-0.989 on
# test_nlu and 0.947-0.982 on the independent file, out-of-scope recall 15-18/18 and 27-28/29, 3-21 false
# commands and 8-19 gated questions of 400. Each floor is about the mean minus three standard deviations:
# a correct training on a new machine passes, while a broken or much worse engine fails (the previous
# pipeline, 0.923 and 23/29 on the independent file, fails two of them). The targets of nlu/evaluation.py
# (0.95, 0.90) are the pipeline's goal, measured by the benchmark and `hocvu nlu eval --check`.
FLOORS = {  # held-out file: (accuracy, out-of-scope recall)
    "test_nlu.yml": (0.935, 0.77),
    "independent_nlu.yml": (0.925, 0.86),
}
MAX_FALSE_COMMANDS = 0.08  # of the citizen questions
MAX_GATED = 0.06


@pytest.mark.slow
@pytest.mark.parametrize("held_out", [p.name for p in HELD_OUT_FILES])
def test_real_rasa_accuracy_on_held_out_files(rasa_reports: dict[str, NLUReport], held_out: str) -> None:
    report = rasa_reports[held_out]
    assert report.accuracy >= FLOORS[held_out][0], report.misses


@pytest.mark.slow
@pytest.mark.parametrize("held_out", [p.name for p in HELD_OUT_FILES])
def test_real_rasa_out_of_scope_recall_on_held_out_files(rasa_reports: dict[str, NLUReport], held_out: str) -> None:
    report = rasa_reports[held_out]
    assert report.out_of_scope_recall >= FLOORS[held_out][1], report.misses


@pytest.mark.slow
def test_real_rasa_takes_citizen_questions_for_questions(rasa_server: RasaServer) -> None:
    """A false command replaces an answer by an action; a question taken for out_of_scope still gets its
    answer when retrieval is confident (bot/assistant.py), so the gate may take a few. The embedded engine
    makes 1 false command (held to 1 %); Rasa's correct trainings 3 to 21 (see FLOORS)."""
    engine = RasaEngine(rasa_server.url, token=rasa_server.token, timeout=5)
    questions = citizen_questions()
    taken = {text: engine.parse(q(text)) for text in questions}
    intents = {text: effective_intent(r.intent, r.confidence, 0.7) for text, r in taken.items()}
    commands = [text for text, intent in intents.items() if intent not in ANSWERED]
    assert len(commands) <= MAX_FALSE_COMMANDS * len(questions), commands
    gated = [text for text, intent in intents.items() if intent == "out_of_scope"]
    assert len(gated) <= MAX_GATED * len(questions), gated


@pytest.mark.slow
def test_real_rasa_intents_and_entities(rasa_server: RasaServer) -> None:
    engine = RasaEngine(rasa_server.url, token=rasa_server.token, timeout=5)
    assert engine.parse(q("tiếp đi")).intent == "next_step"
    switch = engine.parse(q("chuyển sang tiếng anh nhé"))
    assert (switch.intent, switch.entity("language")) == ("change_language", "en")
    assert engine.parse(q("cách đăng ký vneid")).intent in ("ask_question",)
    # Typed without diacritics, the same commands (the folding tokenizer; the gate trained on folded copies).
    assert engine.parse(q("tiep di")).intent == "next_step"
    assert engine.parse(q("chuyen sang tieng anh di")).intent == "change_language"
    # Off-topic, in words the training data never uses: the out-of-scope gate, whatever DIET guessed.
    for text in ("cách nuôi cá koi trong bể kính", "cong thuc lam banh flan"):
        result = engine.parse(q(text))
        assert (result.intent, result.confidence >= 0.8) == ("out_of_scope", True), text


@pytest.mark.slow
def test_real_rasa_rejects_a_wrong_token(rasa_server: RasaServer, embedded: EmbeddedEngine) -> None:
    wrong = RasaEngine(rasa_server.url, token="not-the-token", timeout=5)
    with pytest.raises(NLUUnavailable, match="HTTP 401"):
        wrong.parse(q("tiếp đi"))
    engine = FallbackEngine(wrong, embedded, retry_after=10)
    assert engine.parse(q("tiếp đi")).engine == "embedded"


# -- the link (what the client does: tests/test_rasa_link.py) ----------------------------------------------


def _group(leader: int) -> list[int]:
    """The server's processes: its process group (it leads a session of its own)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that just ended
        if int(fields[2]) == leader:  # the field after state: process group id
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.slow
def test_real_rasa_gets_no_secret_of_the_app_and_its_token_is_on_no_command_line(rasa_server: RasaServer) -> None:
    assert rasa_server.process is not None
    processes = _group(rasa_server.process.pid)
    assert rasa_server.process.pid in processes
    for pid in processes:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        environ = dict(
            entry.split("=", 1)
            for entry in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
            if "=" in entry
        )
        assert rasa_server.token not in cmdline and "token" not in cmdline and "secret" not in cmdline, pid
        assert not set(environ) & set(APP_SECRETS), pid
        leaked = [v for v in (*APP_SECRETS.values(), rasa_server.token) if any(v in e for e in environ.values())]
        assert leaked == [], pid
    assert os.environ.get("RASA_AUTH_TOKEN") != APP_SECRETS["RASA_AUTH_TOKEN"]  # the tests' own left as it was


@pytest.mark.slow
def test_real_rasa_takes_the_token_only_as_a_signed_jwt_in_a_header(rasa_server: RasaServer) -> None:
    def status(path: str, headers: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", rasa_server.port, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    token = rasa_server.token
    assert status("/status", {"Authorization": f"Bearer {jwt_token(token)}"}) == 200
    assert status(f"/status?token={token}", {}) == 401  # in the URL: refused
    assert status("/status", {"Authorization": f"Bearer {jwt_token('not-the-token')}"}) == 401
    assert status("/status", {"Authorization": f"Bearer {jwt_token(token, now=time.time() - 3600)}"}) == 401
    assert status("/status", {}) == 401
