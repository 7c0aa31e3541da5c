"""Broadcast deliveries to Zalo OA followers through the channel's client (channels/zalo_oa_api.py) and
what the channel knows of each follower (channels/zalo_oa_store.py), under Zalo's rules:

- a user who never wrote to the OA is not sent to: failed, with that reason;
- no free window open: a user whose last interaction is older than the send window (7 days: Zalo answers
  -230), the month's allowance used up, or Zalo answering -230 / -232 (window closed; recorded on the user
  like every refusal, until they write) → the outcome is `pull_only`, with that reason: the engine keeps the delivery as an offer, which the core gives the user
  when they next write (bot/offers.py: the notice, «Bài tiếp theo», the lesson as a reply to their message).
  This sender only says that Zalo would not take the push; what is offered, when, and what pulling does are
  the core's;
- a user who unfollowed, or whom Zalo refused before, is blocked;
- every broadcast message is proactive (it replies to no message of the user), so it counts against
  `zalo_oa.monthly_allowance` once (at its first attempt);
- Zalo's answers: a user refusal (-213 not following, -217 blocked, ...) → blocked, recorded on the user;
  the night window (-234) → pending until the next morning's attempt; rate (-32), 5xx and connections that
  could not be made → pending after a back-off; a timeout after the request left, or an answer that is not
  JSON → uncertain; a configuration error of the OA → pending for long (an operator must act; it fails
  after the attempts); other refusals → failed with Zalo's message.
The client is used with a single attempt (`max_attempts=1`): the engine, not the client, decides retries,
so a request that may have been delivered is never sent again without the operator.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp

from channels.broadcast_store import BLOCKED, FAILED, PENDING, SENT, UNCERTAIN, Due, Outcome
from channels.zalo_oa_api import Kind, ZaloApiError, ZaloOaApi
from channels.zalo_oa_store import ZaloOaStore, now

BLOCKING_CODES = frozenset({-213, -217, -227, -244})  # not following, blocked, banned or inactive, restricted
WINDOW_CLOSED = frozenset({-230, -232})  # only a reply to the user's next message can reach them
NIGHT = -234


class ZaloOaBroadcastSender:
    channel = "zalo_oa"

    def __init__(
        self,
        api: ZaloOaApi,
        store: ZaloOaStore,
        *,
        monthly_allowance: int = 0,
        send_window: timedelta = timedelta(days=7),
    ) -> None:
        api.max_attempts = 1
        self.api = api
        self.store = store
        self.monthly_allowance = monthly_allowance
        self.send_window = send_window

    async def start(self) -> None:
        await self.api.start()

    async def close(self) -> None:
        await self.api.close()

    async def send(self, due: Due) -> Outcome:
        follower = await asyncio.to_thread(self.store.follower, due.user_id)
        if follower is None:
            return Outcome(FAILED, error="the user never wrote to the OA: Zalo allows no message to them")
        if follower.unreachable_reason:
            return Outcome(BLOCKED, error=f"unreachable on Zalo ({follower.unreachable_reason})")
        if now() - follower.last_interaction_at > self.send_window:
            return Outcome(
                FAILED,
                error=f"Zalo's window is closed: no interaction for over {self.send_window.days} days",
                pull_only=True,
            )
        first = due.attempts == 0  # a delivery counts once against the allowance, whatever its retries
        if first and not await asyncio.to_thread(self.store.take_proactive, self.monthly_allowance):
            return Outcome(
                FAILED,
                error="this month's allowance of Zalo messages is used up (zalo_oa.monthly_allowance)",
                pull_only=True,
            )
        try:
            data = await self.api.send({"user_id": due.user_id}, {"text": due.text})
        except ZaloApiError as exc:
            return await self._refused(due, exc)
        return Outcome(SENT, message_id=str(data.get("message_id") or "") or None)

    async def _refused(self, due: Due, exc: ZaloApiError) -> Outcome:
        cause = exc.__cause__
        if exc.kind is Kind.USER:
            if exc.code == NIGHT:
                return Outcome(PENDING, error=str(exc), retry_in=3600.0, refund=True)
            await asyncio.to_thread(self.store.unreachable, due.user_id, f"zalo error {exc.code}")
            if exc.code in WINDOW_CLOSED:
                return Outcome(FAILED, error=str(exc), pull_only=True)
            return Outcome(BLOCKED if exc.code in BLOCKING_CODES else FAILED, error=str(exc))
        if exc.kind is Kind.RETRY:
            if cause is None:  # Zalo answered: rate (-32), an expired attachment
                return Outcome(PENDING, error=str(exc), retry_in=1.0, pause_all=1.0 if exc.code == -32 else 0.0)
            if isinstance(cause, aiohttp.ClientResponseError):  # a 5xx: Zalo answered it did not take it
                return Outcome(PENDING, error=f"Zalo answered HTTP {cause.status}")
            if isinstance(cause, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):  # did not leave
                return Outcome(PENDING, error=f"could not connect to Zalo ({type(cause).__name__})")
            return Outcome(UNCERTAIN, error=f"no answer from Zalo after the request was sent ({type(cause).__name__})")
        if exc.kind in (Kind.TOKEN, Kind.CONFIG):  # an operator must act; it fails after the attempts
            return Outcome(PENDING, error=str(exc))
        if exc.code == 0:  # an answer that is not Zalo's: it may have been delivered
            return Outcome(UNCERTAIN, error=str(exc))
        return Outcome(FAILED, error=str(exc))
