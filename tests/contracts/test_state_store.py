"""The StateStore contract: what a message saves is what the user's next message loads, for that user only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.state import ConversationState, MemoryStateStore, StateStore
from storage.database import Database
from storage.stores import SqlStateStore
from tests.support.learning_support import migrated_database


@dataclass
class States:
    store: StateStore
    # Another store on the same backend: a restarted process or a second worker on SQL. The memory
    # store's backend is the process itself, so there it is the same store.
    reopen: Callable[[], StateStore]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def states(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[States]:
    if request.param == "memory":
        memory = MemoryStateStore()
        yield States(memory, lambda: memory)
        return
    with ExitStack() as stack:
        db = stack.enter_context(migrated_database(request.param, tmp_path))

        def reopen() -> StateStore:
            restarted = Database(db.url)
            stack.callback(restarted.dispose)
            return SqlStateStore(restarted)

        yield States(SqlStateStore(db), reopen)


def test_a_user_never_seen_starts_with_a_fresh_state(states: States) -> None:
    assert states.store.load("test", "nobody") == ConversationState()


def test_saved_state_is_what_the_next_message_loads(states: States) -> None:
    state = ConversationState(lang="en", step_article="vneid-install", step_index=2, recent_questions=("q1", "q2"))
    states.store.save("test", "alice", state)
    restarted = states.reopen()
    assert restarted.load("test", "alice") == state
    assert restarted.load("test", "bob") == ConversationState()


def test_every_field_of_the_state_is_kept(states: States) -> None:
    state = ConversationState(
        lang="vi",
        step_article="dvc-supplement-request",
        step_index=4,
        last_article="vneid-register-level1",
        recent_questions=("số [số định danh đã ẩn] của tôi", "quên mật khẩu VNeID", "làm sao nộp lại hồ sơ"),
        handover=True,
    )
    states.store.save("telegram", "123456789", state)
    loaded = states.reopen().load("telegram", "123456789")
    assert loaded == state
    assert isinstance(loaded.recent_questions, tuple)  # with_question() appends to a tuple


def test_saving_again_replaces_the_state_even_back_to_defaults(states: States) -> None:
    states.store.save("test", "alice", ConversationState(lang="en", step_article="vneid-install", handover=True))
    states.store.save("test", "alice", ConversationState(lang="vi", last_article="vneid-install"))
    assert states.reopen().load("test", "alice") == ConversationState(lang="vi", last_article="vneid-install")
    states.store.save("test", "alice", ConversationState())
    assert states.reopen().load("test", "alice") == ConversationState()


def test_users_and_channels_are_kept_apart(states: States) -> None:
    saved = {
        ("telegram", "111"): ConversationState(lang="en", handover=True),
        ("terminal", "111"): ConversationState(lang="vi", step_article="vneid-install", step_index=1),
        ("telegram", "222"): ConversationState(recent_questions=("cách đăng ký vneid",)),
    }
    for (channel, user_id), state in saved.items():
        states.store.save(channel, user_id, state)
    restarted = states.reopen()
    for (channel, user_id), state in saved.items():
        assert restarted.load(channel, user_id) == state, (channel, user_id)
    assert restarted.load("terminal", "222") == ConversationState()
