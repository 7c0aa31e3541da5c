from pathlib import Path

import pytest

from errors import ConfigError
from hocvu.config import load_settings

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_with_defaults() -> None:
    settings = load_settings(REPO / "config.yml", environ={})
    assert settings.embedder.backend == "onnx" and settings.embedder.threads == 1
    assert settings.data_dir == (REPO / "var").resolve()
    assert settings.articles_dir == (REPO / "knowledge_base" / "articles").resolve()


def test_secrets_come_only_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "{}\n"), environ={"TELEGRAM_BOT_TOKEN": "123:abc", "UNRELATED": "x"})
    assert settings.secrets["TELEGRAM_BOT_TOKEN"] == "123:abc"
    assert "UNRELATED" not in settings.secrets
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("embedder: [1, 2]\n", "'embedder' must be a section"),
        ("embedder:\n  threads: 0\n", "'threads' must be a whole number ≥ 1"),
        ("embedder:\n  backend: sentence-transformers\n", "'embedder.model' is required"),
        ("retrieval:\n  answer_threshold: high\n", "'answer_threshold' must be a number"),
        ("retrieval:\n  answer_threshold: 0.5\n  suggest_threshold: 0.9\n", "must not exceed"),
        ("default_language: fr\n", "'default_language' is 'fr'; expected one of vi, en"),
        ("data_dir: [\n", "invalid YAML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(path) in str(error.value) and message in str(error.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.yml", environ={})


def test_without_hocvu_secret_key_one_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'data'}\n"), environ={})
    key = settings.secret_key()
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 32 and (path.stat().st_mode & 0o777) == 0o600
    assert settings.secret_key() == key  # a later start signs with the same key
    path.write_text("")
    with pytest.raises(ConfigError, match="signing key file is empty; restore it from a backup"):
        settings.secret_key()
    assert load_settings(write(tmp_path, "{}\n"), environ={"HOCVU_SECRET_KEY": "from-env"}).secret_key() == b"from-env"
