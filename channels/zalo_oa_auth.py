"""The OA's OAuth v4 token pair: kept in the database, refreshed before it expires, by one worker at a time.

Zalo's refresh token is single-use: a refresh kills the old pair, so two workers refreshing at once would
leave one of them (and, if its answer is the one stored, everyone) with a dead pair. The refresh therefore
runs inside a transaction that holds the account row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write
lock, BEGIN IMMEDIATE, on SQLite), rechecks whether another worker refreshed meanwhile, and stores the new
pair in that same transaction. An OAuth answer with an `error` field is a failure even with HTTP 200; a
failed refresh is logged loudly and the old pair kept (the access token may still be valid for hours).

The transaction holds the row while the OAuth server answers (at most `timeout` seconds): a refresh happens
about once a day, and nothing else writes that row.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from channels.zalo_oa_store import now
from errors import ConfigError, ServiceError
from storage.database import Database
from storage.models import ZaloOaAccount

log = logging.getLogger(__name__)

TOKEN_PATH = "/v4/oa/access_token"
PERMISSION_PATH = "/v4/oa/permission"
DEFAULT_LIFETIME = 90000  # seconds: Zalo's documented access token life (25 h), when its answer omits it
RETRY_REFRESH = timedelta(seconds=60)  # after a failed refresh, sends go on with the old token this long


class OAuthFailure(ServiceError):
    """The OAuth server refused a refresh or an authorisation code, or could not be reached."""


@dataclass(frozen=True)
class Consent:
    """One authorisation attempt (PKCE, S256): the page an OA admin opens, and what must come back."""

    url: str
    verifier: str  # stays here; only its hash (the challenge) is in the URL
    state: str


def consent(oauth_base_url: str, app_id: str, redirect_uri: str) -> Consent:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(
        {"app_id": app_id, "redirect_uri": redirect_uri, "code_challenge": challenge, "state": state}
    )
    return Consent(f"{oauth_base_url.rstrip('/')}{PERMISSION_PATH}?{query}", verifier, state)


def code_from(answer: str, state: str) -> str:
    """The authorisation code from what the admin pasted: the address Zalo sent them to, or the code alone.
    An address whose state is not ours came from another attempt (or someone else): refused."""
    answer = answer.strip()
    if "code=" not in answer:
        if not answer:
            raise OAuthFailure("no authorisation code was given")
        return answer
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer).query or answer.split("?", 1)[-1])
    code = (query.get("code") or [""])[0]
    if not code:
        raise OAuthFailure("the address has no code")
    if (query.get("state") or [""])[0] != state:
        raise OAuthFailure("the address's state is not this attempt's: open the new consent address and try again")
    return code


@dataclass(frozen=True)
class Pair:
    access_token: str
    expires_at: datetime  # naive UTC


class ZaloTokens:
    def __init__(
        self,
        db: Database,
        app_id: str,
        app_secret: str,
        oauth_base_url: str,
        *,
        margin: float,
        timeout: float,
    ) -> None:
        self.db = db
        self.app_id = app_id
        self.app_secret = app_secret
        self.url = oauth_base_url.rstrip("/") + TOKEN_PATH
        self.margin = timedelta(seconds=margin)
        self.timeout = timeout
        self._pair: Pair | None = None
        self._lock = asyncio.Lock()  # one refresh at a time in this process; the row lock does it across
        self._next_try = datetime.min

    def seed(self, access_token: str, refresh_token: str) -> bool:
        """Store a first pair (from the environment) unless the database has one: once refreshed, the
        environment's refresh token is dead, so the stored pair always wins. True when stored."""
        with self.db.session() as session:
            if session.get(ZaloOaAccount, self.app_id) is not None:
                return False
            # The access token's age is unknown: taken as expired, so the first send refreshes the pair.
            session.add(
                ZaloOaAccount(
                    app_id=self.app_id,
                    access_token=access_token,
                    refresh_token=refresh_token,
                    access_expires_at=now(),
                )
            )
        return True

    def _due(self, pair: Pair | None) -> bool:
        if pair is None:
            return True
        return pair.expires_at - now() <= self.margin and now() >= self._next_try

    def has_pair(self) -> bool:
        with self.db.read() as connection:
            found = connection.scalar(select(ZaloOaAccount.app_id).where(ZaloOaAccount.app_id == self.app_id))
        return found is not None

    async def access_token(self) -> str:
        """A token to send with, refreshed first when it expires within the margin."""
        pair = self._pair
        if self._due(pair):
            async with self._lock:
                pair = self._pair
                if self._due(pair):
                    self._pair = pair = await asyncio.to_thread(self._refresh, None)
                    if pair.expires_at - now() <= self.margin:  # the refresh failed: not again at every send
                        self._next_try = now() + RETRY_REFRESH
        assert pair is not None
        return pair.access_token

    async def refresh(self, failed: str) -> str:
        """Zalo called `failed` invalid or expired: a new token, unless another worker already replaced it."""
        async with self._lock:
            pair = self._pair
            if pair is None or pair.access_token == failed:
                self._pair = pair = await asyncio.to_thread(self._refresh, failed)
        return pair.access_token

    def _refresh(self, failed: str | None) -> Pair:
        with self.db.session() as session:
            row = session.execute(
                select(ZaloOaAccount).where(ZaloOaAccount.app_id == self.app_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise ConfigError(
                    "the Zalo OA has no token pair: set ZALO_OA_REFRESH_TOKEN (and ZALO_OA_ACCESS_TOKEN) "
                    "from the OA's authorisation (docs/zalo.md)"
                )
            current = Pair(row.access_token, row.access_expires_at)
            if failed is not None and row.access_token != failed:
                return current  # another worker refreshed after our token failed
            if failed is None and current.expires_at - now() > self.margin:
                return current  # another worker refreshed while we waited for the row
            try:
                access, refresh, lifetime = self._call(
                    {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": row.refresh_token}
                )
            except OAuthFailure as exc:
                log.error(
                    "ZALO OA TOKEN REFRESH FAILED: %s. Keeping the old pair (access token valid until %s UTC); "
                    "if this repeats, authorise the OA again (docs/zalo.md)",
                    exc,
                    row.access_expires_at.isoformat(timespec="seconds"),
                )
                if failed is not None:  # the old token was refused: there is nothing to keep using
                    return Pair(row.access_token, now())
                return current
            row.access_token = access
            row.refresh_token = refresh
            row.access_expires_at = now() + timedelta(seconds=lifetime)
            row.refreshed_at = now()
            log.info("zalo_oa: token pair refreshed; the access token is valid for %d s", lifetime)
            return Pair(access, row.access_expires_at)

    def authorise(self, code: str, verifier: str) -> int:
        """Exchange an authorisation code for a pair and store it, replacing any; the access token's lifetime."""
        access, refresh, lifetime = self._call(
            {"app_id": self.app_id, "grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        )
        with self.db.session() as session:
            row = session.execute(
                select(ZaloOaAccount).where(ZaloOaAccount.app_id == self.app_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                row = ZaloOaAccount(app_id=self.app_id)
                session.add(row)
            row.access_token = access
            row.refresh_token = refresh
            row.access_expires_at = now() + timedelta(seconds=lifetime)
            row.refreshed_at = now()
        return lifetime

    def _call(self, fields: dict[str, str]) -> tuple[str, str, int]:
        form = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            self.url,
            data=form,
            method="POST",
            headers={"secret_key": self.app_secret, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = answer.read()
        except urllib.error.HTTPError as exc:
            raise OAuthFailure(f"HTTP {exc.code} from the OAuth server") from None
        except (OSError, TimeoutError) as exc:
            # The refresh may have happened at Zalo and its answer been lost: then the stored pair is dead.
            raise OAuthFailure(f"the OAuth server could not be reached or did not answer ({exc})") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise OAuthFailure("the OAuth server's answer is not JSON") from None
        if not isinstance(data, dict):
            raise OAuthFailure("the OAuth server's answer is not a JSON object")
        if data.get("error") not in (None, 0, "0"):  # Zalo reports some OAuth errors with HTTP 200
            raise OAuthFailure(
                f"OAuth error {data.get('error')}: {data.get('error_description') or data.get('error_name') or ''}"
            )
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise OAuthFailure("the OAuth server's answer has no access_token and refresh_token")
        try:
            lifetime = int(float(str(data.get("expires_in", DEFAULT_LIFETIME))))  # sent as a string: "90000"
        except ValueError:
            log.warning(
                "zalo_oa: expires_in %r is not a number; assuming %d s", data.get("expires_in"), DEFAULT_LIFETIME
            )
            lifetime = DEFAULT_LIFETIME
        return access, refresh, lifetime
