"""Webhook benchmark: the real `hocvu serve`, end to end over HTTP, against a fake platform API.

The server is `python -m hocvu.cli --config <bench config> serve --port P --workers N` in a process group
of its own, serving one channel (`--channel`): Telegram in webhook mode (TELEGRAM_WEBHOOK_URL, the secret
header checked) against the fake Bot API (tests/support/fake_telegram.py), or the Zalo OA (every event
signed, the signature checked) against the fake OA API (tests/support/fake_zalo.py); the fake runs in this
process, and the channel's API base URL points at it. This process posts events to the webhook, each from a
different user (so every one also creates a user), and times each one twice: from the POST to its answer
(the acknowledgement the platform waits for) and from the POST to the first message that answers it
arriving at the fake API (the reply).

Options:
- `--channel telegram|zalo_oa|zalo_bot` (default telegram); the Zalo Bot against its fake
  (tests/support/fake_zalo_bot.py), in webhook mode with the secret header checked.
- `--embedder shipped` (default) answers with the configured model (config.yml); `--embedder fake` serves the
  same web app with the deterministic FakeEmbedder, to see what the channel costs whatever the model's
  speed. `hocvu serve` has no such switch, so the fake-embedder server is this module's hidden `--serve`
  entry: `hocvu.web.create_app(settings, embedder=FakeEmbedder())` under `uvicorn.run`, as `hocvu serve`
  runs it (with several workers, through the factory `fake_app`).
- `--workers N`: uvicorn worker processes; more than one uses Redis (`--redis`) for the turns and flood limit.
- `--inbox sql|redis`: `server.inbox`, where updates wait until their replies were sent.
- `--database sqlite|postgresql`: SQLite in the bench's scratch folder, or a scratch schema on PostgreSQL
  (`$HOCVU_TEST_POSTGRES`, as the tests; migrated with `hocvu db upgrade`, dropped afterwards).
- `--redis URL`: the Redis database the server uses when it needs one; **emptied at the start** (default
  redis://127.0.0.1:6379/9, a database no test uses).

Each run, in order:
1. the probe (this module's hidden `--probe`, a process of its own on the same config and database, before
   the server starts): the core's own answer time, `Assistant.handle` timed on one thread for each
   evaluation question twice, each from a new user of the Telegram channel (state and journal in the
   database, as in the server); and the durable inbox's cost, `put` + `done` of the real Inbox on the
   configured backend, 1,000 times with a real event as the payload;
2. the server starts; a warm-up of 50 updates at 20/s;
3. paced: updates offered at a fixed rate (default 100/s) for a fixed time: the latency a user sees at
   that load;
4. flat out: as many updates as the server can take (64 in flight): the sustained capacity.

CPU per update is read from /proc over the two measured runs: for the server (uvicorn's parent and its
workers), for this process (load generator and fake API), and for the PostgreSQL and Redis servers
(machine-wide: anyone else's use of them counts too). The channel's own CPU per update is the server's
minus the core's answer CPU from the probe. With py-spy installed, the server's CPU is also split by
thread (its event loop, the core's threads, the inbox's threads), naming threads with `py-spy dump`;
`--py-spy FILE` records the server's stacks holding the GIL over the measured runs (py-spy's own sampling
slows the server down: a profile run's figures are not the benchmark's). Every update must be answered
exactly once: as many messages as the probe's answer to the same question has.

    .venv/bin/python -m bench.webhook [--channel telegram|zalo_oa] [--embedder shipped|fake] [--workers 1]
        [--inbox sql|redis] [--database sqlite|postgresql] [--rate 100] [--seconds 20] [--burst 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support import fake_zalo, fake_zalo_bot  # noqa: E402
from tests.support.fake_telegram import TOKEN, FakeTelegram  # noqa: E402
from tests.support.fake_telegram import Request as TelegramRequest  # noqa: E402

if TYPE_CHECKING:
    from starlette.applications import Starlette

SECRET = "bench-secret-0123456789"
WEBHOOK_URL = "https://bench.invalid/telegram/webhook"
REDIS_URL = "redis://127.0.0.1:6379/9"
PROBE_USER = 90_000_000  # the probe's users; the server's are 10M (warm-up), 20M (paced) and 30M (flat out)
INBOX_ROUNDS = 1000
SERVICES = ("postgres", "redis-server")  # processes whose CPU is reported as the services'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _questions() -> list[str]:
    items = yaml.safe_load((REPO / "knowledge_base" / "eval" / "test.yml").read_text(encoding="utf-8"))
    return [item["q"] for item in items]


def _ticks_of(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _ticks(pid: int) -> int:
    """CPU time (user + system) of one process so far, in clock ticks; 0 when it is gone."""
    try:
        return _ticks_of(Path(f"/proc/{pid}/stat"))
    except (FileNotFoundError, ProcessLookupError):
        return 0


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants (uvicorn's parent and its workers)."""
    return sum(_ticks(process) for process in _tree(pid)) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        children = []
    return [pid, *(p for child in children for p in _tree(int(child)))]


def _thread_names(pid: int) -> dict[int, str]:
    """Thread id -> Python thread name, in the server's processes, from `py-spy dump` (empty without py-spy);
    numbered pool threads (hocvu-core_0, asyncio_1...) go by their pool's name."""
    py_spy = Path(sys.executable).with_name("py-spy")
    names: dict[int, str] = {}
    if not py_spy.exists():
        return names
    for process in _tree(pid):
        dump = subprocess.run(
            [str(py_spy), "dump", "--pid", str(process), "--nonblocking"], capture_output=True, text=True
        ).stdout
        for match in re.finditer(r'^Thread (\d+) \([^)]*\): "([^"]*)"', dump, re.MULTILINE):
            names[int(match.group(1))] = re.sub(r"_\d+$", "", match.group(2))
    return names


def _thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of every thread of the server's processes, by thread id."""
    ticks: dict[int, float] = {}
    for process in _tree(pid):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{process}/task").iterdir():
                with contextlib.suppress(OSError):
                    ticks[int(task.name)] = _ticks_of(task / "stat") / os.sysconf("SC_CLK_TCK")
    return ticks


def _services_cpu() -> float:
    """CPU seconds so far of every PostgreSQL and Redis server process on the machine (whoever uses them)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in SERVICES:
                    total += _ticks(int(entry.name))
    return total / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


# -- the channels ---------------------------------------------------------------------------------------


class Target(Protocol):
    """One channel as the bench drives it: its fake API (started by the caller), its events, who got what."""

    channel: str  # the users' `UserMessage.channel`
    path: str  # the webhook's route

    def configure(self, config: dict[str, Any], env: dict[str, str]) -> None:
        """Point the channel at the fake and switch it on."""
        ...

    def event(self, user: int, text: str) -> tuple[bytes, dict[str, str]]:
        """A user's text message as the platform posts it: the body and the headers."""
        ...

    def listen(self, seen: Callable[[int, float], None]) -> None:
        """Call `seen(user, time.monotonic() at arrival)` for every message the fake accepted."""
        ...

    def delivered(self) -> tuple[dict[int, int], int]:
        """Messages the fake accepted, per user; and how many sends it refused."""
        ...


class TelegramTarget:
    channel = "telegram"
    path = "/telegram/webhook"

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    def configure(self, config: dict[str, Any], env: dict[str, str]) -> None:
        config["telegram"]["base_url"] = self.fake.base_url
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_WEBHOOK_URL=WEBHOOK_URL)

    def event(self, user: int, text: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(self.fake.message(user, text)).encode()
        return body, {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}

    def listen(self, seen: Callable[[int, float], None]) -> None:
        def on_request(request: TelegramRequest) -> None:
            if request.method == "sendMessage" and request.params.get("_status") == 200:
                seen(int(request.params["chat_id"]), request.at)

        self.fake.on_request(on_request)

    def delivered(self) -> tuple[dict[int, int], int]:
        sends: dict[int, int] = {}
        refused = 0
        for request in self.fake.requests:
            if request.method in ("sendMessage", "sendPhoto"):
                if request.params.get("_status") == 200:
                    chat = int(request.params["chat_id"])
                    sends[chat] = sends.get(chat, 0) + 1
                else:
                    refused += 1
        return sends, refused


class ZaloOaTarget:
    channel = "zalo_oa"
    path = "/zalo/oa/webhook"

    def __init__(self, fake: fake_zalo.FakeZalo) -> None:
        self.fake = fake

    def configure(self, config: dict[str, Any], env: dict[str, str]) -> None:
        config["zalo_oa"].update(api_base_url=self.fake.base_url, oauth_base_url=self.fake.base_url)
        env.update(
            ZALO_APP_ID=fake_zalo.APP_ID,
            ZALO_APP_SECRET=fake_zalo.APP_SECRET,
            ZALO_OA_SECRET_KEY=fake_zalo.OA_SECRET_KEY,
            ZALO_OA_ACCESS_TOKEN=self.fake.access_token,
            ZALO_OA_REFRESH_TOKEN=self.fake.refresh_token,
        )

    def event(self, user: int, text: str) -> tuple[bytes, dict[str, str]]:
        body, headers = fake_zalo.signed(fake_zalo.message_event(self.fake, str(user), text))
        return body, {**headers, "Content-Type": "application/json"}

    def listen(self, seen: Callable[[int, float], None]) -> None:
        def on_request(request: fake_zalo.Request) -> None:
            if request.path == fake_zalo.SEND_PATH and request.answer.get("error") == 0:
                seen(int(request.answer["data"]["user_id"]), request.at)

        self.fake.listeners.append(on_request)

    def delivered(self) -> tuple[dict[int, int], int]:
        sends: dict[int, int] = {}
        for request in self.fake.sent():
            user = int(request.answer["data"]["user_id"])
            sends[user] = sends.get(user, 0) + 1
        return sends, len(self.fake.calls(fake_zalo.SEND_PATH)) - sum(sends.values())


class ZaloBotTarget:
    channel = "zalo_bot"
    path = "/zalo/bot/webhook"

    def __init__(self, fake: fake_zalo_bot.FakeZaloBot) -> None:
        self.fake = fake

    def configure(self, config: dict[str, Any], env: dict[str, str]) -> None:
        config["zalo_bot"].update(api_base_url=self.fake.base_url, webhook_url="https://bench.invalid/zalo/bot/webhook")
        env.update(ZALO_BOT_TOKEN=fake_zalo_bot.TOKEN, ZALO_BOT_WEBHOOK_SECRET=fake_zalo_bot.SECRET)

    def event(self, user: int, text: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(fake_zalo_bot.text_update(str(user), text), ensure_ascii=False).encode()
        return body, {"X-Bot-Api-Secret-Token": fake_zalo_bot.SECRET, "Content-Type": "application/json"}

    def listen(self, seen: Callable[[int, float], None]) -> None:
        def on_request(request: fake_zalo_bot.Request) -> None:
            if request.method == "sendMessage" and request.answer.get("ok") is True:
                seen(int(request.body["chat_id"]), request.at)

        self.fake.listeners.append(on_request)

    def delivered(self) -> tuple[dict[int, int], int]:
        sends: dict[int, int] = {}
        refused = 0
        for request in self.fake.calls("sendMessage"):
            if request.answer.get("ok") is True:
                user = int(request.body["chat_id"])
                sends[user] = sends.get(user, 0) + 1
            else:
                refused += 1
        return sends, refused


class Arrivals:
    """The time each user's first answer reached the fake API."""

    def __init__(self, target: Target) -> None:
        self.first: dict[int, float] = {}
        self._lock = threading.Lock()
        target.listen(self._seen)

    def _seen(self, user: int, at: float) -> None:
        with self._lock:
            self.first.setdefault(user, at)


async def _post(
    client: aiohttp.ClientSession,
    url: str,
    user: int,
    event: tuple[bytes, dict[str, str]],
    sent: dict[int, float],
    acks: list[float],
) -> None:
    body, headers = event
    sent[user] = started = time.monotonic()
    async with client.post(url, data=body, headers=headers) as response:
        response.raise_for_status()
    acks.append((time.monotonic() - started) * 1000)


async def _wait_answers(arrivals: Arrivals, users: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(c not in arrivals.first for c in users):
        await asyncio.sleep(0.02)


async def _run(
    target: Target,
    arrivals: Arrivals,
    url: str,
    questions: list[str],
    first_user: int,
    count: int,
    rate: float | None,
    asked: dict[int, str],
) -> dict[str, float]:
    users = [first_user + i for i in range(count)]
    texts = [questions[i % len(questions)] for i in range(count)]
    events = [target.event(user, text) for user, text in zip(users, texts, strict=True)]
    asked.update(zip(users, texts, strict=True))
    sent: dict[int, float] = {}
    acks: list[float] = []
    # aiohttp: the load generator shares the machine with the server, so it should cost as little as it can.
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        started = time.monotonic()
        if rate is not None:  # open loop: offered load independent of how fast the server answers
            tasks = []
            for i, (user, event) in enumerate(zip(users, events, strict=True)):
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_post(client, url, user, event, sent, acks)))
            await asyncio.gather(*tasks)
        else:
            gate = asyncio.Semaphore(64)

            async def bounded(user: int, event: tuple[bytes, dict[str, str]]) -> None:
                async with gate:
                    await _post(client, url, user, event, sent, acks)
                    while user not in arrivals.first:  # one in flight per slot until answered
                        await asyncio.sleep(0.002)

            await asyncio.gather(*(bounded(u, e) for u, e in zip(users, events, strict=True)))
        await _wait_answers(arrivals, users, timeout=60)
    answered = [c for c in users if c in arrivals.first]
    latencies = [(arrivals.first[c] - sent[c]) * 1000 for c in answered]
    finished = max(arrivals.first[c] for c in answered)
    return {
        "updates": count,
        "answered": len(answered),
        "seconds": finished - started,
        "per_second": len(answered) / (finished - started),
        "p50_ms": statistics.median(latencies),
        "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "ack_p50_ms": statistics.median(acks),
        "ack_p95_ms": _percentile(acks, 0.95),
        "ack_p99_ms": _percentile(acks, 0.99),
    }


# -- the probe: the core's answer time and the inbox's cost, in a process of its own --------------------


def _probe(config: Path, channel: str, embedder: str, payload: str, out: Path) -> int:
    """Time `Assistant.handle` (each question twice, each from a new user) and the inbox's put + done."""
    from bot.messages import Response, UserMessage
    from channels import telegram_render, zalo_oa_render
    from channels.inbox import Inbox, RedisInbox, SqlInbox
    from hocvu.app import build_app
    from hocvu.cli import setup_logging
    from hocvu.config import load_settings
    from tests.support.fakes import FakeEmbedder

    settings = load_settings(config)
    setup_logging(settings, verbose=False)
    app = build_app(settings, embedder=FakeEmbedder() if embedder == "fake" else None)
    questions = _questions()
    user = PROBE_USER

    def messages_of(response: Response) -> int:
        """How many messages the channel sends for the response."""
        if channel in ("zalo_oa", "zalo_bot"):  # the bot has no buttons: numbered text only
            buttons = channel == "zalo_oa" and settings.zalo_oa.choices == "buttons"
            return len(zalo_oa_render.render(response.replies, response.lang, buttons=buttons).messages)
        return len(telegram_render.render(response.replies, response.lang))

    def ask(question: str) -> tuple[float, float, int]:
        nonlocal user
        user += 1
        message = UserMessage(
            channel, str(user), text=question, kind="text", message_id="1", display_name="Lan", language_hint="vi"
        )
        wall, cpu = time.perf_counter(), time.process_time()
        response = app.assistant.handle(message)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return wall, cpu, messages_of(response)

    for question in questions[:20]:  # warm-up
        ask(question)
    walls: list[float] = []
    cpus: list[float] = []
    messages: dict[str, int] = {}
    for _ in range(2):
        for question in questions:
            wall, cpu, count = ask(question)
            walls.append(wall)
            cpus.append(cpu)
            messages[question] = count

    inbox: Inbox
    if settings.server.inbox == "redis":
        inbox = RedisInbox(settings.secrets["REDIS_URL"], "bench:probe")
    else:
        assert app.database is not None
        inbox = SqlInbox(app.database, "bench:probe")
    for i in range(50):  # warm-up (and the prune of the first put)
        inbox.put(f"warm-{i}", payload)
        inbox.done([f"warm-{i}"])
    puts: list[float] = []
    dones: list[float] = []
    cpu = time.process_time()
    for i in range(INBOX_ROUNDS):
        started = time.perf_counter()
        assert inbox.put(f"probe-{i}", payload)
        middle = time.perf_counter()
        inbox.done([f"probe-{i}"])
        puts.append(middle - started)
        dones.append(time.perf_counter() - middle)
    inbox_cpu = (time.process_time() - cpu) / INBOX_ROUNDS
    result = {
        "answers": len(walls),
        "core_wall_ms": 1000 * statistics.fmean(walls),
        "core_p50_ms": 1000 * statistics.median(walls),
        "core_p95_ms": 1000 * _percentile(walls, 0.95),
        "core_cpu_ms": 1000 * statistics.fmean(cpus),
        "inbox_put_ms": 1000 * statistics.fmean(puts),
        "inbox_done_ms": 1000 * statistics.fmean(dones),
        "inbox_cpu_ms": 1000 * inbox_cpu,
        "messages": messages,
    }
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


# -- the server with the FakeEmbedder -------------------------------------------------------------------


def fake_app() -> Starlette:
    """A uvicorn worker's app (factory): the product's, with the FakeEmbedder; settings from the environment."""
    from hocvu.web import create_app
    from tests.support.fakes import FakeEmbedder

    return create_app(embedder=FakeEmbedder())


def _serve_fake(config: Path, port: int, workers: int) -> int:
    """`hocvu serve --port P --workers N`, but with the FakeEmbedder: the web app under uvicorn, as cmd_serve
    runs it, after registering the Telegram webhook once (when Telegram is on)."""
    import dataclasses

    import uvicorn

    from channels.telegram import WebhookOptions, make_bot, register
    from hocvu.cli import setup_logging
    from hocvu.config import load_settings
    from hocvu.web import create_app
    from tests.support.fakes import FakeEmbedder

    settings = load_settings(config)
    settings = dataclasses.replace(settings, server=dataclasses.replace(settings.server, port=port, workers=workers))
    setup_logging(settings, verbose=False)
    tg = settings.telegram

    async def registered() -> None:
        async with make_bot(settings.telegram_token, tg.base_url) as bot:
            await register(bot, WebhookOptions(tg.webhook_url, settings.secrets["TELEGRAM_WEBHOOK_SECRET"]))

    if settings.secrets.get("TELEGRAM_BOT_TOKEN"):
        asyncio.run(registered())
    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "log_config": None, "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(settings, embedder=FakeEmbedder()), lifespan="on", **options)
        return 0
    os.environ["HOCVU_CONFIG"] = str(settings.path)
    os.environ["HOCVU_SERVER_WORKERS"] = str(workers)
    with tempfile.TemporaryDirectory(prefix="hocvu-metrics-") as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        uvicorn.run("bench.webhook:fake_app", factory=True, workers=workers, lifespan="on", **options)
    return 0


# -- the driver -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'hocvu.db'}"
        return
    from tests.support.learning_support import scratch_schema
    from tests.support.services import POSTGRES_URL

    with scratch_schema(POSTGRES_URL, prefix="bench") as url:
        yield url


def _wait_ready(server: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server was not ready after {timeout} s:\n{log.read_text()[-3000:]}")


def _wait_idle(pid: int, timeout: float = 120) -> None:
    """Until the server's processes stop working (every worker has loaded its model)."""
    deadline = time.monotonic() + timeout
    before = _tree_cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _tree_cpu(pid)
        if now - before < 0.05:
            return
        before = now


def _py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server and its workers, the stacks holding the GIL: Python's CPU, and what limits
    one process (not blocking them: it would slow them down further)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    command = [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil"]
    command += ["--rate", "250", "--format", "raw", "--output", str(out)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached
    return spy


def _measure(args: argparse.Namespace, workdir: Path, load_before: str) -> int:
    """One benchmark run in `workdir`: the probe, the server, the runs, the report."""
    for cache in ("index", "nlu", "models"):  # reuse what was built for the repository's content (keyed by hash)
        if (REPO / "var" / cache).is_dir():
            shutil.copytree(REPO / "var" / cache, workdir / cache)
    uses_redis = args.workers > 1 or args.inbox == "redis"
    with contextlib.ExitStack() as fakes, _database(args.database, workdir) as database_url:
        target: Target
        if args.channel == "zalo_oa":
            target = ZaloOaTarget(fakes.enter_context(fake_zalo.FakeZalo()))
        elif args.channel == "zalo_bot":
            target = ZaloBotTarget(fakes.enter_context(fake_zalo_bot.FakeZaloBot()))
        else:
            target = TelegramTarget(fakes.enter_context(FakeTelegram()))
        config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
        config["data_dir"] = str(workdir)
        config["content_dir"] = str(REPO / "knowledge_base")
        for key, value in (config.get("nlu") or {}).items():  # relative paths are relative to the config file
            if key.endswith("_data") and isinstance(value, str):
                config["nlu"][key] = str(REPO / value)
        config["server"].update(inbox=args.inbox, flood_burst=8, flood_per_minute=20)
        config["logging"] = {"level": "WARNING"}
        config_path = workdir / "config.yml"
        env = {
            **{name: value for name, value in os.environ.items() if not name.startswith(("TELEGRAM_", "ZALO_"))},
            "DATABASE_URL": database_url,
            "HOCVU_SECRET_KEY": secrets.token_urlsafe(32),
            "HF_HUB_OFFLINE": "1",
        }
        env.pop("REDIS_URL", None)
        target.configure(config, env)
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        if uses_redis:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
            env["REDIS_URL"] = args.redis
        if args.database == "postgresql":
            hocvu = [sys.executable, "-m", "hocvu.cli", "--config", str(config_path)]
            subprocess.run([*hocvu, "db", "upgrade"], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)

        payload = workdir / "event.json"
        payload.write_bytes(target.event(PROBE_USER, _questions()[0])[0])
        probe_out = workdir / "probe.json"
        probe_command = ["--probe", str(config_path), "--channel", args.channel, "--embedder", args.embedder]
        subprocess.run(
            [sys.executable, "-m", "bench.webhook", *probe_command, "--payload", str(payload), "--out", str(probe_out)],
            cwd=REPO,
            env=env,
            check=True,
        )
        probe = json.loads(probe_out.read_text(encoding="utf-8"))
        load_probed = _load()

        port = _free_port()
        if args.embedder == "fake":
            command = [sys.executable, "-m", "bench.webhook", "--serve", str(config_path)]
        else:
            command = [sys.executable, "-m", "hocvu.cli", "--config", str(config_path), "serve"]
        command += ["--port", str(port), "--workers", str(args.workers)]
        log = workdir / "serve.log"
        with open(log, "wb") as stderr:  # the child keeps its own copy of the file descriptor
            server = subprocess.Popen(command, cwd=REPO, env=env, stderr=stderr, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(server, base, log)
            _wait_idle(server.pid)
            arrivals = Arrivals(target)
            url = f"{base}{target.path}"
            questions = _questions()
            asked: dict[int, str] = {}
            asyncio.run(_run(target, arrivals, url, questions, 10_000_000, 50, 20.0, asked))  # warm-up
            load_start = _load()
            spy = _py_spy(server.pid, args.py_spy) if args.py_spy else None
            threads_before = _thread_cpu(server.pid)
            before = _tree_cpu(server.pid), _own_cpu(), _services_cpu()
            paced = asyncio.run(
                _run(target, arrivals, url, questions, 20_000_000, int(args.rate * args.seconds), args.rate, asked)
            )
            flat = asyncio.run(_run(target, arrivals, url, questions, 30_000_000, args.burst, None, asked))
            measured = paced["answered"] + flat["answered"]
            server_cpu = (_tree_cpu(server.pid) - before[0]) / measured
            driver_cpu = (_own_cpu() - before[1]) / measured
            services_cpu = (_services_cpu() - before[2]) / measured
            names = _thread_names(server.pid)  # now that every pool has started its threads
            by_thread: dict[str, float] = {}
            for thread, seconds in _thread_cpu(server.pid).items():
                name = names.get(thread, "other")
                by_thread[name] = by_thread.get(name, 0.0) + (seconds - threads_before.get(thread, 0.0)) / measured
            load_end = _load()
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
                spy.wait(timeout=60)
            time.sleep(0.5)  # a duplicate answer would arrive about now
            server.send_signal(signal.SIGTERM)
            try:
                stopped = server.wait(timeout=60) in (0, -signal.SIGTERM)
            except subprocess.TimeoutExpired:
                stopped = False
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        sends, refused = target.delivered()
        expected = probe["messages"]
        missing = sum(1 for chat, question in asked.items() if sends.get(chat, 0) < expected[question])
        extra = sum(1 for chat, question in asked.items() if sends.get(chat, 0) > expected[question])
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        problems = [line for line in lines if "WARNING" in line or "ERROR" in line or "Traceback" in line]

    channel_cpu = server_cpu * 1000 - probe["core_cpu_ms"]
    results = {
        "channel": args.channel,
        "embedder": args.embedder,
        "workers": args.workers,
        "inbox": args.inbox,
        "database": args.database,
        "load_average": {"before": load_before, "after_probe": load_probed, "start": load_start, "end": load_end},
        "paced": paced,
        "flat": flat,
        "server_cpu_ms": server_cpu * 1000,
        "server_cpu_by_thread_ms": {name: 1000 * seconds for name, seconds in by_thread.items()},
        "driver_cpu_ms": driver_cpu * 1000,
        "services_cpu_ms": services_cpu * 1000,
        "channel_cpu_ms": channel_cpu,
        "channel_to_core": channel_cpu / probe["core_wall_ms"],
        "probe": {key: value for key, value in probe.items() if key != "messages"},
        "updates": len(asked),
        "missing": missing,
        "extra": extra,
        "refused": refused,
        "log_problems": len(problems),
        "stopped_cleanly": stopped,
    }
    print(
        f"machine: {os.cpu_count()} cores; load average (1/5/15 min) before {load_before}, after the probe "
        f"{load_probed}, at the measured runs' start {load_start} and end {load_end}"
    )
    print(
        f"server: {args.channel}, {args.workers} worker(s), embedder {args.embedder}, inbox {args.inbox}, "
        f"database {args.database}"
    )
    for name, result in (("paced", paced), ("flat out", flat)):
        print(
            f"{name:9s}: {result['answered']}/{result['updates']} answered in {result['seconds']:.1f} s = "
            f"{result['per_second']:.0f} updates/s; reply p50 {result['p50_ms']:.0f} ms, "
            f"p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms; acknowledgement p50 "
            f"{result['ack_p50_ms']:.1f} ms, p95 {result['ack_p95_ms']:.1f} ms, p99 {result['ack_p99_ms']:.1f} ms"
        )
    print(
        f"CPU per update over both runs: server {server_cpu * 1000:.1f} ms (all its processes); "
        f"load generator and fake API {driver_cpu * 1000:.1f} ms; PostgreSQL and Redis servers "
        f"{services_cpu * 1000:.1f} ms"
    )
    if names:
        shares = sorted(by_thread.items(), key=lambda item: -item[1])
        print("  the server's by thread: " + ", ".join(f"{name} {1000 * cpu:.1f} ms" for name, cpu in shares))
    print(
        f"core alone (probe, {probe['answers']} answers on one thread): {probe['core_wall_ms']:.1f} ms per answer "
        f"(p50 {probe['core_p50_ms']:.1f}, p95 {probe['core_p95_ms']:.1f}), CPU {probe['core_cpu_ms']:.1f} ms"
    )
    print(
        f"channel's own CPU per update = server {server_cpu * 1000:.1f} - core {probe['core_cpu_ms']:.1f} = "
        f"{channel_cpu:.1f} ms, {results['channel_to_core']:.2f}x the core's answer time"
    )
    print(
        f"inbox ({args.inbox} on {'Redis' if args.inbox == 'redis' else args.database}), {INBOX_ROUNDS} rounds: "
        f"put {probe['inbox_put_ms']:.2f} ms + done {probe['inbox_done_ms']:.2f} ms, "
        f"CPU {probe['inbox_cpu_ms']:.2f} ms per update"
    )
    print(
        f"answers: {len(asked)} updates, {missing} not answered in full, {extra} answered more than once, "
        f"{refused} sends refused; server stopped cleanly: {stopped}; server log: {len(problems)} warnings/errors"
    )
    for line in problems[:5]:
        print("  " + line[:200])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=("telegram", "zalo_oa", "zalo_bot"), default="telegram")
    parser.add_argument("--embedder", choices=("shipped", "fake"), default="shipped")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1 uses Redis)")
    parser.add_argument("--inbox", choices=("sql", "redis"), default="sql", help="server.inbox")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--redis", default=REDIS_URL, help="Redis database for the server, emptied at the start")
    parser.add_argument("--rate", type=float, default=100.0, help="paced run: updates offered per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="paced run: duration")
    parser.add_argument("--burst", type=int, default=1500, help="flat-out run: number of updates")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--py-spy", type=Path, help="profile the server over the measured runs: py-spy's collapsed stacks to this file"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: the fake-embedder server
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)  # internal: the probe, with this config
    parser.add_argument("--payload", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return _serve_fake(args.serve, args.port, args.workers)
    if args.probe:
        return _probe(args.probe, args.channel, args.embedder, args.payload.read_text(encoding="utf-8"), args.out)

    load_before = _load()
    workdir = Path(tempfile.mkdtemp(prefix="hocvu-bench-webhook-"))
    try:
        return _measure(args, workdir, load_before)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
