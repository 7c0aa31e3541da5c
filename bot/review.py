"""Spaced review with Leitner boxes: a missed question comes back tomorrow, a known one ever later."""

from __future__ import annotations

from datetime import datetime, timedelta

# Days until a card in box n (index n-1) is due again.
INTERVALS = (timedelta(days=1), timedelta(days=3), timedelta(days=7), timedelta(days=16), timedelta(days=35))
MAX_BOX = len(INTERVALS)
MASTERED_BOX = 2  # answered right at least once since the last miss


def advance(box: int | None, correct: bool, now: datetime) -> tuple[int, datetime]:
    """The card's new box and due time after an answer; `box` is None for a question never answered."""
    if not correct:
        new_box = 1
    elif box is None:
        new_box = MASTERED_BOX
    else:
        new_box = min(box + 1, MAX_BOX)
    return new_box, now + INTERVALS[new_box - 1]
