"""Per-user flood limit: a token bucket, so short bursts pass and sustained floods are slowed down.

Transport policy (how fast a messenger user may write), not a conversation rule, so it lives with the
channels. The first message over the limit gets one polite "slow down"; later ones in the same flood
are dropped quietly, so the bot never floods back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"  # over the limit: tell the user once
    DROP = "drop"  # still over the limit, already told


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    def __init__(self, burst: int, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> Verdict:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return Verdict.PASS
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold nothing a fresh bucket would not."""
        full_after = self.burst / self.rate if self.rate else float("inf")
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]
