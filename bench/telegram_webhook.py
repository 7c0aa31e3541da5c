"""Telegram webhook benchmark: updates per second and reply latency, end to end over real HTTP.

The bot runs in its own process (`--workers N`: a parent and N worker processes), started by
`hocvu.serving.run_telegram` as `hocvu serve telegram --webhook-url` starts it (SQLite state; the update
ledger in SQLite, or in Redis at $REDIS_URL with several workers), with its Bot API base URL pointed at
the fake Bot API (tests/support/fake_telegram.py), which runs in this process. This process posts updates to the webhook
(each from a different user, with the secret header) and times each one from the POST to the
sendMessage that answers it arriving at the fake API.

`--embedder shipped` (default) answers with the configured model (config.yml); `--embedder fake` swaps in the
deterministic FakeEmbedder to measure what the channel itself costs, whatever the model's speed.

Two runs:
- paced: updates offered at a fixed rate (default 100/s) for a fixed time: the latency a user sees at
  that load;
- flat out: as many updates as the bot can take (64 in flight): the sustained capacity.

CPU per update is read from /proc over the two measured runs, for the bot (all its processes) and for
this process (load generator and fake API), which share the machine.

    .venv/bin/python -m bench.telegram_webhook [--embedder shipped|fake] [--workers 1] [--rate 100] [--seconds 20] [--burst 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from channels.telegram import WebhookOptions  # noqa: E402
from tests.support.fake_telegram import TOKEN, FakeTelegram, Request  # noqa: E402

SECRET = "bench-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _questions() -> list[str]:
    items = yaml.safe_load((REPO / "knowledge_base" / "eval" / "test.yml").read_text(encoding="utf-8"))
    return [item["q"] for item in items]


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) so far of this process, or of a child by pid with its workers (Linux /proc)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(_cpu_seconds(int(child)) for child in children)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Arrivals:
    """The time each chat's first answer reached the fake Bot API."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.first: dict[int, float] = {}
        self._lock = threading.Lock()
        fake.on_request(self._seen)

    def _seen(self, request: Request) -> None:
        if request.method == "sendMessage" and request.params.get("_status") == 200:
            chat = int(request.params["chat_id"])
            with self._lock:
                self.first.setdefault(chat, request.at)


async def _post(client: aiohttp.ClientSession, url: str, update: dict[str, Any], sent: dict[int, float]) -> None:
    chat = update["message"]["chat"]["id"]
    sent[chat] = time.monotonic()
    async with client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
        response.raise_for_status()


async def _wait_answers(arrivals: Arrivals, chats: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(c not in arrivals.first for c in chats):
        await asyncio.sleep(0.02)


async def _run(
    fake: FakeTelegram,
    arrivals: Arrivals,
    url: str,
    questions: list[str],
    first_chat: int,
    count: int,
    rate: float | None,
) -> dict[str, float]:
    updates = [fake.message(first_chat + i, questions[i % len(questions)]) for i in range(count)]
    chats = [u["message"]["chat"]["id"] for u in updates]
    sent: dict[int, float] = {}
    # aiohttp: the load generator shares the machine with the bot, so it should cost as little as it can.
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        started = time.monotonic()
        if rate is not None:  # open loop: offered load independent of how fast the bot answers
            tasks = []
            for i, update in enumerate(updates):
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_post(client, url, update, sent)))
            await asyncio.gather(*tasks)
        else:
            gate = asyncio.Semaphore(64)

            async def bounded(update: dict[str, Any]) -> None:
                async with gate:
                    await _post(client, url, update, sent)
                    chat = update["message"]["chat"]["id"]
                    while chat not in arrivals.first:  # one in flight per slot until answered
                        await asyncio.sleep(0.002)

            await asyncio.gather(*(bounded(u) for u in updates))
        await _wait_answers(arrivals, chats, timeout=60)
    answered = [c for c in chats if c in arrivals.first]
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
    }


def _serve_bot(config: Path, embedder: str, port: int) -> int:
    """The bot: the product's app and Telegram channel, run as `hocvu serve telegram --webhook-url` runs them."""
    from hocvu.config import load_settings
    from hocvu.serving import run_telegram
    from tests.support.fakes import FakeEmbedder

    settings = load_settings(config)
    webhook = WebhookOptions("https://bench.invalid/telegram/webhook", SECRET, port=port)
    fake = FakeEmbedder() if embedder == "fake" else None
    return run_telegram(settings, webhook, embedder=fake)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", choices=("shipped", "fake"), default="shipped")
    parser.add_argument("--bot", help=argparse.SUPPRESS)  # internal: run the bot process with this config
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=100.0, help="paced run: updates offered per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="paced run: duration")
    parser.add_argument("--burst", type=int, default=1500, help="flat-out run: number of updates")
    parser.add_argument(
        "--workers", type=int, default=1, help="webhook worker processes (more than 1 uses Redis at $REDIS_URL)"
    )
    args = parser.parse_args()
    if args.bot:
        return _serve_bot(Path(args.bot), args.embedder, args.port)

    workdir = Path(tempfile.mkdtemp(prefix="hocvu-bench-tg-"))
    for cache in ("index", "nlu", "models"):  # reuse what was built for the repository's content (keyed by hash)
        if (REPO / "var" / cache).is_dir():
            shutil.copytree(REPO / "var" / cache, workdir / cache)
    port = _free_port()
    with FakeTelegram() as fake:
        config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
        config["data_dir"] = str(workdir)
        config["content_dir"] = str(REPO / "knowledge_base")
        for key, value in (config.get("nlu") or {}).items():  # relative paths are relative to the config file
            if key.endswith("_data") and isinstance(value, str):
                config["nlu"][key] = str(REPO / value)
        config.setdefault("telegram", {})
        config["telegram"].update(
            {"base_url": fake.base_url, "flood_burst": 8, "flood_per_minute": 20, "workers": args.workers}
        )
        if args.workers > 1:
            config["telegram"]["dedupe"] = "redis"
        config["logging"] = {"level": "WARNING"}
        (workdir / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "HF_HUB_OFFLINE": "1"}
        env.pop("DATABASE_URL", None)
        env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
        bot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.telegram_webhook",
                "--bot",
                str(workdir / "config.yml"),
                "--embedder",
                args.embedder,
                "--port",
                str(port),
            ],
            cwd=REPO,
            env=env,
            stderr=open(workdir / "bot.log", "w"),  # noqa: SIM115
        )
        try:
            fake.wait_for(lambda: bool(fake.calls("setWebhook")) or bot.poll() is not None, timeout=300)
            if bot.poll() is not None:
                print((workdir / "bot.log").read_text(), file=sys.stderr)
                return 1
            arrivals = Arrivals(fake)
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            questions = _questions()
            asyncio.run(_run(fake, arrivals, url, questions, 10_000_000, 50, 20.0))  # warm-up
            cpu_before = _cpu_seconds(bot.pid), _cpu_seconds()
            paced = asyncio.run(
                _run(fake, arrivals, url, questions, 20_000_000, int(args.rate * args.seconds), args.rate)
            )
            flat = asyncio.run(_run(fake, arrivals, url, questions, 30_000_000, args.burst, None))
            measured = paced["answered"] + flat["answered"]
            bot_cpu = (_cpu_seconds(bot.pid) - cpu_before[0]) / measured
            driver_cpu = (_cpu_seconds() - cpu_before[1]) / measured
            sends = fake.calls("sendMessage")
            failed = sum(1 for r in sends if r.params.get("_status") != 200)
            answered = len(arrivals.first)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
        problems = [
            line for line in (workdir / "bot.log").read_text().splitlines() if "WARNING" in line or "ERROR" in line
        ]
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}; embedder: {args.embedder}")
    for name, result in (("paced", paced), ("flat out", flat)):
        print(
            f"{name:9s}: {result['answered']}/{result['updates']} answered in {result['seconds']:.1f} s = "
            f"{result['per_second']:.0f} updates/s; latency p50 {result['p50_ms']:.0f} ms, "
            f"p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms"
        )
    print(
        f"CPU per update during the measured runs: bot process {bot_cpu * 1000:.1f} ms; "
        f"load generator and fake API {driver_cpu * 1000:.1f} ms"
    )
    print(
        f"sendMessage requests: {len(sends)} for {answered} answered chats, {failed} refused; bot log: {len(problems)} warnings/errors"
    )
    for line in problems[:5]:
        print("  " + line[:200])
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
