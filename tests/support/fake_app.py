"""The product wired with the deterministic FakeEmbedder: real content, fast to build, for channel tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hocvu.app import App, build_app
from hocvu.config import Settings, TelegramSettings
from tests.support.fakes import FakeEmbedder


def build_fake_app(settings: Settings, data_dir: Path, *, volunteer_chat_id: int | None = -100500) -> App:
    telegram = dataclasses.replace(settings.telegram, volunteer_chat_id=volunteer_chat_id)
    return build_app(
        dataclasses.replace(settings, data_dir=data_dir, telegram=telegram),
        embedder=FakeEmbedder(),
    )


__all__ = ["TelegramSettings", "build_fake_app"]
