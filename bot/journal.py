"""The record of each conversation turn: what the product measures. Only redacted text gets here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("hocvu.turns")


@dataclass(frozen=True)
class LoggedTurn:
    channel: str
    user_id: str
    redacted_text: str
    lang: str
    intent: str | None
    article_id: str | None
    fallback: bool
    score: float
    latency_ms: float
    warnings: tuple[str, ...] = ()


class Journal(Protocol):
    def record(self, turn: LoggedTurn) -> None: ...


class LoggingJournal:
    """Writes turns to the application log (the embedded default, with no database)."""

    def record(self, turn: LoggedTurn) -> None:
        log.info(
            "turn channel=%s intent=%s article=%s fallback=%s score=%.3f latency_ms=%.1f text=%r",
            turn.channel,
            turn.intent,
            turn.article_id,
            turn.fallback,
            turn.score,
            turn.latency_ms,
            turn.redacted_text,
        )
