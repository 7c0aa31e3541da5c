"""A thin async client of the Zalo Bot Platform's API (aiohttp): `POST <base>/bot<TOKEN>/<method>` with a JSON
body, answered `{ok, result}` or `{ok: false, error_code, description}`.

No third-party Zalo package is fit to depend on (research notes, "Zalo"). The API's behaviour comes from
third-party copies of its documentation, so every answer is checked and an unexpected one is an error that
says what came back, never a silent success. What a failed call means (`ZaloBotError.retry`):
- the network, a timeout, HTTP 5xx or 429 (rate limits are undocumented): worth trying again, with back-off;
- anything else, among them `ok: false` with HTTP 200: that request was refused, not retried, logged with
  Zalo's description.
A send whose answer never came (a timeout after the request left) may have been delivered; it is sent again
anyway, with a log line saying it may arrive twice: losing an answer is worse for a citizen than reading it
twice, and the API takes no idempotency key.

Every URL holds the bot token, so no error message quotes a URL (channels/telegram_http.py's rule), and
redirects are not followed (a redirect would carry the token to wherever it points).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import aiohttp

from channels import metrics
from channels.telegram_http import without_token
from errors import ServiceError

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"
MAX_RETRY_AFTER = 60.0  # seconds: a longer pause asked for is cut to this (a 429's retry_after is unverified)


class ZaloBotError(ServiceError):
    """The Bot API refused a call or could not be reached; `retry` says whether trying again may help."""

    def __init__(
        self,
        method: str,
        reason: str,
        *,
        retry: bool = False,
        code: int | None = None,
        retry_after: float | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(f"Zalo Bot API {method}: {reason}")
        self.method = method
        self.retry = retry
        self.code = code
        self.retry_after = retry_after
        self.timed_out = timed_out


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(data: dict[str, Any]) -> float | None:
    parameters = data.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return min(float(value), MAX_RETRY_AFTER)
    return None


class ZaloBotApi:
    def __init__(
        self, base_url: str, token: str, *, timeout: float, max_attempts: int = 4, base_delay: float = 0.5
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._prefix = f"{self.base_url}/bot{token}/"
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ZaloBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- methods -------------------------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")

    async def get_updates(self, wait: float) -> list[dict[str, Any]]:
        """Long polling: the update Zalo had or got within `wait` seconds (one per call), or none (408)."""
        try:
            # The wait goes as a string, as the documentation copies show it.
            result = await self.call("getUpdates", {"timeout": str(int(wait))}, timeout=wait + self.timeout)
        except ZaloBotError as exc:
            if exc.code == 408:
                return []
            raise
        if result is None:
            return []
        # One update per call; a list (Telegram's shape) is taken too rather than dropped.
        updates = result if isinstance(result, list) else [result]
        return [update for update in updates if isinstance(update, dict)]

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """One text message, retried while retrying may help; raises ZaloBotError when it was not sent."""
        failures = 0
        while True:
            try:
                result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
                return result if isinstance(result, dict) else {}
            except ZaloBotError as exc:
                if not exc.retry:
                    raise
                failures += 1
                if failures >= self.max_attempts:
                    raise
                if exc.timed_out:
                    log.warning("zalo_bot: a message got no answer in time and is sent again: it may arrive twice")
                delay = exc.retry_after or self.base_delay * 2 ** (failures - 1) * (0.5 + random.random())
                log.warning("zalo_bot: %s; retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)

    # -- one call ------------------------------------------------------------------------------------

    async def call(self, method: str, body: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """One attempt at `method`; its `result`, or ZaloBotError."""
        assert self._session is not None, "start() the client first"
        limit = aiohttp.ClientTimeout(total=timeout or self.timeout)
        try:
            async with self._session.post(
                self._prefix + method, json=body or {}, timeout=limit, allow_redirects=False
            ) as answer:
                status = answer.status
                raw = await answer.read()
        except TimeoutError:
            raise ZaloBotError(method, "no answer in time", retry=True, timed_out=True) from None
        except aiohttp.ClientError as exc:  # not chained: aiohttp's message may quote the URL
            reason = without_token(f"{type(exc).__name__}: {exc}")
            raise ZaloBotError(method, f"network error ({reason})", retry=True) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise ZaloBotError(
                method,
                f"HTTP {status} with an answer that is not a JSON object",
                retry=status >= 500,
                code=status if status != 200 else None,
            )
        code = _int(data.get("error_code"))
        description = str(data.get("description") or "")[:300]
        if status == 429 or code == 429:
            metrics.RATE_LIMITED.labels(CHANNEL).inc()
            raise ZaloBotError(
                method, f"rate limited: {description}", retry=True, code=429, retry_after=_retry_after(data)
            )
        if status >= 500:
            raise ZaloBotError(method, f"HTTP {status}: {description}", retry=True, code=code)
        if data.get("ok") is True and status == 200:
            return data.get("result")
        if status == 200:
            # Zalo's refusals may come with HTTP 200: `ok` decides, never the status alone.
            raise ZaloBotError(method, f"refused with HTTP 200 (error_code {code}): {description}", code=code)
        raise ZaloBotError(method, f"HTTP {status} (error_code {code}): {description}", code=code or status)
