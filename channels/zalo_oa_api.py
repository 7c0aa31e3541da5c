"""A thin async client of the Zalo OA API v3 (aiohttp): consultation messages, with Zalo's errors classified.

No third-party Zalo package is fit to depend on (research notes, "Zalo"). Zalo answers errors in the body
(`error` non-zero, `message`), often with HTTP 200, so the status alone never means success. What each
error code asks of us (`Kind`):
- RETRY: rate limited (-32), an attachment expired (-100), or the network / a 5xx: again, with back-off;
- TOKEN: the access token is invalid (-216) or expired (-220): refresh it, then try once more;
- USER: Zalo will not deliver to this user now (not following, blocked, quota, window closed, ...): never
  retried, recorded on the user by the channel;
- CONFIG: the OA or app is disabled, missing, unverified or not allowed this API: nothing will work until
  an operator acts, so the channel stops sending and says so;
- REFUSED: this request was wrong (a parameter, a type, a limit): not retried, logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
from enum import Enum
from typing import Any

import aiohttp

from channels.zalo_oa_auth import ZaloTokens
from errors import ServiceError

log = logging.getLogger(__name__)

SEND_PATH = "/v3.0/oa/message/cs"


class Kind(Enum):
    RETRY = "retry"
    TOKEN = "token"
    USER = "user"
    CONFIG = "config"
    REFUSED = "refused"


_KINDS: dict[int, Kind] = {
    **dict.fromkeys((-32, -100), Kind.RETRY),
    **dict.fromkeys((-216, -220), Kind.TOKEN),
    **dict.fromkeys((-213, -217, -218, -227, -230, -232, -234, -244), Kind.USER),
    **dict.fromkeys((-204, -205, -209, -212, -219, -221, -223, -224, -242), Kind.CONFIG),
}
# Codes a message with buttons may get when Zalo does not take buttons on /message/cs (unverified which).
TEMPLATE_CODES = frozenset({-201, -233, -240})


def kind_of(code: int) -> Kind:
    return _KINDS.get(code, Kind.REFUSED)


class ZaloApiError(ServiceError):
    """Zalo refused a call, or could not be reached; `kind` says what the channel does about it."""

    def __init__(self, code: int, message: str, kind: Kind) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message
        self.kind = kind


class ZaloOaApi:
    def __init__(
        self,
        base_url: str,
        tokens: ZaloTokens,
        *,
        timeout: float,
        max_attempts: int = 4,
        base_delay: float = 0.5,
    ) -> None:
        self.url = base_url.rstrip("/") + SEND_PATH
        self.tokens = tokens
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

    async def send(self, recipient: dict[str, str], message: dict[str, Any]) -> dict[str, Any]:
        """Send one message; returns Zalo's `data`. Raises ZaloApiError when Zalo refused it for good."""
        token = await self.tokens.access_token()
        refreshed = False
        failures = 0
        while True:
            try:
                return await self._post(token, {"recipient": recipient, "message": message})
            except ZaloApiError as exc:
                if exc.kind is Kind.TOKEN and not refreshed:
                    log.warning("zalo_oa: %s; refreshing the token and trying once more", exc)
                    token = await self.tokens.refresh(token)
                    refreshed = True
                    continue
                if exc.kind is not Kind.RETRY:
                    raise
                failures += 1
                if failures >= self.max_attempts:
                    raise
                reason: str = str(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures += 1
                if failures >= self.max_attempts:
                    raise ZaloApiError(
                        0, f"no answer after {failures} attempts ({type(exc).__name__})", Kind.RETRY
                    ) from exc
                reason = f"{type(exc).__name__} {exc}"
            delay = self.base_delay * 2 ** (failures - 1) * (0.5 + random.random())
            log.warning("zalo_oa: %s; retrying in %.2f s", reason, delay)
            await asyncio.sleep(delay)

    async def _post(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._session is not None, "start() the client first"
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with self._session.post(self.url, json=body, headers={"access_token": token}, timeout=timeout) as answer:
            if answer.status >= 500:
                raise aiohttp.ClientResponseError(
                    answer.request_info, answer.history, status=answer.status, message="server error"
                )
            try:
                data = await answer.json(content_type=None)
            except ValueError:
                raise ZaloApiError(0, f"HTTP {answer.status} with a body that is not JSON", Kind.REFUSED) from None
        if not isinstance(data, dict):
            raise ZaloApiError(0, f"HTTP {answer.status} with an answer that is not a JSON object", Kind.REFUSED)
        code = data.get("error", 0)
        if not isinstance(code, int):
            try:
                code = int(code)
            except (TypeError, ValueError):
                raise ZaloApiError(0, f"an answer with error {code!r}", Kind.REFUSED) from None
        if code != 0:
            raise ZaloApiError(code, str(data.get("message", "")), kind_of(code))
        if answer.status != 200:
            raise ZaloApiError(0, f"HTTP {answer.status} without an error code", Kind.REFUSED)
        result = data.get("data")
        return result if isinstance(result, dict) else {}
