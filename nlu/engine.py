"""The NLU seam: every engine turns a query into an intent with a confidence and entities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from errors import ServiceError
from language.query import Query

INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "help",
    "ask_question",
    "start_quiz",
    "quiz_answer",
    "next_step",
    "repeat_step",
    "previous_step",
    "show_all_steps",
    "subscribe",
    "unsubscribe",
    "change_language",
    "talk_to_volunteer",
    "feedback_positive",
    "feedback_negative",
    "progress",
    "review",
    "delete_data",
    "out_of_scope",
)


class NLUUnavailable(ServiceError):
    """An engine could not give a usable answer (down, slow, a malformed reply); the message says why.

    Callers that have another engine (nlu.fallback) catch it; anywhere else it ends the command.
    """


@dataclass(frozen=True)
class Entity:
    name: str  # "topic", "lesson", "language"
    value: str


@dataclass(frozen=True)
class IntentResult:
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    engine: str = ""

    def entity(self, name: str) -> str | None:
        return next((e.value for e in self.entities if e.name == name), None)


@runtime_checkable
class NLUEngine(Protocol):
    name: str

    def warm_up(self) -> None: ...

    def parse(self, query: Query) -> IntentResult: ...
