"""The one web app: every channel's webhook, health, readiness and metrics are routes of one Starlette app.

`hocvu serve` runs it under uvicorn (`--workers N` are uvicorn's own worker processes); in production,
gunicorn with uvicorn workers runs `hocvu.web:create_app` the same way (README). Each process builds the
components once, in the lifespan: the model and index (App), the runner, and each configured channel.

Routes:
- `POST <telegram.webhook_path>`: Telegram's webhook, when a webhook URL is configured (otherwise the
  lifespan polls Telegram instead, in one process);
- `POST <zalo_oa.webhook_path>`: the Zalo OA's webhook, when ZALO_APP_ID and ZALO_OA_SECRET_KEY are set;
- `POST <zalo_bot.webhook_path>`: the Zalo Bot's webhook, when ZALO_BOT_TOKEN and a webhook URL are set
  (otherwise the lifespan polls the Bot API instead, in one process);
- `GET /healthz`: the process lives (200 as soon as it serves HTTP);
- `GET /readyz`: the model is loaded, the database answers and, where configured, Redis; 503 naming what
  is not ready otherwise; a channel stopped by a configuration error from its platform is named under
  "stopped" (and in the metric hocvu_channel_stopped) without making the process unready;
- `GET /metrics`: Prometheus text (channels/metrics.py).
Bodies over 1 MB are refused with 413 before any route reads them.

Broadcasts: on the embedded default (SQLite, one web worker) the lifespan also runs the delivery engine's
in-process loop on the app's database (`broadcast.deliver_in_serve`, on by default); at shutdown it stops
claiming rows and the sends under way finish, so none is left `sending`. On PostgreSQL, or with several web
workers, `hocvu serve` never delivers: `hocvu worker` does, and the log says so at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from channels import metrics, zalo_bot, zalo_oa
from channels.runner import Runner
from channels.telegram import TelegramChannel, webhook
from channels.zalo_bot import ZaloBotChannel
from channels.zalo_oa import ZaloOaChannel
from embeddings.embedder import Embedder
from errors import ConfigError
from hocvu.app import App, build_app, build_runner, build_telegram, build_zalo_bot, build_zalo_oa, zalo_bot_webhook
from hocvu.config import Settings, load_settings

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # Telegram's updates are a few KB; nothing legitimate comes near this
# The event loop (webhooks, sends) shares the GIL with the core threads, whose Python runs for milliseconds at
# a time: at CPython's default 5 ms switch interval an arriving webhook waits up to that long per hand-over.
# 0.5 ms keeps the loop responsive at a small cost to the core threads (docs/benchmarks.md, "Telegram").
SWITCH_INTERVAL = 0.0005


@dataclass
class Services:
    """What the lifespan built, for the routes."""

    app: App
    runner: Runner
    telegram: TelegramChannel | None = None
    zalo_oa: ZaloOaChannel | None = None
    zalo_bot: ZaloBotChannel | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def create_app(
    settings: Settings | None = None,
    *,
    app: App | None = None,
    embedder: Embedder | None = None,
    request_timeout: float = 10.0,
) -> Starlette:
    """The ASGI application. Without `settings` (a uvicorn or gunicorn worker process), the configuration
    comes from HOCVU_CONFIG and the environment, and logging is set up here. `app` is a product built
    already (tests, benchmarks); `embedder` replaces the configured one."""
    if settings is None:
        from hocvu.cli import setup_logging

        settings = load_settings()
        setup_logging(settings, verbose=False)
    config = settings
    telegram_on = bool(config.secrets.get("TELEGRAM_BOT_TOKEN"))
    webhook_on = telegram_on and bool(config.telegram.webhook_url)
    zalo_oa_on = config.zalo_oa_on
    zalo_bot_on = config.zalo_bot_on
    zalo_bot_hook = zalo_bot_webhook(config) if zalo_bot_on else None  # a bad secret is refused here, at once

    @contextlib.asynccontextmanager
    async def lifespan(web: Starlette) -> AsyncIterator[None]:
        product: App = app if app is not None else await asyncio.to_thread(build_app, config, embedder=embedder)
        runner = build_runner(product)
        services = Services(product, runner)
        async with contextlib.AsyncExitStack() as stack:
            # For the whole process, which serves; restored at the end for a process that goes on (tests).
            stack.callback(sys.setswitchinterval, sys.getswitchinterval())
            sys.setswitchinterval(SWITCH_INTERVAL)
            if telegram_on:
                services.telegram = build_telegram(product, runner, request_timeout=request_timeout)
                await services.telegram.start()
                # Last: sends what the runner queued, for up to the grace again.
                stack.push_async_callback(services.telegram.close, config.server.shutdown_grace)
            if zalo_oa_on:  # after Telegram: its volunteers' group is the desk Zalo users reach too
                services.zalo_oa = build_zalo_oa(product, runner)
                await services.zalo_oa.start()
                stack.push_async_callback(services.zalo_oa.close, config.server.shutdown_grace)
            if zalo_bot_on:  # after Telegram too, for the same desk
                services.zalo_bot = build_zalo_bot(product, runner)
                await services.zalo_bot.start()
                stack.push_async_callback(services.zalo_bot.close, config.server.shutdown_grace)
            await runner.start()
            stack.push_async_callback(runner.stop, config.server.shutdown_grace)
            delivery = _start_delivery(config, product)
            if delivery is not None:  # before the channels close, after the pollers stop
                stack.push_async_callback(_stop_delivery, *delivery)
            if services.telegram is not None and not webhook_on:
                services.tasks.append(asyncio.create_task(services.telegram.poll(runner), name="telegram-poll"))
            if services.zalo_bot is not None and zalo_bot_hook is None:
                services.tasks.append(asyncio.create_task(services.zalo_bot.poll(runner), name="zalo-bot-poll"))
            stack.push_async_callback(_cancel, services.tasks)  # first: no new events while the runner stops
            web.state.services = services
            log.info("serving: %s", ", ".join(_describe(config, services)) or "no channel")
            yield

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_route, methods=["GET"]),
    ]
    if webhook_on:
        secret = config.secrets.get("TELEGRAM_WEBHOOK_SECRET", "").encode()

        async def telegram_webhook(request: Request) -> Response:
            return await webhook(request, request.app.state.services.runner, secret)

        routes.append(Route(config.telegram.webhook_path, telegram_webhook, methods=["POST"]))
    if zalo_oa_on:
        app_id = config.secrets["ZALO_APP_ID"]
        secret_key = config.secrets["ZALO_OA_SECRET_KEY"].encode()
        window = config.zalo_oa.timestamp_window

        async def zalo_oa_webhook(request: Request) -> Response:
            return await zalo_oa.webhook(
                request, request.app.state.services.runner, app_id=app_id, secret_key=secret_key, window=window
            )

        routes.append(Route(config.zalo_oa.webhook_path, zalo_oa_webhook, methods=["POST"]))
    if zalo_bot_hook is not None:
        bot_secret = zalo_bot_hook.secret.encode()

        async def zalo_bot_webhook_route(request: Request) -> Response:
            return await zalo_bot.webhook(request, request.app.state.services.runner, bot_secret)

        routes.append(Route(config.zalo_bot.webhook_path, zalo_bot_webhook_route, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan, max_body_size=MAX_BODY)


def _describe(settings: Settings, services: Services) -> list[str]:
    described = []
    if services.telegram is not None:
        if settings.telegram.webhook_url:
            described.append(f"telegram webhook on {settings.telegram.webhook_path}")
        else:
            described.append("telegram long polling")
    if services.zalo_oa is not None:
        described.append(f"zalo_oa webhook on {settings.zalo_oa.webhook_path}")
    if services.zalo_bot is not None:
        if settings.zalo_bot.webhook_url:
            described.append(f"zalo_bot webhook on {settings.zalo_bot.webhook_path}")
        else:
            described.append("zalo_bot long polling")
    return described


def delivery_refused(settings: Settings, product: App) -> str | None:
    """Why this process must not deliver broadcasts (a log line for the operator), or None when it may."""
    if not settings.broadcast.deliver_in_serve:
        return "broadcasts are not delivered by `hocvu serve` (broadcast.deliver_in_serve is off): run `hocvu worker`"
    if product.database is None:
        return "broadcasts are not delivered by `hocvu serve` without a database"
    if not product.database.is_sqlite:
        return (
            "broadcasts are not delivered by `hocvu serve` on PostgreSQL: run `hocvu worker` (procrastinate, REDIS_URL)"
        )
    if settings.server.workers > 1:
        return (
            f"broadcasts are not delivered by `hocvu serve` with {settings.server.workers} web workers "
            "(each would deliver): run one `hocvu worker`"
        )
    return None


def _start_delivery(settings: Settings, product: App) -> tuple[asyncio.Event, asyncio.Task[None]] | None:
    from hocvu.broadcast_cli import can_deliver

    if not can_deliver(settings):
        return None  # no channel the engine sends to: nothing to say
    refused = delivery_refused(settings, product)
    if refused is not None:
        log.info("%s", refused)
        return None
    from channels.broadcast_worker import run_embedded
    from hocvu.broadcast_cli import worker_config

    assert product.database is not None
    try:
        config, database = worker_config(settings), product.database
    except ConfigError as exc:  # serving goes on; the operator sees why nothing is delivered
        log.error("broadcasts are not delivered by `hocvu serve`: %s", exc)
        return None
    stop = asyncio.Event()

    async def deliver() -> None:
        try:
            await run_embedded(config, database, stop)
        except Exception:  # serving goes on: the operator can still run `hocvu worker`
            log.exception("broadcast: delivery inside hocvu serve stopped")

    return stop, asyncio.create_task(deliver(), name="broadcast-delivery")


async def _stop_delivery(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()  # no new claim; the sends under way finish (within a request's timeout)
    await task


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"ready": False, "reason": "starting: the model is loading"}, status_code=503)
    problems = await asyncio.to_thread(_problems, services.app)
    if problems:
        return JSONResponse({"ready": False, "reason": "; ".join(problems)}, status_code=503)
    # A channel stopped by a configuration error is named, but the process stays ready: it still serves the
    # other channels, and every worker has the same error, so a 503 would only take those down too.
    if services.zalo_oa is not None and services.zalo_oa.stopped:
        return JSONResponse({"ready": True, "stopped": {"zalo_oa": services.zalo_oa.stopped}})
    return JSONResponse({"ready": True})


def _problems(app: App) -> list[str]:
    problems: list[str] = []
    if app.database is not None:
        try:
            with app.database.read() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            # The answer goes to whoever can reach the port the public webhooks share: it names no host, user
            # or database; the log (the operator's) does.
            log.warning("readyz: the database is unreachable (%s): %s", app.database.safe_url, type(exc).__name__)
            problems.append(f"database unreachable: {type(exc).__name__}")
    redis_url = app.settings.secrets.get("REDIS_URL")
    if redis_url and (app.settings.server.workers > 1 or app.settings.server.inbox == "redis"):
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0).ping()
        except Exception as exc:
            problems.append(f"Redis unreachable: {type(exc).__name__}")
    return problems


async def metrics_route(request: Request) -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
