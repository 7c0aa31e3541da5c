"""Logging that cannot leak: what a citizen typed and the deployment's secrets never reach a log line.

At DEBUG, python-telegram-bot logs every update it receives in full and the parameters of every call it
makes, and HTTP libraries log URLs, whose path holds the bot token (`/bot<token>/sendMessage`). Two walls
stand between them and the log:

- Library loggers (anything not hocvu's own packages) log only warnings and errors, unless the
  configuration names them (`logging.libraries`); `hocvu -v` opens only hocvu's own loggers.
- `RedactingFilter`, on every handler, rewrites each record before it is written: every configured secret
  value is masked (also percent-encoded, and anything shaped like a bot token), and the sensitive-data
  guard (`bot.guard.scan`) redacts ID numbers, OTPs, passwords, card and account numbers from the message,
  its arguments, the traceback and the stack. So even a library opened at DEBUG, or a traceback quoting
  a request, writes only redacted text. The guard errs on the side of redacting: long numbers (chat and
  update ids among them) show as redaction marks in the log.
"""

from __future__ import annotations

import logging
import re
import sys
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from bot.guard import scan

# hocvu's own code: its top-level packages. Everything else is a library.
OWN_LOGGERS = ("hocvu", "bot", "channels", "nlu", "knowledge_base", "storage", "embeddings", "language", "errors")
# Libraries known to log requests, updates or SQL below WARNING. The root logger caps every other library
# too; these are set explicitly because some set a level of their own when imported.
LIBRARY_LOGGERS = (
    "telegram",
    "httpx",
    "httpcore",
    "aiohttp",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "urllib3",
    "asyncio",
    "hpack",
    "faiss",
    "bm25s",
)
# Secrets that are whole values, and URLs whose password is one.
SECRET_VALUES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "HOCVU_SECRET_KEY", "RASA_AUTH_TOKEN")
SECRET_URLS = ("DATABASE_URL", "REDIS_URL")
# Shorter values would mask ordinary words everywhere; a secret this short is no secret anyway.
MIN_SECRET_LENGTH = 4
# What Telegram bot tokens look like, configured or not: a bot id, a colon, 35 URL-safe characters.
_BOT_TOKEN = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _url_password(url: str) -> list[str]:
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        return []
    return [password, urllib.parse.unquote(password)] if password else []


def secret_values(secrets: Mapping[str, str], extra_urls: Iterable[str] = ()) -> dict[str, str]:
    """Every value to mask, each mapped to the name of the secret it is (what the mask says)."""
    found: dict[str, str] = {}
    for name in SECRET_VALUES:
        value = secrets.get(name, "")
        if value:
            found[value] = name
            if name == "TELEGRAM_BOT_TOKEN" and ":" in value:
                found[value.split(":", 1)[1]] = name  # the secret half, wherever it appears on its own
    for name in SECRET_URLS:
        for password in _url_password(secrets.get(name, "")):
            # No label word such as "password" in the mark: the guard, run after it, would take what follows for one.
            found[password] = f"{name} credential"
    for url in extra_urls:
        for password in _url_password(url):
            found[password] = "database credential"
    return {value: name for value, name in found.items() if len(value) >= MIN_SECRET_LENGTH}


def _spellings(value: str) -> set[str]:
    """The value as written, and as it appears percent-encoded in a URL or form (either hex case)."""
    encoded = {urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value), urllib.parse.quote(value)}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), e) for e in encoded}
    return {value} | encoded | lower


class RedactingFilter(logging.Filter):
    """Masks secrets and runs the sensitive-data guard over each record; never drops a record."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        """`secrets`: value -> the name shown in its place (`secret_values`)."""
        super().__init__()
        self._names: dict[str, str] = {}
        for value, name in secrets.items():
            for spelling in _spellings(value):
                self._names.setdefault(spelling, name)
        # Longest first, so a whole token is masked before the half of it that is also listed.
        alternatives = sorted(self._names, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        self._formatter = logging.Formatter()

    def clean(self, text: str) -> str:
        # Libraries log JSON with \u escapes; the guard must see the words as typed.
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: f"<hidden {self._names[m.group()]}>", text)
        text = _BOT_TOKEN.sub("<hidden bot token>", text)
        return scan(text).text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "hocvu_redacted", False):  # a record passes every handler; clean it once
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: still log what there is, cleaned
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.clean(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)  # formatters reuse exc_text instead of exc_info
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        record.hocvu_redacted = True
        return True


@dataclass
class LogSetup:
    """What `configure` changed, so that `undo` restores it (a command run inside another process: tests)."""

    handler: logging.Handler
    redacting: RedactingFilter
    levels: dict[str, int] = field(default_factory=dict)
    filtered: list[logging.Handler] = field(default_factory=list)

    def undo(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        for handler in self.filtered:
            handler.removeFilter(self.redacting)
        for name, level in self.levels.items():
            (logging.getLogger(name) if name else root).setLevel(level)


def _every_handler() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    return [handler for lg in loggers for handler in lg.handlers]


def configure(
    level: str,
    secrets: Mapping[str, str],
    *,
    libraries: Iterable[str] = (),
    quiet: Iterable[str] = (),
    verbose: bool = False,
    stream: TextIO | None = None,
    extra_urls: Iterable[str] = (),
) -> LogSetup:
    """Log hocvu's records at `level` (DEBUG when `verbose`), libraries' at WARNING unless named in
    `libraries` (then at hocvu's level), and `quiet` ones of hocvu's at WARNING, to `stream` (stderr);
    every handler passes records through a RedactingFilter that masks `secrets` (the settings' environment
    secrets) and the passwords in `extra_urls`."""
    own = logging.DEBUG if verbose else logging.getLevelName(level)
    opened = set(libraries)
    root = logging.getLogger()
    redacting = RedactingFilter(secret_values(secrets, extra_urls))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    setup = LogSetup(handler, redacting)

    def set_level(name: str, value: int) -> None:
        logger = logging.getLogger(name) if name else root
        setup.levels.setdefault(name, logger.level)
        logger.setLevel(value)

    set_level("", logging.WARNING)  # whatever is not named below: a library nobody opened
    for name in OWN_LOGGERS:
        set_level(name, own)
    for name in LIBRARY_LOGGERS:
        set_level(name, logging.WARNING)
    for name in opened:
        set_level(name, own)
    for name in quiet:
        set_level(name, logging.WARNING)
    root.addHandler(handler)
    for existing in _every_handler():  # ours and any other, e.g. a test runner's capture
        if redacting not in existing.filters:
            existing.addFilter(redacting)
            setup.filtered.append(existing)
    return setup
