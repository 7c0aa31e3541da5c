"""People: where a user lives, who may do what (roles), what they subscribed to, and when they may be written to.

The core talks to a PeopleStore; storage/people_store.py implements it on SQL. What the broadcast step and the
delivery engine ask of it is here, as plain functions:
- `may_reach(volunteer, profile)`: whether a volunteer's region covers a user;
- `next_allowed_send(now, quiet)`: the first moment outside quiet hours (21:00-07:00 Asia/Ho_Chi_Minh by default).

A user is named by their key "<channel>:<id>" (`telegram:123456`, `zalo_oa:8461...`) wherever an operator types it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import regions
from bot.learning import UserRef
from errors import InputError

AGE_BANDS = ("u40", "40_59", "60p")  # under 40, 40 to 59, 60 and over: reports on the elderly need no more
CITIZEN, VOLUNTEER, ADMIN = "citizen", "volunteer", "admin"
ROLES = (CITIZEN, VOLUNTEER, ADMIN)
EVERYONE = "everyone"  # a command's audience (bot/routes.py) when any user, whatever the role, may use it
CHANNELS = ("telegram", "zalo_oa", "zalo_bot", "terminal")
# How a subscription ended: the user's /unsubscribe, a stop word ("DỪNG", "HỦY", "STOP"), or their data deleted.
ENDED_UNSUBSCRIBE, ENDED_STOP_WORD = "unsubscribe", "stop_word"


class PeopleError(InputError):
    """Bad input from an operator or an admin (an unknown commune, a malformed user key): its text says what."""


@dataclass(frozen=True)
class Profile:
    province_code: int | None = None
    commune_code: int | None = None
    age_band: str | None = None  # one of AGE_BANDS
    offered: bool = False  # the first-use offer was shown (answered or skipped): never shown again

    @property
    def empty(self) -> bool:
        return self.province_code is None and self.commune_code is None and self.age_band is None


@dataclass(frozen=True)
class Region:
    """What a volunteer may reach: a whole province, or a list of communes (of any provinces)."""

    province_code: int | None = None
    commune_codes: tuple[int, ...] = ()

    def covers(self, profile: Profile) -> bool:
        if self.province_code is not None:
            return profile.province_code == self.province_code
        return profile.commune_code is not None and profile.commune_code in self.commune_codes

    def as_json(self) -> dict[str, object]:
        return {"province": self.province_code, "communes": list(self.commune_codes)}

    @classmethod
    def from_json(cls, data: object) -> Region | None:
        if not isinstance(data, dict):
            return None
        province = data.get("province")
        communes = data.get("communes") or []
        return cls(int(province) if province is not None else None, tuple(int(c) for c in communes))

    def describe(self) -> str:
        if self.province_code is not None:
            found = regions.province(self.province_code)
            return found.name if found else str(self.province_code)
        names = []
        for code in self.commune_codes:
            unit = regions.commune(code)
            province = regions.province(unit.province_code) if unit else None
            names.append(f"{unit.name} ({province.short if province else '?'})" if unit else str(code))
        return ", ".join(names)


@dataclass(frozen=True)
class Role:
    key: str  # "<channel>:<id>"
    role: str  # one of ROLES
    region: Region | None  # volunteers only
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True)
class RoleChange:
    key: str
    before: str
    after: str
    region: Region | None
    changed_by: str  # "cli:<operator>", "config", or the admin's user key
    changed_at: datetime


@dataclass(frozen=True)
class Subscribed:
    topic: str
    consented_at: datetime  # when the user explicitly opted in


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(7, 0)
    zone: str = "Asia/Ho_Chi_Minh"


def parse_clock(text: str) -> time:
    """ "21:00" → 21:00; PeopleError naming the value otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise PeopleError(f"{text!r} is not a time of day like 21:00") from None


def next_allowed_send(now: datetime, quiet: QuietHours) -> datetime:
    """The first moment at or after `now` (aware, any zone) outside quiet hours, in `now`'s zone.

    Quiet hours may span midnight (21:00-07:00) or not (12:00-13:30); start == end means none.
    """
    if now.tzinfo is None:
        raise ValueError("next_allowed_send needs an aware datetime")
    zone = ZoneInfo(quiet.zone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start == quiet.end:
        return now
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = local.date()
    else:  # spans midnight
        inside = clock >= quiet.start or clock < quiet.end
        end_day = local.date() + timedelta(days=1) if clock >= quiet.start else local.date()
    if not inside:
        return now
    allowed = datetime.combine(end_day, quiet.end, tzinfo=zone)
    return allowed.astimezone(now.tzinfo)


def user_key(user: UserRef) -> str:
    return f"{user.channel}:{user.user_id}"


def parse_user_key(text: str) -> tuple[str, str]:
    """ "telegram:123" → ("telegram", "123"); PeopleError naming what is wrong otherwise."""
    channel, _, external = text.strip().partition(":")
    if channel not in CHANNELS or not external or len(external) > 128 or any(ch.isspace() for ch in external):
        raise PeopleError(
            f"{text[:80]!r} is not a user key: write <channel>:<id> with a channel among {', '.join(CHANNELS)}, "
            "e.g. telegram:123456789"
        )
    return channel, external


def parse_region(province: str | None, communes: list[str]) -> Region:
    """A volunteer's region from an operator's words: a province name, or commune names each with its province
    ("Hoàn Kiếm, Hà Nội") or alone when unique in the country. PeopleError names what does not exist."""
    if province and communes:
        raise PeopleError("give a province or a list of communes, not both")
    if province is not None:
        if not province.strip():
            raise PeopleError("the province is empty")
        found = regions.find_provinces(province)
        exact = [p for p in found if regions.key(p.short) == regions.key(province)]
        if len(exact) == 1 or len(found) == 1:
            return Region(province_code=(exact or found)[0].code)
        if not found:
            raise PeopleError(f"no province is named {province[:80]!r} (34 provinces since 1 July 2025)")
        raise PeopleError(f"{province[:80]!r} may be {', '.join(p.short for p in found)}: write one of them")
    if not communes:
        raise PeopleError("a volunteer needs a region: a province or at least one commune")
    codes: list[int] = []
    for text in communes:
        codes.append(_one_commune(text))
    return Region(commune_codes=tuple(dict.fromkeys(codes)))


def _one_commune(text: str) -> int:
    name, _, where = text.partition(",")
    if not name.strip():
        raise PeopleError("a commune name is empty")
    if where.strip():
        provinces = regions.find_provinces(where)
        if not provinces:
            raise PeopleError(f"no province is named {where.strip()[:80]!r} (in {text.strip()[:120]!r})")
        found = regions.find_communes(name, provinces[0].code)
        exact = [c for c in found if regions.key(c.name) == regions.key(name)]
        if not found:
            raise PeopleError(f"{provinces[0].short} has no commune or ward named {name.strip()[:80]!r}")
        if len(exact) == 1 or len(found) == 1:
            return (exact or found)[0].code
        raise PeopleError(f"{name.strip()[:80]!r} in {provinces[0].short} may be {', '.join(c.name for c in found)}")
    found = regions.find_commune_anywhere(name)
    exact = [c for c in found if regions.key(c.name) == regions.key(name)]
    if not found:
        raise PeopleError(f"no commune or ward is named {name.strip()[:80]!r}")
    if len(exact or found) == 1:
        return (exact or found)[0].code
    where_ = ", ".join(f"{c.name} ({_province_short(c.province_code)})" for c in (exact or found)[:5])
    raise PeopleError(
        f"{name.strip()[:80]!r} is the name of several: {where_}; add its province, e.g. '{name.strip()}, Ha Noi'"
    )


def _province_short(code: int) -> str:
    found = regions.province(code)
    return found.short if found else str(code)


def may_reach(volunteer: Role | None, profile: Profile) -> bool:
    """Whether a broadcast by this person may reach a user with this profile: admins reach everyone, a
    volunteer only users whose province or commune is in their region, anyone else nobody."""
    if volunteer is None:
        return False
    if volunteer.role == ADMIN:
        return True
    if volunteer.role != VOLUNTEER or volunteer.region is None:
        return False
    return volunteer.region.covers(profile)


class PeopleStore(Protocol):
    def profile(self, user: UserRef) -> Profile: ...

    def save_profile(self, user: UserRef, profile: Profile) -> None:
        """Replace the user's profile (codes; the names are stored beside them for reading the database)."""
        ...

    def role(self, key: str) -> Role | None: ...

    def roles(self) -> list[Role]: ...

    def set_role(self, key: str, role: str, region: Region | None, by: str, now: datetime) -> Role | None:
        """Make `key` `role` (CITIZEN removes the role) and record the change with who made it and when.
        Returns the role before."""
        ...

    def role_changes(self, key: str | None = None) -> list[RoleChange]: ...

    def subscriptions(self, user: UserRef) -> list[Subscribed]:
        """The user's active subscriptions, in the order they were first made; only those with a consent (a row
        from before consent was stored is not an opt-in)."""
        ...

    def subscribe(self, user: UserRef, topic: str, now: datetime) -> bool:
        """Opt in to `topic` with consent stamped `now`; False when already subscribed."""
        ...

    def unsubscribe(self, user: UserRef, topics: tuple[str, ...] | None, how: str, now: datetime) -> list[str]:
        """End the subscriptions to `topics` (None: all); the topics that were ended."""
        ...

    def audience(self, topics: tuple[str, ...], region: Region | None) -> list[UserRef]:
        """Users with an active subscription to any of `topics` whose place is in `region` (None: everyone, for
        admins): the same rule as `may_reach`, as one query, for the broadcast step."""
        ...


@dataclass
class People:
    """Roles from configuration and the store, and the quiet hours: what handlers and the CLI share."""

    store: PeopleStore
    admins: frozenset[str] = frozenset()  # user keys from config.yml (people.admins)
    quiet: QuietHours = field(default_factory=QuietHours)

    def role_of(self, key: str) -> Role | None:
        stored = self.store.role(key)
        if key in self.admins:
            return Role(key, ADMIN, None, "config", stored.granted_at if stored else datetime.min)
        return stored

    def is_admin(self, key: str) -> bool:
        role = self.role_of(key)
        return role is not None and role.role == ADMIN

    def next_send_time(self, user: UserRef, now: datetime) -> datetime:
        """When a broadcast may next be delivered to `user`: `now`, or the end of quiet hours.

        Per user so that a user's own quiet hours or zone can come later without changing callers."""
        return next_allowed_send(now, self.quiet)
