"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

Every answer is at least one Bot API call, so the client's own CPU per request is part of the cost of
every message. PTB's default (httpx + httpcore + anyio) spends about 1.5 ms of Python per call on this
machine, much of it scanning its connection pool; aiohttp's C-accelerated client a fraction of that
(docs/benchmarks.md). Calls without files go as JSON bodies, uploads as multipart forms. Behaviour is PTB's contract for `BaseRequest.do_request`: (status, body) for
every HTTP answer, `TimedOut` for timeouts, `NetworkError` for everything else that went wrong.

Every URL holds the bot token (`/bot<token>/method`). Redirects are not followed (the Bot API never
redirects; a redirect would carry the token to wherever it points), so a 3xx is an HTTP answer like any
other, and the errors raised name no URL: aiohttp's messages quote the URL, so the token is cut out of
them, and they are not chained, so a logged traceback does not quote aiohttp's original either.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s'\"]+")


def without_token(text: str) -> str:
    """`text` with the token cut out of every Bot API URL in it."""
    return _TOKEN_IN_PATH.sub("/bot<token>", text)


def _seconds(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connection_pool_size: int = 32,
        read_timeout: float | None = 10.0,
        write_timeout: float | None = 10.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 10.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        form: aiohttp.FormData | None = None
        body: Any = None
        if request_data is not None and files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            # A JSON body, which the Bot API takes for every call without files: json.dumps is C, where a
            # form body would percent-encode every byte of a Vietnamese answer in Python.
            body = request_data.parameters
        # aiohttp has no write timeout of its own: a request's whole time is bounded by write + read.
        read = _seconds(read_timeout, self._read_timeout)
        write = _seconds(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write,
            connect=None if connect is None or pool is None else connect + pool,  # includes waiting for the pool
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=form, json=body, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts (ServerTimeoutError, ConnectionTimeoutError) are TimeoutErrors
            raise TimedOut(without_token(f"{type(exc).__name__}: {exc}")) from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp cannot parse
            raise NetworkError(without_token(f"aiohttp.{type(exc).__name__}: {exc}")) from None
