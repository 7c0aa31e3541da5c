"""The PeopleStore on SQL: profiles on the users' rows, roles and their audit, subscriptions with consent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot import regions
from bot.learning import UserRef
from bot.people import CITIZEN, Profile, Region, Role, RoleChange, Subscribed, parse_user_key
from storage.database import Database
from storage.models import RoleChangeRow, RoleRow, Subscription, User
from storage.stores import _ensure_user, _find_user


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class SqlPeopleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- where a user lives ----------------------------------------------------------------------

    def profile(self, user: UserRef) -> Profile:
        with self.db.read() as connection:
            row = connection.execute(
                select(User.province_code, User.commune_code, User.age_band, User.profile_offered_at).where(
                    User.channel == user.channel, User.external_id == user.user_id
                )
            ).first()
        if row is None:
            return Profile()
        return Profile(row.province_code, row.commune_code, row.age_band, row.profile_offered_at is not None)

    def save_profile(self, user: UserRef, profile: Profile) -> None:
        province = regions.province(profile.province_code) if profile.province_code is not None else None
        commune = regions.commune(profile.commune_code) if profile.commune_code is not None else None
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id)
            offered = session.scalar(select(User.profile_offered_at).where(User.id == uid))
            session.execute(
                update(User)
                .where(User.id == uid)
                .values(
                    province_code=profile.province_code,
                    commune_code=profile.commune_code,
                    province=province.name if province else None,
                    commune=commune.name if commune else None,
                    age_band=profile.age_band,
                    profile_offered_at=(offered or now) if profile.offered else None,
                    updated_at=now,
                )
            )

    # -- roles -------------------------------------------------------------------------------------

    def role(self, key: str) -> Role | None:
        channel, _, external = key.partition(":")  # any channel's user may ask; only setting one checks the key
        with self.db.read() as connection:
            row = connection.execute(
                select(RoleRow).where(RoleRow.channel == channel, RoleRow.external_id == external)
            ).first()
        return _role(row) if row is not None else None

    def roles(self) -> list[Role]:
        with self.db.read() as connection:
            rows = connection.execute(select(RoleRow).order_by(RoleRow.role, RoleRow.channel, RoleRow.external_id))
            return [_role(row) for row in rows]

    def set_role(self, key: str, role: str, region: Region | None, by: str, now: datetime) -> Role | None:
        channel, external = parse_user_key(key)
        stamp = _naive(now)
        with self.db.session() as session:
            row = session.get(RoleRow, (channel, external), with_for_update=True)
            before = _role(row) if row is not None else None
            if role == CITIZEN:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(
                    RoleRow(
                        channel=channel,
                        external_id=external,
                        role=role,
                        region=region.as_json() if region else None,
                        granted_by=by,
                        granted_at=stamp,
                    )
                )
            else:
                row.role, row.region, row.granted_by, row.granted_at = (
                    role,
                    region.as_json() if region else None,
                    by,
                    stamp,
                )
            session.add(
                RoleChangeRow(
                    channel=channel,
                    external_id=external,
                    role_before=before.role if before else CITIZEN,
                    role_after=role,
                    region=region.as_json() if region else None,
                    changed_by=by,
                    changed_at=stamp,
                )
            )
            return before

    def role_changes(self, key: str | None = None) -> list[RoleChange]:
        query = select(RoleChangeRow).order_by(RoleChangeRow.id)
        if key is not None:
            channel, external = parse_user_key(key)
            query = query.where(RoleChangeRow.channel == channel, RoleChangeRow.external_id == external)
        with self.db.read() as connection:
            return [
                RoleChange(
                    f"{row.channel}:{row.external_id}",
                    row.role_before,
                    row.role_after,
                    Region.from_json(row.region),
                    row.changed_by,
                    _aware(row.changed_at),
                )
                for row in connection.execute(query)
            ]

    # -- subscriptions -----------------------------------------------------------------------------

    def subscriptions(self, user: UserRef) -> list[Subscribed]:
        with self.db.read() as connection:
            uid = _find_user(connection, user.channel, user.user_id)
            if uid is None:
                return []
            rows = connection.execute(
                select(Subscription.topic, Subscription.consented_at)
                .where(
                    Subscription.user_id == uid, Subscription.active.is_(True), Subscription.consented_at.is_not(None)
                )
                .order_by(Subscription.id)
            )
            return [Subscribed(row.topic, _aware(row.consented_at)) for row in rows]

    def subscribe(self, user: UserRef, topic: str, now: datetime) -> bool:
        try:
            return self._subscribe(user, topic, _naive(now))
        except IntegrityError:  # a double tap inserted the same (user, topic) first: subscribed already
            return False

    def _subscribe(self, user: UserRef, topic: str, stamp: datetime) -> bool:
        with self.db.session() as session:
            uid = _ensure_user(self.db, session, user.channel, user.user_id, user.display_name)
            row = session.scalar(
                select(Subscription).where(Subscription.user_id == uid, Subscription.topic == topic).with_for_update()
            )
            if row is not None and row.active and row.consented_at is not None:
                return False
            if row is None:
                session.add(Subscription(user_id=uid, topic=topic, active=True, created_at=stamp, consented_at=stamp))
            else:
                row.active, row.consented_at, row.ended_at, row.ended_by = True, stamp, None, None
            return True

    def audience(self, topics: tuple[str, ...], region: Region | None) -> list[UserRef]:
        with self.db.read() as connection:
            query = (
                select(User.channel, User.external_id)
                .join(Subscription, Subscription.user_id == User.id)
                .where(
                    Subscription.active.is_(True),
                    Subscription.consented_at.is_not(None),
                    Subscription.topic.in_(topics),
                )
                .distinct()
                .order_by(User.channel, User.external_id)
            )
            if region is not None and region.province_code is not None:
                query = query.where(User.province_code == region.province_code)
            elif region is not None:
                query = query.where(User.commune_code.in_(region.commune_codes))
            return [UserRef(row.channel, row.external_id) for row in connection.execute(query)]

    def unsubscribe(self, user: UserRef, topics: tuple[str, ...] | None, how: str, now: datetime) -> list[str]:
        with self.db.session() as session:
            uid = _find_user(session, user.channel, user.user_id)
            if uid is None:
                return []
            query = select(Subscription).where(Subscription.user_id == uid, Subscription.active.is_(True))
            if topics is not None:
                query = query.where(Subscription.topic.in_(topics))
            ended = []
            for row in session.scalars(query.order_by(Subscription.id).with_for_update()):
                row.active, row.ended_at, row.ended_by = False, _naive(now), how
                ended.append(row.topic)
            return ended


def _role(row: Any) -> Role:
    """A RoleRow, or a row of its columns."""
    return Role(
        f"{row.channel}:{row.external_id}",
        row.role,
        Region.from_json(row.region),
        row.granted_by,
        _aware(row.granted_at),
    )
