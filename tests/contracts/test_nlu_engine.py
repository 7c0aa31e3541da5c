"""The NLUEngine contract, run against every engine: rules, embedded (trained in-process on the real model),
Rasa over HTTP (the real server; skipped without `make rasa`, failing under CI) and the fallback engine
answering while its Rasa is down.

Every answer names a known intent, a confidence in [0, 1] and known entities; off-topic text and citizen
questions are never taken for commands; a clear command is. How accurate each trained engine is lives
beside it (tests/test_nlu_embedded.py, tests/test_nlu_rasa.py). The texts are ones the Rasa tests already
parse, or training examples, so that the contract holds each engine to what it promises, not to its accuracy.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from embeddings.embedder import Embedder
from hocvu.config import Settings
from language.normalize import normalize
from language.query import Query
from nlu.embedded import EmbeddedEngine
from nlu.engine import INTENTS, IntentResult, NLUEngine
from nlu.evaluation import effective_intent
from nlu.fallback import FallbackEngine
from nlu.rasa_engine import RasaEngine
from nlu.rasa_server import RasaServer
from nlu.rules import RuleEngine
from nlu.training_data import ENTITY_NAMES, load_training_data
from tests.support.fakes import FakeEmbedder
from tests.support.nlu_files import ANSWERED, HELD_OUT_FILES

OFF_TOPIC = ("cách nuôi cá koi trong bể kính", "cong thuc lam banh flan", "giá vàng hôm nay bao nhiêu")
# Real questions, two of them with command words in them ("tiếp tục", "nhắc lại").
QUESTIONS = (
    "cách đăng ký vneid",
    "làm sao để tiếp tục nộp hồ sơ đang làm dở trên dịch vụ công",
    "nhắc lại mật khẩu vneid bằng cách nào",
)
COMMAND = ("tiếp đi", "tiep di")  # typed with and without diacritics


def _held_out_sample() -> list[str]:
    """Two held-out messages of every intent, in file order."""
    examples = load_training_data(HELD_OUT_FILES[0]).by_intent()
    return [example.text for intent in sorted(examples) for example in examples[intent][:2]]


SAMPLE = (*_held_out_sample(), *OFF_TOPIC, *QUESTIONS, *COMMAND)


@dataclass
class Engine:
    nlu: NLUEngine
    embedder: Embedder  # what the query's vector comes from; only the embedded engine reads it

    def parse(self, text: str) -> IntentResult:
        return self.nlu.parse(Query(normalize(text), self.embedder))


@pytest.fixture(
    scope="module",
    params=[
        "rules",
        pytest.param("embedded", marks=pytest.mark.slow),
        pytest.param("rasa", marks=pytest.mark.slow),
        pytest.param("fallback", marks=pytest.mark.slow),
    ],
)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "rules":
        yield Engine(RuleEngine(), FakeEmbedder())
        return
    if request.param == "rasa":
        server: RasaServer = request.getfixturevalue("rasa_server")
        yield Engine(RasaEngine(server.url, token=server.token, timeout=5), FakeEmbedder())
        return
    embedded: EmbeddedEngine = request.getfixturevalue("real_embedded_engine")
    embedder: Embedder = request.getfixturevalue("nlu_embedder")
    if request.param == "embedded":
        yield Engine(embedded, embedder)
        return
    # A Rasa that is down: a port bound and never listened on refuses every connection, at once and for
    # as long as the socket is held. retry_after=0 makes every message try it first.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = RasaEngine(f"http://127.0.0.1:{closed.getsockname()[1]}", token="t", timeout=0.5)
        yield Engine(FallbackEngine(down, embedded, retry_after=0), embedder)


@pytest.fixture
def threshold(settings: Settings) -> float:
    return settings.nlu.intent_threshold


def test_every_answer_names_a_known_intent_a_confidence_and_known_entities(engine: Engine) -> None:
    parts = engine.nlu.name.split("+")  # a fallback engine is named after both of its engines
    for text in SAMPLE:
        result = engine.parse(text)
        assert result.intent in INTENTS, (text, result)
        assert isinstance(result.confidence, float) and 0.0 <= result.confidence <= 1.0, (text, result)
        for entity in result.entities:
            assert entity.name in ENTITY_NAMES and isinstance(entity.value, str) and entity.value, (text, result)
        assert result.engine in parts, (text, result)  # the engine that actually answered


def test_off_topic_text_is_never_taken_for_a_command(engine: Engine, threshold: float) -> None:
    for text in OFF_TOPIC:
        result = engine.parse(text)
        assert effective_intent(result.intent, result.confidence, threshold) in ANSWERED, (text, result)


def test_citizen_questions_are_answered_even_with_command_words_in_them(engine: Engine, threshold: float) -> None:
    for text in QUESTIONS:
        result = engine.parse(text)
        assert effective_intent(result.intent, result.confidence, threshold) == "ask_question", (text, result)


def test_a_clear_command_is_recognised_confidently_with_or_without_diacritics(engine: Engine, threshold: float) -> None:
    for text in COMMAND:
        result = engine.parse(text)
        assert (result.intent, result.confidence >= threshold) == ("next_step", True), (text, result)


def test_the_same_text_gets_the_same_answer_every_time(engine: Engine) -> None:
    for text in (*COMMAND, *QUESTIONS[:1], *OFF_TOPIC[:1]):
        first, second = engine.parse(text), engine.parse(text)
        assert (first.intent, first.entities, first.engine) == (second.intent, second.entities, second.engine)
        assert first.confidence == pytest.approx(second.confidence, abs=1e-6)


def test_warming_up_again_changes_no_answer(engine: Engine) -> None:
    before = [engine.parse(text) for text in (*COMMAND, *QUESTIONS)]
    engine.nlu.warm_up()  # every app start calls it; the embedded engine has trained already
    after = [engine.parse(text) for text in (*COMMAND, *QUESTIONS)]
    assert [(r.intent, r.entities) for r in after] == [(r.intent, r.entities) for r in before]
