"""Sending to Telegram: one ordered queue per chat, 429-aware, retrying transient errors.

Each chat has its own queue and worker task, so a 429 `retry_after` pauses only the chat it is about
(PTB's AIORateLimiter pauses every request after one 429 and does not retry). Messages to one chat
keep their order. A 403 means the user blocked the bot: the queue is dropped and the block recorded.
A message Telegram cannot parse as HTML is sent again as plain text, so formatting never loses a reply.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from channels import metrics
from channels.telegram_render import Outgoing

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 300.0  # a longer pause than this is treated as a failure rather than a hang


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass
class _Job:
    message: Outgoing
    reply_to: int | None
    future: asyncio.Future[Message | None] = field(repr=False)


class ChatSender:
    def __init__(
        self,
        bot: Bot,
        *,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        max_in_flight: int = 32,
    ) -> None:
        self.bot = bot
        self.on_blocked = on_blocked
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._queues: dict[int, deque[_Job]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        # httpcore scans every waiting request against every connection on each release, so hundreds of
        # chats queueing on the pool at once cost more CPU than the sends; wait here instead, for free.
        self._in_flight = asyncio.Semaphore(max_in_flight)

    def submit(self, chat_id: int, message: Outgoing, *, reply_to: int | None = None) -> asyncio.Future[Message | None]:
        """Queue a message; the future gives the sent Message, or None when it could not be delivered."""
        future: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(chat_id, deque()).append(_Job(message, reply_to, future))
        metrics.QUEUE_DEPTH.labels("telegram").inc()
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id), name=f"telegram-send-{chat_id}")
        return future

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every queued message has been sent or given up on; after `timeout` seconds, give up on
        the rest (their events were not marked done, so they stay in the inbox for the next start)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            _, pending = await asyncio.wait(list(self._workers.values()), timeout=left)
            if pending and deadline is not None and loop.time() >= deadline:
                log.warning("stopping with messages to %d chat(s) unsent", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                job = queue.popleft()
                metrics.QUEUE_DEPTH.labels("telegram").dec()
                try:
                    result = await self._deliver(chat_id, job)
                except asyncio.CancelledError:
                    job.future.cancel()
                    raise
                except Forbidden:
                    log.info("chat %s blocked the bot; dropping %d queued message(s)", chat_id, len(queue) + 1)
                    metrics.SENDS.labels("telegram", "blocked").inc(len(queue) + 1)
                    metrics.QUEUE_DEPTH.labels("telegram").dec(len(queue))
                    for dropped in (job, *queue):
                        if not dropped.future.done():
                            dropped.future.set_result(None)
                    queue.clear()
                    if self.on_blocked is not None:
                        await self.on_blocked(chat_id)
                    break
                except Exception as exc:  # the worker must outlive any one message
                    log.exception("sending to chat %s failed", chat_id)
                    metrics.SENDS.labels("telegram", "failed").inc()
                    if not job.future.done():
                        job.future.set_exception(exc)
                    continue
                metrics.SENDS.labels("telegram", "sent" if result is not None else "failed").inc()
                if not job.future.done():
                    job.future.set_result(result)
        finally:
            # No await between the loop's last check and here, so no job can slip in unseen.
            for job in queue:  # only when cancelled at a stop
                if not job.future.done():
                    job.future.cancel()
            metrics.QUEUE_DEPTH.labels("telegram").dec(len(queue))
            del self._queues[chat_id]
            del self._workers[chat_id]

    async def _deliver(self, chat_id: int, job: _Job) -> Message | None:
        plain = False
        reply_to = job.reply_to
        failures = 0
        while True:
            try:
                async with self._in_flight:
                    return await self._send_once(chat_id, job.message, plain=plain, reply_to=reply_to)
            except RetryAfter as exc:
                metrics.RATE_LIMITED.labels("telegram").inc()
                pause = retry_after_seconds(exc)
                if pause > MAX_RETRY_AFTER:
                    log.error("chat %s: Telegram asked to wait %.0f s; giving up on this message", chat_id, pause)
                    return None
                log.warning("chat %s: flood control, waiting %.1f s", chat_id, pause)
                await asyncio.sleep(pause)
            except Forbidden:
                raise
            except ChatMigrated as exc:
                log.error("chat %s became supergroup %s: update the configuration", chat_id, exc.new_chat_id)
                return None
            except BadRequest as exc:
                reason = str(exc).lower()
                if not plain and job.message.photo is None and "parse" in reason:
                    log.warning("chat %s: HTML rejected (%s); sending plain text", chat_id, exc)
                    plain = True
                elif reply_to is not None and "repl" in reason:
                    reply_to = None
                else:
                    log.error("chat %s: Telegram refused a message: %s", chat_id, exc)
                    return None
            except NetworkError as exc:  # timeouts, 5xx, connection errors: worth another try
                failures += 1
                if failures >= self.max_attempts:
                    log.error("chat %s: giving up after %d attempts: %s", chat_id, failures, exc)
                    return None
                delay = self.base_delay * 2 ** (failures - 1) * (0.5 + random.random())
                log.warning("chat %s: %s; retrying in %.2f s", chat_id, exc, delay)
                await asyncio.sleep(delay)
            except TelegramError as exc:
                log.error("chat %s: %s", chat_id, exc)
                return None

    async def _send_once(self, chat_id: int, message: Outgoing, *, plain: bool, reply_to: int | None) -> Message:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
        if message.photo is not None:
            return await self.bot.send_photo(chat_id, message.photo, reply_parameters=reply)
        return await self.bot.send_message(
            chat_id,
            message.plain if plain else message.html,
            parse_mode=None if plain else ParseMode.HTML,
            reply_markup=message.keyboard,
            reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
