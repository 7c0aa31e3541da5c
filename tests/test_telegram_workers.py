"""Several webhook workers: one port, each update answered once, turns taken through Redis, clean stop.

The workers are the real command (`hocvu serve telegram --webhook-url ... --workers 2`) in a subprocess,
with the real model, against the fake Bot API over HTTP, and taking turns through the real Redis. What any
UserTurns promises is in tests/contracts/test_user_turns.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from channels.telegram import SECRET_HEADER
from channels.telegram_store import RedisUserTurns
from hocvu.config import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.services import REDIS_URL, require_redis

REPO = Path(__file__).resolve().parent.parent
SECRET = "workers-secret-0123456789"
QUESTION = "Cách đăng ký tài khoản định danh điện tử mức 2"


@pytest.fixture
def redis_url() -> str:
    return require_redis()


def _bot_id() -> int:
    return int(time.time() * 1000)  # a key space of its own per test


async def test_a_turn_left_by_a_dead_worker_expires(redis_url: str) -> None:
    bot_id = _bot_id()
    redis.Redis.from_url(redis_url).set(f"hocvu:tg:{bot_id}:turn:u1", "dead-worker", px=300)
    turns = RedisUserTurns(redis_url, bot_id)
    try:
        started = time.monotonic()
        async with turns.hold("u1"):
            waited = time.monotonic() - started
    finally:
        await turns.close()
    assert 0.2 < waited < 2.0


def _write_config(settings: Settings, tmp_path: Path, **telegram: str) -> Path:
    """The repository's config.yml on the tests' data directory (index, model) and a database of its own."""
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    config["data_dir"] = str(settings.data_dir)
    config["content_dir"] = str(REPO / "knowledge_base")
    config["database"] = {"url": f"sqlite:///{tmp_path / 'hocvu.db'}"}
    config["telegram"].update(telegram)
    for key, value in (config.get("nlu") or {}).items():  # relative paths are relative to the config file
        if key.endswith("_data") and isinstance(value, str):
            config["nlu"][key] = str(REPO / value)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workers(
    settings: Settings, tmp_path: Path, redis_url: str
) -> Iterator[tuple[FakeTelegram, str, subprocess.Popen[bytes]]]:
    port = _free_port()
    with FakeTelegram() as fake:
        config = _write_config(settings, tmp_path, base_url=fake.base_url, dedupe="redis")  # workers: 1; see below
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "REDIS_URL": redis_url,
            "HF_HUB_OFFLINE": "1",
            "HOCVU_SECRET_KEY": TEST_SECRET_KEY,
        }
        env.pop("DATABASE_URL", None)
        command = [sys.executable, "-m", "hocvu.cli", "--config", str(config), "serve", "telegram"]
        command += ["--webhook-url", "https://bot.invalid/telegram/webhook", "--port", str(port), "--workers", "2"]
        server = subprocess.Popen(command, cwd=REPO, env=env, stderr=open(tmp_path / "serve.log", "wb"))  # noqa: SIM115
        try:
            fake.wait_for(lambda: bool(fake.calls("setWebhook")) or server.poll() is not None, timeout=120)
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            yield fake, f"http://127.0.0.1:{port}/telegram/webhook", server
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def _turns_released() -> int:
    """How many lock releases Redis has run (RedisUserTurns releases with a script)."""
    stats = redis.Redis.from_url(REDIS_URL).info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("eval", "evalsha"))


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.slow
async def test_two_workers_answer_every_update_once_and_stop_together(
    workers: tuple[FakeTelegram, str, subprocess.Popen[bytes]],
) -> None:
    fake, url, server = workers
    processes = _children(server.pid)
    assert len(processes) == 2
    chats = range(5000, 5040)
    updates = [fake.message(chat, QUESTION) for chat in chats]
    headers = {SECRET_HEADER: SECRET}
    released_before = _turns_released()
    async with httpx.AsyncClient(timeout=30) as client:
        # Every update twice, as Telegram redelivers after a timeout: whichever worker gets a copy.
        answers = await asyncio.gather(*(client.post(url, json=u, headers=headers) for u in updates + updates))
    assert all(a.status_code == 200 for a in answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(not fake.sent(chat) for chat in chats):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a duplicate answer would arrive within this
    assert [len(fake.sent(chat)) for chat in chats] == [1] * len(chats)
    assert len(fake.calls("setWebhook")) == 1  # announced by one worker, not by each
    assert _turns_released() - released_before >= len(chats)  # every turn was taken across workers

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in processes), "a worker outlived the stop"


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--workers", "2"], {}, "several workers need webhook mode"),
        (["--workers", "2", "--webhook-url", "https://bot.invalid/hook"], {}, "several workers need REDIS_URL"),
        (["--workers", "0", "--webhook-url", "https://bot.invalid/hook"], {"REDIS_URL": REDIS_URL}, "1 or more"),
    ],
)
def test_workers_that_cannot_work_are_refused_before_anything_starts(
    argv: list[str],
    environ: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hocvu.cli import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, **environ}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "telegram", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_an_unreachable_bot_api_at_start_is_a_clear_error(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hocvu.cli import main

    config = _write_config(settings, tmp_path, base_url=f"http://127.0.0.1:{_free_port()}/bot")  # nobody there
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HOCVU_SECRET_KEY", TEST_SECRET_KEY)
    assert main(["--config", str(config), "serve", "telegram"]) == 1
    assert "could not start against the Bot API at http://127.0.0.1:" in capsys.readouterr().err
