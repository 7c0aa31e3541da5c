"""Broadcast deliveries to Zalo Bot users through the channel's client (channels/zalo_bot_api.py), each
answer classified into an Outcome (channels/broadcast.py), as for Telegram and the Zalo OA:

- `{ok: true, result}` → sent, with its message id;
- 429 (HTTP or `error_code`) → pending after `retry_after` (1 s when Zalo names none), this row only, every
  sender paused as long; the attempt does not count (the Bot API's rate limits are undocumented);
- 403 → blocked: the Bot API is shaped like Telegram's, where 403 means the user blocked the bot (Zalo's
  own documentation copies do not say; the description is kept as the reason);
- 401 → pending for a minute: the bot token was refused, an operator must act (it fails after the attempts);
- other refusals (`ok: false`, HTTP 4xx: a chat that does not exist, a text it refuses) → failed, with
  Zalo's description;
- HTTP 5xx, and a connection that could not be made (the request never left) → pending after a back-off;
- a timeout after the request left, a connection lost before the answer, or a 200 whose body is not the
  API's JSON → uncertain: Zalo may have delivered it, and sends take no idempotency key.
One attempt per send (`ZaloBotApi.call`, not `send_message`, which retries on its own): the engine, not the
client, decides retries, so a request that may have been delivered is never sent again without the operator.
"""

from __future__ import annotations

from channels.broadcast_store import BLOCKED, FAILED, PENDING, SENT, UNCERTAIN, Due, Outcome
from channels.zalo_bot_api import ZaloBotApi, ZaloBotError

# aiohttp's errors for a connection that was never made (ZaloBotApi names the type in its message).
_NOT_SENT = ("ClientConnector", "ConnectionTimeoutError")


class ZaloBotBroadcastSender:
    channel = "zalo_bot"

    def __init__(self, api: ZaloBotApi) -> None:
        self.api = api

    async def start(self) -> None:
        await self.api.start()

    async def close(self) -> None:
        await self.api.close()

    async def send(self, due: Due) -> Outcome:
        try:
            result = await self.api.call("sendMessage", {"chat_id": due.user_id, "text": due.text})
        except ZaloBotError as exc:
            return _refused(exc)
        if not isinstance(result, dict):  # ok: true without the message: delivered, by Zalo's word
            return Outcome(SENT)
        message_id = result.get("message_id")
        return Outcome(SENT, message_id=str(message_id)[:64] if message_id is not None else None)


def _refused(exc: ZaloBotError) -> Outcome:
    reason = str(exc)
    if exc.code == 429:
        pause = exc.retry_after or 1.0
        return Outcome(PENDING, error="429 Too Many Requests", retry_in=pause, refund=True, pause_all=pause)
    if exc.timed_out:
        return Outcome(UNCERTAIN, error=f"no answer in time after the request was sent ({reason})")
    if exc.retry:
        if (exc.code or 0) >= 500 or "HTTP 5" in reason:  # Zalo answered it did not take it
            return Outcome(PENDING, error=reason)
        if any(name in reason for name in _NOT_SENT):
            return Outcome(PENDING, error=f"could not connect: {reason}")
        return Outcome(UNCERTAIN, error=f"the connection broke before the answer ({reason})")
    if exc.code == 403:
        return Outcome(BLOCKED, error=reason)
    if exc.code == 401:
        return Outcome(PENDING, error=f"the bot token was refused: {reason}", retry_in=60.0)
    if exc.code is None and "not a JSON object" in reason:  # a 200 that is not the API's: it may have arrived
        return Outcome(UNCERTAIN, error=f"an answer that is not the Bot API's ({reason})")
    return Outcome(FAILED, error=reason)
