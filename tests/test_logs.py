"""Logs that cannot leak: no secret of the deployment and nothing sensitive a citizen typed reaches a log line,
at DEBUG and with every library logger opened, through a whole Telegram conversation over real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.telegram import SECRET_HEADER
from channels.telegram_http import AiohttpRequest
from hocvu import cli, logs
from hocvu.app import App
from hocvu.config import Settings, load_settings
from tests.support import serving
from tests.support.fake_app import build_fake_app
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.test_telegram import VOLUNTEERS, press, replies

WEBHOOK_SECRET = serving.WEBHOOK_SECRET
SECRETS = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "HOCVU_SECRET_KEY": "signing-key-9b8c7d6e5f",
    "RASA_AUTH_TOKEN": "rasa-token-0a1b2c3d4e",
    "DATABASE_URL": "postgresql+psycopg://hocvu:db%2Fpass%40word@db.internal:5432/hocvu",
    "REDIS_URL": "redis://:redis-pass-77aa@cache.internal:6379/0",
}
# What citizens paste into the chat, and the forms of it that must never be logged.
CARD = "4111 1111 1111 1111"
OTP = "482913"
CITIZEN_ID = "001203004567"
PASSWORD = "Hoa@Sen2024"
ACCOUNT = "0987654321012"
CITIZEN_MESSAGES = (
    f"số thẻ của tôi là {CARD} bị trừ tiền",
    f"mã OTP là {OTP} có gửi cho ai không",
    f"CCCD của tôi {CITIZEN_ID} đăng ký vneid thế nào",
    f"mật khẩu VNeID của tôi là {PASSWORD} quên rồi",
    f"stk {ACCOUNT} chuyển nhầm tiền",
)
OPENED = ("telegram", "httpx", "httpcore", "aiohttp", "starlette", "uvicorn", "sqlalchemy", "urllib3", "asyncio")


def forbidden() -> list[str]:
    """Every form of every secret that must not appear in a log."""
    values = [
        TOKEN,
        TOKEN.split(":", 1)[1],
        urllib.parse.quote(TOKEN, safe=""),
        WEBHOOK_SECRET,
        SECRETS["HOCVU_SECRET_KEY"],
        SECRETS["RASA_AUTH_TOKEN"],
        "db%2Fpass%40word",
        "db/pass@word",
        "redis-pass-77aa",
        CARD,
        CARD.replace(" ", ""),
        OTP,
        CITIZEN_ID,
        PASSWORD,
        ACCOUNT,
    ]
    return values + [json.dumps(v)[1:-1] for v in values]  # as JSON would write them, too


def leaks(text: str) -> list[str]:
    return [value for value in forbidden() if value in text]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The real log output at DEBUG with every library logger opened: the worst case."""
    stream = io.StringIO()
    setup = logs.configure("DEBUG", SECRETS, libraries=OPENED, stream=stream)
    try:
        yield stream
    finally:
        setup.undo()


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> App:
    return build_fake_app(settings, tmp_path_factory.mktemp("logs-app"), volunteer_chat_id=VOLUNTEERS)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


# -- a whole conversation at DEBUG ---------------------------------------------------------------------------


async def test_a_conversation_full_of_secrets_logs_none_of_them_at_debug(
    app: App, fake: FakeTelegram, tmp_path: Path, captured: io.StringIO
) -> None:
    user = 301
    async with serving.serving(app, fake, tmp_path):
        for text in CITIZEN_MESSAGES:  # each gets a warning, then its answer
            before = len(fake.sent(user))
            fake.push(fake.message(user, text))
            await replies(fake, user, before + 2)
        before = len(fake.sent(user))
        fake.push(fake.message(user, "Cách đăng ký tài khoản định danh điện tử mức 2"))
        await replies(fake, user, before + 1)
        press(fake, user, "Làm từng bước")
        await replies(fake, user, before + 2)
        fake.push(fake.message(user, "/volunteer"))  # the volunteers get the conversation so far
        await replies(fake, VOLUNTEERS, 1)
        fake.push(fake.message(user, f"thẻ {CARD} và mã OTP {OTP} đây ạ"))  # forwarded to the volunteers
        await replies(fake, VOLUNTEERS, 2)
    output = captured.getvalue()
    # The libraries really were talking: python-telegram-bot logged the updates and the calls it made.
    assert "getUpdates" in output and "sendMessage" in output and "callback_query" in output.lower()
    assert "[số thẻ đã ẩn]" in output and "[mã OTP đã ẩn]" in output  # the citizens' words, redacted
    assert leaks(output) == []


async def test_webhook_mode_logs_neither_the_token_nor_the_webhook_secret(
    app: App, fake: FakeTelegram, tmp_path: Path, captured: io.StringIO
) -> None:
    async with serving.serving(app, fake, tmp_path, webhook=True) as served:
        assert fake.webhook["secret_token"] == WEBHOOK_SECRET
        update = fake.message(302, CITIZEN_MESSAGES[1])
        answered = await served.client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert answered.status_code == 200
        await replies(fake, 302, 1)
    output = captured.getvalue()
    assert "setWebhook" in output
    assert leaks(output) == []


# -- the filter ----------------------------------------------------------------------------------------------


def _logged(setup_secrets: dict[str, str], *args: Any, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    setup = logs.configure("DEBUG", setup_secrets, stream=stream)
    try:
        logger = logging.getLogger("channels.test_logs")
        if exc is None:
            logger.debug(*args)
        else:
            try:
                raise exc
            except BaseException:
                logger.exception(*args)
    finally:
        setup.undo()
    return stream.getvalue()


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        (f"POST http://127.0.0.1/bot{TOKEN}/sendMessage", "TELEGRAM_BOT_TOKEN"),
        (f"GET /bot{urllib.parse.quote(TOKEN, safe='')}/getMe", "TELEGRAM_BOT_TOKEN"),
        (f"GET /bot{TOKEN.replace(':', '%3a')}/getMe", "TELEGRAM_BOT_TOKEN"),  # lower-case hex
        ("token half: TEST-token", "TELEGRAM_BOT_TOKEN"),
        (f"{{'secret_token': '{WEBHOOK_SECRET}'}}", "TELEGRAM_WEBHOOK_SECRET"),
        ("key=signing-key-9b8c7d6e5f", "HOCVU_SECRET_KEY"),
        ("GET /status?token=rasa-token-0a1b2c3d4e", "RASA_AUTH_TOKEN"),
        ("connecting to postgresql://hocvu:db%2Fpass%40word@db.internal/hocvu", "DATABASE_URL credential"),
        ("login failed with db/pass@word", "DATABASE_URL credential"),
        ("redis://:redis-pass-77aa@cache.internal:6379/0 refused", "REDIS_URL credential"),
    ],
)
def test_every_configured_secret_is_masked_in_every_spelling(message: str, hidden: str) -> None:
    output = _logged(SECRETS, "%s", message)
    assert leaks(output) == [] and f"<hidden {hidden}>" in output


def test_a_bot_token_nobody_configured_is_masked_too() -> None:
    other = "123456789:AAHk3j4l5m6n7o8p9q0rStUvWxYz_-abcde"
    output = _logged({}, "GET https://api.telegram.org/bot%s/getMe", other)
    assert other not in output and other.split(":")[1] not in output and "<hidden bot token>" in output


def test_the_guard_runs_over_arguments_json_tracebacks_and_stacks() -> None:
    escaped = json.dumps({"text": f"mật khẩu của tôi là {PASSWORD}"})  # \u escapes, as JSON logs write them
    assert PASSWORD in escaped and "m\\u1eadt" in escaped
    assert leaks(_logged({}, "update %s", escaped)) == []
    assert leaks(_logged({}, "card %s otp %s", CARD, f"mã OTP {OTP}")) == []
    failed = _logged(SECRETS, "handling failed", exc=ValueError(f"bad text: CCCD {CITIZEN_ID} at /bot{TOKEN}/x"))
    assert "ValueError" in failed and "Traceback" in failed and leaks(failed) == []
    stream = io.StringIO()
    setup = logs.configure("DEBUG", SECRETS, stream=stream)
    try:
        logging.getLogger("hocvu.test").debug("where %s", TOKEN, stack_info=True)
    finally:
        setup.undo()
    assert "Stack (most recent call last)" in stream.getvalue() and leaks(stream.getvalue()) == []


def test_a_record_is_written_by_every_handler_cleaned() -> None:
    """The filter goes on every handler already there too (another program's, a test runner's)."""
    other = io.StringIO()
    foreign = logging.StreamHandler(other)
    logging.getLogger().addHandler(foreign)
    try:
        output = _logged(SECRETS, "token %s", TOKEN)
    finally:
        logging.getLogger().removeHandler(foreign)
    assert leaks(output) == []
    assert "<hidden TELEGRAM_BOT_TOKEN>" in other.getvalue() and leaks(other.getvalue()) == []


# -- which loggers speak -------------------------------------------------------------------------------------


def _speaks(name: str, level: int = logging.DEBUG) -> bool:
    return logging.getLogger(name).isEnabledFor(level)


@pytest.mark.parametrize("verbose", [False, True])
def test_library_loggers_stay_at_warning_unless_named_in_the_config(tmp_path: Path, verbose: bool) -> None:
    config = tmp_path / "config.yml"
    config.write_text("logging:\n  level: DEBUG\n", encoding="utf-8")
    setup = cli.setup_logging(load_settings(config, environ={}), verbose=verbose)
    try:
        assert _speaks("channels.telegram") and _speaks("nlu.fallback") and _speaks("hocvu.serving")
        for library in ("telegram.ext.Updater", "telegram.Bot", "httpx", "aiohttp.client", "sqlalchemy.engine"):
            assert not _speaks(library, logging.INFO) and _speaks(library, logging.WARNING), library
        assert not _speaks("some.other.library", logging.INFO)
    finally:
        setup.undo()
    config.write_text("logging:\n  level: INFO\n  libraries: [telegram]\n", encoding="utf-8")
    setup = cli.setup_logging(load_settings(config, environ={}), verbose=verbose)
    try:
        assert _speaks("telegram.ext.Updater", logging.INFO) and not _speaks("aiohttp.client", logging.INFO)
        assert _speaks("telegram.Bot", logging.DEBUG) == verbose == _speaks("channels.telegram", logging.DEBUG)
    finally:
        setup.undo()


def test_hocvu_v_leaves_the_libraries_at_warning(tmp_path: Path) -> None:
    """`hocvu -v` opens hocvu's own loggers only (and main() leaves logging as it found it)."""
    before = {name: logging.getLogger(name).level for name in ("", "telegram", "channels")}
    assert cli.main(["-v", "--config", str(tmp_path / "missing.yml"), "kb", "check"]) == 2
    assert {name: logging.getLogger(name).level for name in before} == before


# -- the Telegram transport ----------------------------------------------------------------------------------


async def test_a_redirect_is_not_followed_and_the_error_names_no_token(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    from telegram import Bot
    from telegram.error import NetworkError

    with FakeTelegram() as elsewhere:
        # Where a hijacked or misconfigured endpoint sends the bot: with its token in the path.
        fake.redirect_next("getMe", f"{elsewhere.base_url}{TOKEN}/getMe")
        bot = Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest())
        with caplog.at_level(logging.DEBUG), pytest.raises(NetworkError) as failed:
            async with bot:
                pass
        await asyncio.sleep(0.1)
        assert elsewhere.requests == [], "the token followed the redirect"
    logging.getLogger("telegram.test").warning("start failed: %s", failed.value)  # as serve() would log it
    assert TOKEN not in str(failed.value) and TOKEN not in caplog.text
    assert "302" in str(failed.value)


async def test_transport_errors_do_not_quote_the_token() -> None:
    from telegram.error import NetworkError

    async with AiohttpRequest(connect_timeout=1.0) as request:
        with pytest.raises(NetworkError) as failed:
            await request.post(f"http://[::1/bot{TOKEN}/getMe")  # a URL aiohttp cannot parse, quoted in its error
    assert "aiohttp" in str(failed.value) and TOKEN not in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
