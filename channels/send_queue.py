"""One send queue per user, for channels whose platform has no sender of its own (Zalo OA, Zalo Bot).

A user's messages must arrive in the order the core produced them, even when a later turn's replies are
queued before an earlier turn's were sent; users must not wait for each other. So each user's sends are
chained: a new one starts when the user's previous one ended, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from channels import metrics

log = logging.getLogger(__name__)


class UserQueues:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._tails: dict[str, asyncio.Task[None]] = {}

    def submit(self, user_id: str, send: Callable[[], Awaitable[None]], count: int) -> Awaitable[None]:
        """Queue `send` (of `count` messages) after the user's previous one; the awaitable ends when it did."""
        previous = self._tails.get(user_id)
        task = asyncio.create_task(self._after(previous, send, count), name=f"{self.channel}-send-{user_id}")
        self._tails[user_id] = task
        metrics.QUEUE_DEPTH.labels(self.channel).inc(count)

        def done(finished: asyncio.Task[None]) -> None:
            if self._tails.get(user_id) is finished:
                del self._tails[user_id]

        task.add_done_callback(done)
        return asyncio.shield(task)  # a caller that gives up waiting must not cancel the send

    async def _after(
        self, previous: asyncio.Task[None] | None, send: Callable[[], Awaitable[None]], count: int
    ) -> None:
        try:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await send()
        except Exception:  # the queue must outlive any one response
            log.exception("%s: sending to a user failed", self.channel)
        finally:
            metrics.QUEUE_DEPTH.labels(self.channel).dec(count)

    async def drain(self, grace: float) -> None:
        """Wait up to `grace` seconds for what is queued; cancel the rest, saying so."""
        tails = list(self._tails.values())
        if not tails:
            return
        _, pending = await asyncio.wait(tails, timeout=grace)
        if pending:
            log.warning("%s: stopping with messages to %d user(s) unsent", self.channel, len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
