"""`hocvu serve`, the real command: uvicorn serving the one web app with the real model, against the fake Bot
API over HTTP, on SQLite, PostgreSQL and Redis.

- A server killed with SIGKILL while it processes updates loses none that it acknowledged and, restarted,
  answers each exactly once.
- SIGTERM: the updates in flight are finished or stay in the inbox for the next start.
- Two uvicorn workers answer every update once, although each is delivered twice, and share one user's
  flood limit.
What any Inbox, UserTurns or FloodLimit promises is in tests/contracts/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from channels.inbox import Inbox, RedisInbox, SqlInbox
from channels.turns import RedisUserTurns
from hocvu.config import Settings
from storage.database import Database
from tests.conftest import TEST_SECRET_KEY
from tests.support import fake_zalo
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.learning_support import scratch_schema
from tests.support.services import REDIS_URL, own_redis_db, require_postgres, require_redis

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SECRET = "serve-secret-0123456789"
QUESTION = "Cách đăng ký tài khoản định danh điện tử mức 2"
SOURCE = f"telegram:{TOKEN.split(':')[0]}"
SLOW_DOWN = "Bạn nhắn hơi nhanh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`hocvu serve` in a process group of its own, so SIGKILL reaches uvicorn's workers too."""

    def __init__(self, config: Path, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.port = _free_port()
        self.log = log
        command = [sys.executable, "-m", "hocvu.cli", "--config", str(config), "serve", "--port", str(self.port)]
        command += ["--workers", str(workers)]
        with open(log, "ab") as stderr:  # the child keeps its own copy of the file descriptor
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stderr=stderr, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"hocvu serve exited: {self.log.read_text()[-3000:]}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"hocvu serve not ready after {timeout} s: {self.log.read_text()[-3000:]}")

    def post(self, updates: list[dict[str, Any]]) -> list[int]:
        with httpx.Client(timeout=30) as client:
            return [
                client.post(
                    f"{self.url}/telegram/webhook", json=u, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ).status_code
                for u in updates
            ]

    async def post_at_once(self, updates: list[dict[str, Any]]) -> list[int]:
        """Each update on a connection of its own, all at once."""

        async def post(update: dict[str, Any]) -> int:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.post(
                    f"{self.url}/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                )
                return answer.status_code

        return list(await asyncio.gather(*(post(u) for u in updates)))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM; True when the server stopped cleanly. uvicorn shuts down gracefully, then raises the signal
        it caught again, so a clean stop ends "killed by SIGTERM", as a service manager expects."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout) in (0, -signal.SIGTERM) and "Traceback" not in self.log.read_text()


def _write_config(settings: Settings, tmp_path: Path, fake: FakeTelegram, **server: Any) -> Path:
    """The repository's config.yml on the tests' data directory (index, model) and a database of its own."""
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    config["data_dir"] = str(settings.data_dir)
    config["content_dir"] = str(REPO / "knowledge_base")
    config["database"] = {"url": f"sqlite:///{tmp_path / 'hocvu.db'}"}
    config["telegram"].update(base_url=fake.base_url, webhook_url="https://bot.invalid/telegram/webhook")
    config["server"].update(server)
    for key, value in (config.get("nlu") or {}).items():  # relative paths are relative to the config file
        if key.endswith("_data") and isinstance(value, str):
            config["nlu"][key] = str(REPO / value)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HF_HUB_OFFLINE": "1",
        "HOCVU_SECRET_KEY": TEST_SECRET_KEY,
    }
    for name in ("DATABASE_URL", "REDIS_URL", "TELEGRAM_WEBHOOK_URL"):
        env.pop(name, None)
    return {**env, **extra}


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    """uvicorn's worker processes (and multiprocessing's helper, if any)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _answers(fake: FakeTelegram, chat: int) -> int:
    """Messages Telegram really delivered to `chat` (a request the bot gave up on, or died in, is not one)."""
    return sum(1 for r in fake.sent(chat) if r.params["_status"] == 200)


# Redis databases of this module's own: the server's keys (the inbox's, named by the bot id, the flood limit's
# and the turns', named by the chats) are the same in every run, so each test takes a whole database, one that
# no concurrent run holds, emptied.
REDIS_DBS = (3, 4)


Backend = tuple[dict[str, str], str, Callable[[], Inbox]]


@pytest.fixture(params=["sqlite", "postgresql", "postgresql+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The server's environment, its `server.inbox`, and its inbox opened as another worker would."""
    if request.param == "sqlite":
        yield {}, "sql", lambda: SqlInbox(Database(f"sqlite:///{tmp_path / 'hocvu.db'}"), SOURCE)
        return
    with scratch_schema(require_postgres()) as url:
        if request.param == "postgresql":
            yield {"DATABASE_URL": url}, "sql", lambda: SqlInbox(Database(url), SOURCE)
        else:
            with own_redis_db(REDIS_DBS) as redis_url:
                yield {"DATABASE_URL": url, "REDIS_URL": redis_url}, "redis", lambda: RedisInbox(redis_url, SOURCE)


def test_a_killed_server_loses_no_acknowledged_update_and_answers_each_once(
    settings: Settings, tmp_path: Path, backend: Backend
) -> None:
    environ, inbox_kind, open_inbox = backend
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake, inbox=inbox_kind, inbox_lease=2.0)
        env = _env(**environ)
        if "DATABASE_URL" in env:
            subprocess.run(
                [sys.executable, "-m", "hocvu.cli", "--config", str(config), "db", "upgrade"], env=env, check=True
            )
        first = Server(config, env, tmp_path / "serve.log")
        try:
            first.wait_ready()
            answered = list(range(7000, 7025))
            assert first.post([fake.message(chat, QUESTION) for chat in answered]) == [200] * 25
            _wait(lambda: all(_answers(fake, c) == 1 for c in answered), 60, "the first 25 are answered")
            inbox = open_inbox()
            _wait(lambda: inbox.pending() == 0, 10, "the first 25 are marked done")
            # The next 25 are acknowledged, then the server dies with every one of their answers in flight.
            fake.hold("sendMessage")
            in_flight = list(range(7025, 7050))
            assert first.post([fake.message(chat, QUESTION) for chat in in_flight]) == [200] * 25
            _wait(lambda: fake.waiting("sendMessage") == 25, 60, "all 25 answers are being sent")
            assert inbox.pending() == 25
        finally:
            first.kill()
        fake.release("sendMessage")
        assert all(_answers(fake, c) == 0 for c in in_flight)  # the server died before Telegram answered

        second = Server(config, env, tmp_path / "serve.log")
        try:
            second.wait_ready()
            # After their lease (2 s) the restarted server takes the 25 over.
            _wait(lambda: all(_answers(fake, c) >= 1 for c in in_flight), 60, "the 25 left over are answered")
            _wait(lambda: inbox.pending() == 0, 10, "the 25 left over are marked done")
            assert second.stop()
        finally:
            second.kill()
    assert [_answers(fake, c) for c in answered + in_flight] == [1] * 50


def test_a_killed_server_answers_each_acknowledged_zalo_oa_event_once(settings: Settings, tmp_path: Path) -> None:
    with FakeTelegram() as telegram, fake_zalo.FakeZalo() as zalo:
        config = _write_config(settings, tmp_path, telegram, inbox_lease=2.0)
        settled = yaml.safe_load(config.read_text(encoding="utf-8"))
        settled["zalo_oa"].update(api_base_url=zalo.base_url, oauth_base_url=zalo.base_url, request_timeout=30.0)
        config.write_text(yaml.safe_dump(settled, allow_unicode=True), encoding="utf-8")
        env = {name: value for name, value in _env().items() if not name.startswith("TELEGRAM_")}  # Zalo only
        env.update(
            ZALO_APP_ID=fake_zalo.APP_ID,
            ZALO_APP_SECRET=fake_zalo.APP_SECRET,
            ZALO_OA_SECRET_KEY=fake_zalo.OA_SECRET_KEY,
            ZALO_OA_ACCESS_TOKEN=zalo.access_token,
            ZALO_OA_REFRESH_TOKEN=zalo.refresh_token,
        )
        inbox = SqlInbox(Database(f"sqlite:///{tmp_path / 'hocvu.db'}"), f"zalo_oa:{fake_zalo.APP_ID}")

        def post(server: Server, users: list[str]) -> list[int]:
            with httpx.Client(timeout=30) as client:
                signed = [fake_zalo.signed(fake_zalo.message_event(zalo, user, QUESTION)) for user in users]
                return [
                    client.post(f"{server.url}/zalo/oa/webhook", content=b, headers=h).status_code for b, h in signed
                ]

        def answers(user: str) -> int:
            return len(zalo.sent(user))

        first = Server(config, env, tmp_path / "serve.log")
        try:
            first.wait_ready()
            answered = [str(user) for user in range(8000, 8010)]
            assert post(first, answered) == [200] * 10
            _wait(lambda: all(answers(u) >= 1 for u in answered) and inbox.pending() == 0, 60, "the first 10 are done")
            # The next 10 are acknowledged, then the server dies while Zalo holds every first reply to them.
            zalo.fail_next(fake_zalo.SEND_PATH, delay=5.0, times=10)
            in_flight = [str(user) for user in range(8010, 8020)]
            assert post(first, in_flight) == [200] * 10
            _wait(lambda: zalo.delaying == 10, 60, "all 10 replies are being sent")
            assert inbox.pending() == 10
        finally:
            first.kill()
        _wait(lambda: zalo.delaying == 0, 30, "Zalo notices the server is gone")
        assert all(answers(u) == 0 for u in in_flight)  # the server died before Zalo answered

        second = Server(config, env, tmp_path / "serve.log")
        try:
            second.wait_ready()
            # After their lease (2 s) the restarted server takes the 10 over.
            _wait(lambda: all(answers(u) >= 1 for u in in_flight), 60, "the 10 left over are answered")
            _wait(lambda: inbox.pending() == 0, 10, "the 10 left over are marked done")
            assert second.stop()
        finally:
            second.kill()
    sent_once = [answers(u) for u in answered]
    assert [answers(u) for u in in_flight] == sent_once, "each acknowledged event answered once, in full"


def test_sigterm_finishes_or_keeps_the_updates_in_flight(settings: Settings, tmp_path: Path) -> None:
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake, inbox_lease=2.0, shutdown_grace=0.5)
        env = _env()
        server = Server(config, env, tmp_path / "serve.log")
        chats = list(range(7100, 7105))
        try:
            server.wait_ready()
            fake.hold("sendMessage")
            assert server.post([fake.message(chat, QUESTION) for chat in chats]) == [200] * 5
            _wait(lambda: fake.waiting("sendMessage") == 5, 60, "all 5 answers are being sent")
            assert server.stop()  # within its grace
        finally:
            server.kill()
        fake.release("sendMessage")
        inbox = SqlInbox(Database(f"sqlite:///{tmp_path / 'hocvu.db'}"), SOURCE)
        assert inbox.pending() == 5 - sum(_answers(fake, c) for c in chats)  # unfinished ones were kept
        again = Server(config, env, tmp_path / "serve.log")
        try:
            again.wait_ready()
            _wait(lambda: inbox.pending() == 0, 60, "the kept updates are processed")
        finally:
            again.kill()
    assert [_answers(fake, c) for c in chats] == [1] * 5


@pytest.mark.parametrize("kind", ["sqlite", "postgresql+redis"])
def test_two_workers_answer_every_update_once_and_share_a_users_flood_limit(
    settings: Settings, tmp_path: Path, kind: str
) -> None:
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(own_redis_db(REDIS_DBS))  # the flood limit of another run must not count
        environ = {"REDIS_URL": redis_url}
        if kind == "sqlite":
            inbox: Inbox = SqlInbox(Database(f"sqlite:///{tmp_path / 'hocvu.db'}"), SOURCE)
        else:
            environ["DATABASE_URL"] = stack.enter_context(scratch_schema(require_postgres()))
            inbox = RedisInbox(redis_url, SOURCE)
        _two_workers(settings, tmp_path, environ, inbox, "sql" if kind == "sqlite" else "redis")


def _two_workers(settings: Settings, tmp_path: Path, environ: dict[str, str], inbox: Inbox, inbox_kind: str) -> None:
    redis_url = environ["REDIS_URL"]
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake, flood_burst=3, flood_per_minute=1, inbox=inbox_kind)
        env = _env(**environ)
        if "DATABASE_URL" in env:
            subprocess.run(
                [sys.executable, "-m", "hocvu.cli", "--config", str(config), "db", "upgrade"], env=env, check=True
            )
        server = Server(config, env, tmp_path / "serve.log", workers=2)
        try:
            server.wait_ready()
            chats = list(range(7200, 7240))
            updates = [fake.message(chat, QUESTION) for chat in chats]
            workers = _children(server.process.pid)
            # Every update twice, as Telegram redelivers after a timeout, on 80 connections at once: the
            # kernel hands each connection to whichever worker accepts it.
            assert asyncio.run(server.post_at_once(updates + updates)) == [200] * 80
            # Six questions each answered in one message ("câu hỏi số 1" would start a quiz: two messages).
            flood = [fake.message(7300, QUESTION) for _ in range(6)]
            assert asyncio.run(server.post_at_once(flood)) == [200] * 6
            _wait(lambda: inbox.pending() == 0, 60, "every update is done")  # so every answer was sent
            assert server.stop()
        finally:
            server.kill()
    assert [_answers(fake, c) for c in chats] == [1] * 40
    texts = fake.texts(7300)
    assert sum(SLOW_DOWN in text for text in texts) == 1, texts  # warned once, by whichever worker
    assert len(texts) == 3 + 1, texts  # the burst of 3 passed once for both workers, not once each
    assert len(workers) >= 2, "uvicorn did not start two worker processes"
    # Both workers counted in Redis (tests/contracts/test_flood_limit.py: gates on one Redis share the budget).
    assert redis.Redis.from_url(redis_url).keys("hocvu:flood:*")
    assert len(fake.calls("setWebhook")) == 1  # registered once, by `hocvu serve`, not by each worker


async def test_a_turn_left_by_a_dead_worker_expires(tmp_path: Path) -> None:
    url = require_redis()
    prefix = f"hocvu:test:{time.time_ns()}:turn"
    redis.Redis.from_url(url).set(f"{prefix}:u1", "dead-worker", px=300)
    turns = RedisUserTurns(url, prefix=prefix)
    try:
        started = time.monotonic()
        async with turns.hold("u1"):
            waited = time.monotonic() - started
    finally:
        await turns.close()
    assert 0.2 < waited < 2.0


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--workers", "2"], {"REDIS_URL": REDIS_URL}, "several workers need a webhook URL"),
        (["--workers", "2"], {"TELEGRAM_WEBHOOK_URL": "https://bot.invalid/hook"}, "several workers need REDIS_URL"),
        (["--workers", "0"], {}, "1 or more"),
        ([], {"TELEGRAM_BOT_TOKEN": ""}, "no channel to serve: set TELEGRAM_BOT_TOKEN"),
        ([], {"TELEGRAM_WEBHOOK_URL": "https://bot.invalid/hook", "TELEGRAM_WEBHOOK_SECRET": ""}, "needs a secret"),
    ],
)
def test_a_server_that_cannot_work_is_refused_before_anything_starts(
    argv: list[str],
    environ: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hocvu.cli import main

    for name in ("REDIS_URL", "TELEGRAM_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, **environ}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_bot_api_at_start_is_a_clear_error(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hocvu.cli import main

    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake)
    text = config.read_text(encoding="utf-8").replace(fake.base_url, f"http://127.0.0.1:{_free_port()}/bot")
    config.write_text(text, encoding="utf-8")  # nobody there
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HOCVU_SECRET_KEY", TEST_SECRET_KEY)
    assert main(["--config", str(config), "serve"]) == 1
    assert "could not start against the Bot API at http://127.0.0.1:" in capsys.readouterr().err


def test_an_unreachable_database_at_start_is_named(settings: Settings, tmp_path: Path) -> None:
    closed = "postgresql+psycopg://hocvu:db-pass-decoy@127.0.0.1:1/hocvu"  # nobody listens on port 1
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake)
        server = Server(config, _env(DATABASE_URL=closed), tmp_path / "serve.log")
        try:
            code = server.process.wait(timeout=120)  # the model loads first, then the database is opened
        except subprocess.TimeoutExpired:
            pytest.fail(f"hocvu serve did not exit: {server.log.read_text()[-3000:]}")
        finally:
            server.kill()
    log = server.log.read_text()
    assert code != 0
    assert "the database is unreachable (postgresql+psycopg://hocvu:***@127.0.0.1:1/hocvu)" in log
    assert "up to date" not in log and "db-pass-decoy" not in log
    assert "search index" not in log  # said before the model and the index are loaded


def test_telegram_register_sets_the_webhook_and_the_menu_once_per_deployment(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hocvu.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HOCVU_SECRET_KEY", TEST_SECRET_KEY)
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, fake)
        assert main(["--config", str(config), "telegram", "register", "--url", "https://bot.example.org/hook"]) == 0
        assert fake.webhook["url"] == "https://bot.example.org/hook" and fake.webhook["secret_token"] == SECRET
        menus = {r.params.get("language_code") for r in fake.calls("setMyCommands")}
        assert menus == {"vi", "en", None}
