"""The one web app in a test: `hocvu.web.create_app` on a product built once per module, its lifespan run in
the test's event loop, its routes reached through httpx.ASGITransport (no sockets), against the fake Bot API.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from channels.runner import Runner
from channels.telegram import TelegramChannel, WebhookOptions, make_bot, register
from hocvu.app import App
from hocvu.web import Services, create_app
from tests.support.fake_telegram import TOKEN, FakeTelegram

VOLUNTEERS = -100500
WEBHOOK_URL = "https://bot.example.org/telegram/webhook"
WEBHOOK_SECRET = "s3cret-token_for-tests"


@dataclass
class Served:
    web: Starlette
    services: Services
    client: httpx.AsyncClient  # the app's routes, in process

    @property
    def channel(self) -> TelegramChannel:
        assert self.services.telegram is not None
        return self.services.telegram

    @property
    def runner(self) -> Runner:
        return self.services.runner


def served_settings(app: App, fake: FakeTelegram, data_dir: Path, *, webhook: bool, flood: tuple[int, int]) -> App:
    settings = app.settings
    telegram = dataclasses.replace(
        settings.telegram,
        base_url=fake.base_url,
        webhook_url=WEBHOOK_URL if webhook else "",
        volunteer_chat_id=VOLUNTEERS,
        volunteers=(9,),
    )
    server = dataclasses.replace(settings.server, flood_burst=flood[0], flood_per_minute=flood[1])
    secrets = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
    return dataclasses.replace(
        app,
        settings=dataclasses.replace(settings, data_dir=data_dir, telegram=telegram, server=server, secrets=secrets),
    )


@contextlib.asynccontextmanager
async def serving(
    app: App, fake: FakeTelegram, data_dir: Path, *, webhook: bool = False, flood: tuple[int, int] = (50, 600)
) -> AsyncIterator[Served]:
    """The web app with Telegram registered (as `hocvu serve` does first) and its lifespan running;
    leaving waits until every taken update is processed and its sends are out."""
    product = served_settings(app, fake, data_dir, webhook=webhook, flood=flood)
    web = create_app(product.settings, app=product, request_timeout=1.0)
    async with make_bot(TOKEN, fake.base_url, request_timeout=1.0) as bot:
        await register(bot, WebhookOptions(WEBHOOK_URL, WEBHOOK_SECRET) if webhook else None)
    async with web.router.lifespan_context(web):
        services: Services = web.state.services
        assert services.telegram is not None
        services.telegram.sender.base_delay = 0.05  # keep retry back-off short in tests
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://hocvu.test") as client:
            yield Served(web, services, client)
