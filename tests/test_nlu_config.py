"""config.yml selects the NLU engine; bad NLU settings name their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import ConfigError
from hocvu.app import make_nlu
from hocvu.config import load_settings
from hocvu.nlu_cli import run as nlu_run
from nlu.embedded import EmbeddedEngine
from nlu.fallback import FallbackEngine
from nlu.rasa_engine import RasaEngine
from nlu.rules import RuleEngine
from tests.support.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent


def config(tmp_path: Path, nlu: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(f"data_dir: {tmp_path / 'var'}\ncontent_dir: {REPO / 'knowledge_base'}\nnlu:\n{nlu}", "utf-8")
    return path


def test_engine_selection(tmp_path: Path) -> None:
    rules = load_settings(config(tmp_path, "  engine: rules\n"), environ={})
    assert isinstance(make_nlu(rules, FakeEmbedder()), RuleEngine)

    default = load_settings(config(tmp_path, "  intent_threshold: 0.7\n"), environ={})
    assert default.nlu.engine == "embedded"
    assert default.nlu.training_data == REPO / "nlu" / "data" / "nlu.yml"
    assert isinstance(make_nlu(default, FakeEmbedder()), EmbeddedEngine)

    rasa = load_settings(
        config(tmp_path, "  engine: rasa\n  rasa:\n    url: http://127.0.0.1:5999\n    timeout: 0.2\n"),
        environ={"RASA_AUTH_TOKEN": "s3cret"},
    )
    engine = make_nlu(rasa, FakeEmbedder())
    assert isinstance(engine, FallbackEngine)
    assert isinstance(engine.primary, RasaEngine) and isinstance(engine.fallback, EmbeddedEngine)
    assert (engine.primary.url, engine.primary.timeout, engine.primary.token) == (
        "http://127.0.0.1:5999",
        0.2,
        "s3cret",
    )


@pytest.mark.parametrize(
    ("nlu", "message"),
    [
        ("  engine: dialogflow\n", "'engine' is 'dialogflow'; expected one of rules, embedded, rasa"),
        ("  rasa:\n    timeout: 0\n", "'nlu.rasa.timeout' must be seconds between 0 and 30"),
        ("  rasa:\n    url: 127.0.0.1:5005\n", "'nlu.rasa.url' must start with http://"),
    ],
)
def test_bad_nlu_settings_name_the_key(tmp_path: Path, nlu: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config(tmp_path, nlu), environ={})


def test_serve_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    import argparse
    import io

    settings = load_settings(config(tmp_path, "  engine: rasa\n"), environ={})
    with pytest.raises(ConfigError, match="RASA_AUTH_TOKEN is not set"):
        nlu_run(settings, argparse.Namespace(nlu_command="serve", port=None), io.StringIO())
