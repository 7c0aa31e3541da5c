"""A primary NLU engine with a fallback: the user never sees the primary's failure.

Used with Rasa as the primary and the embedded engine as the fallback. Each fallback is counted and
logged. After a failure the primary is left alone for `retry_after` seconds, so a Rasa that is down or
slow costs one timeout, not one per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from language.query import Query
from nlu.engine import IntentResult, NLUEngine, NLUUnavailable

log = logging.getLogger(__name__)


class FallbackEngine:
    def __init__(
        self,
        primary: NLUEngine,
        fallback: NLUEngine,
        *,
        retry_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"
        self.retry_after = retry_after
        self.fallbacks = 0  # messages answered by the fallback engine
        self.last_error: str | None = None
        self._clock = clock
        self._skip_until = 0.0
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.fallback.warm_up()  # the fallback must be ready before the primary can fail
        try:
            self.primary.warm_up()
        except NLUUnavailable as exc:
            log.warning(
                "NLU engine %s is not ready (%s); using %s until it is", self.primary.name, exc, self.fallback.name
            )

    def parse(self, query: Query) -> IntentResult:
        if self._clock() >= self._skip_until:
            try:
                return self.primary.parse(query)
            except NLUUnavailable as exc:
                reason = str(exc)
            except Exception as exc:  # a bug in the primary must not become the user's problem either
                log.exception("NLU engine %s failed", self.primary.name)
                reason = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._skip_until = self._clock() + self.retry_after
                self.last_error = reason
            log.warning(
                "NLU engine %s unavailable (%s); answering with %s, retrying in %.0f s",
                self.primary.name,
                reason,
                self.fallback.name,
                self.retry_after,
            )
        with self._lock:
            self.fallbacks += 1
        return self.fallback.parse(query)
