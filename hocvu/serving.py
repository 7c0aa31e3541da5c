"""Running the Telegram channel: one process, or several webhook workers sharing one listening socket.

One Python process answers at most what one core can run of the GIL-bound part of a turn (about
6 ms of the 10 ms a message costs, docs/benchmarks.md). Several workers are forked from a parent that
binds the webhook socket first, so the kernel hands each incoming connection to whichever worker
accepts it. Every worker builds its own app (model, index, database pool) after the fork: ONNX
Runtime and database connections do not survive a fork. What workers must agree on lives outside
them: processed update ids (SQL or Redis) and one turn per user at a time (Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

from channels.telegram import TelegramConfigError, WebhookOptions, serve
from embeddings.embedder import Embedder
from hocvu.config import Settings

log = logging.getLogger(__name__)

RESTART_LIMIT = 5  # a worker that keeps crashing is a bug to fix, not to restart forever


def check_workers(settings: Settings, webhook: WebhookOptions | None) -> None:
    """Refuse `telegram.workers` values that cannot work, before any model loads."""
    workers = settings.telegram.workers
    if workers < 1:
        raise TelegramConfigError(f"--workers must be 1 or more, got {workers}")
    if workers > 1 and webhook is None:
        raise TelegramConfigError("several workers need webhook mode (--webhook-url): polling has one reader")
    if workers > 1 and not settings.secrets.get("REDIS_URL"):
        raise TelegramConfigError("several workers need REDIS_URL: they take turns per user through Redis")


def run_telegram(
    settings: Settings,
    webhook: WebhookOptions | None,
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> int:
    """Serve Telegram with `telegram.workers` processes until SIGINT or SIGTERM.

    `embedder` replaces the configured one (benchmarks).
    """
    check_workers(settings, webhook)
    workers = settings.telegram.workers
    if workers == 1:
        _serve_one(settings, webhook, None, announce=True, embedder=embedder, progress=progress)
        return 0
    assert webhook is not None  # check_workers
    import tornado.netutil

    sockets = tornado.netutil.bind_sockets(webhook.port, webhook.listen)
    try:
        return run_workers(
            workers,
            lambda index: _serve_one(
                settings, webhook, sockets, announce=index == 0, embedder=embedder, progress=False
            ),
        )
    finally:
        for listening in sockets:
            listening.close()


def _serve_one(
    settings: Settings,
    webhook: WebhookOptions | None,
    sockets: list[socket.socket] | None,
    *,
    announce: bool,
    embedder: Embedder | None,
    progress: bool,
) -> int:
    from hocvu.app import build_app, build_telegram

    channel, application = build_telegram(
        build_app(settings, embedder=embedder, progress=progress), polling=webhook is None
    )

    async def run() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await serve(channel, application, stop, webhook, sockets=sockets, announce=announce)

    asyncio.run(run())
    return 0


def run_workers(count: int, work: Callable[[int], int]) -> int:
    """Fork `count` processes running work(index); restart one that crashes; stop all on SIGINT/SIGTERM.

    Returns 0 when the workers were asked to stop and did, 1 when they could not be kept running.
    """
    children: dict[int, int] = {}  # pid -> worker index
    stopping = False
    failed = False

    def stop_all(signum: int, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = work(index)
            except BaseException:
                log.exception("telegram worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index

    previous = {signum: signal.signal(signum, stop_all) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(count):
            start(index)
        log.info("telegram: %d webhook workers started (pids %s)", count, ", ".join(map(str, children)))
        restarts = 0
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = children.pop(pid, -1)
            if index < 0 or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if restarts < RESTART_LIMIT:
                restarts += 1
                log.error("telegram worker %d (pid %d) exited with %s; restarting it", index, pid, code)
                time.sleep(1.0)
                start(index)
            else:
                log.error("telegram worker %d exited with %s after %d restarts; stopping", index, code, restarts)
                failed = True
                stop_all(signal.SIGTERM)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 1 if failed else 0
