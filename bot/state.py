"""Per-user conversation state and the storage seam the core keeps it behind."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol


@dataclass(frozen=True)
class ConversationState:
    lang: str | None = None  # the language the user last wrote in or chose
    step_article: str | None = None  # the procedure open in step-by-step mode
    step_index: int = 0  # zero-based position in that procedure
    last_article: str | None = None
    recent_questions: tuple[str, ...] = field(default_factory=tuple)  # redacted, newest last
    handover: bool = False  # talking to a volunteer: text goes to the volunteers' group, not to the bot
    # The /broadcast being made (bot/broadcast_chat.py: its draft as JSON) and the typed answer it waits for.
    bcast: str | None = None
    bcast_step: str | None = None  # text | place | at | weekly
    profile_step: str | None = None  # the /profile question waiting for its answer: province | commune | age
    profile_province: int | None = None  # the province chosen, while its commune is asked
    # Procedures left open for a side question, "<article>:<step index>", newest last: "quay lại", "tiếp"
    # or "quay lại cái lúc nãy" after the side answer resumes the newest where it was.
    paused: tuple[str, ...] = field(default_factory=tuple)
    unclear: int = 0  # "chưa hiểu", "không thấy"... in a row about the open step: a person is offered at 2
    follow_up: str | None = None  # the article answered on the last turn: a short next message may be about it
    on_step: bool = False  # the last turn showed a step (not an answer, an emergency, a quiz... in between)
    on_quiz: bool = False  # the last turn showed a quiz question: what comes next is most likely its answer

    def paused_steps(self) -> list[tuple[str, int]]:
        """(article, step index) of each paused procedure, newest last."""
        found = []
        for entry in self.paused:
            article, _, index = entry.rpartition(":")
            if article and index.isdigit():
                found.append((article, int(index)))
        return found

    def with_question(self, redacted: str, keep: int = 5) -> ConversationState:
        return replace(self, recent_questions=(*self.recent_questions, redacted)[-keep:])


class StateStore(Protocol):
    """Where the core keeps conversation state between messages."""

    def load(self, channel: str, user_id: str) -> ConversationState: ...

    def save(self, channel: str, user_id: str, state: ConversationState) -> None: ...


class MemoryStateStore:
    """State kept in this process only: for one-shot questions and tests."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], ConversationState] = {}

    def load(self, channel: str, user_id: str) -> ConversationState:
        return self._states.get((channel, user_id), ConversationState())

    def save(self, channel: str, user_id: str, state: ConversationState) -> None:
        self._states[(channel, user_id)] = state
