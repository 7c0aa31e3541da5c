"""Lessons on offer: broadcasts a channel could not push, given to their user when they next write (issue #15,
with the Zalo quotas of #14).

A Zalo OA takes a message to a user only inside a window the user opens by writing (7 days; and proactive
messages count against a monthly allowance), while a reply to the user's own message is free. So a
broadcast delivery that finds no free window open is not lost: the delivery engine keeps it as an offer
(status `offered`, channels/broadcast.py), and this module decides the rest, for every channel alike:
- only channels that pull (`PULL_CHANNELS`: the Zalo OA) have offers; on a channel that can push (Telegram,
  the Zalo Bot) a delivery is sent or fails, never offered;
- an offer stands while its broadcast is sending or done: a paused broadcast's wait, a cancelled one's are
  cancelled with it (channels/broadcast_store.py);
- only to subscribers: an offer whose user no longer has a subscription the broadcast was for (any, for a
  broadcast to an explicit list) is withdrawn (cancelled, saying why) the next time they write, never shown;
  a user who blocked the assistant or left the OA never had one (the engine records them blocked);
- when the user next writes (any message, except in an emergency, a talk with a volunteer, or the deletion of
  their data), the reply also carries a notice of what is new, with the «Bài tiếp theo» button: once per
  delivery, never twice;
- «Bài tiếp theo» (the button, or typed, with or without diacritics) delivers the oldest offer as a reply:
  the text a push would have carried (a lesson: its messages, then its quiz, with the quiz's button), recorded
  as sent, pulled at that moment, so the broadcast's report counts it received; then how many are left.
The deliveries themselves are the `Offers` seam (channels/broadcast_offers.py: SQL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot import actions
from bot.learning import UserRef
from bot.messages import Button, Reply
from bot.people import People
from bot.texts import button_label, t
from knowledge_base.learning import Lesson

PULL_CHANNELS = frozenset({"zalo_oa"})  # channels whose platform takes a broadcast only as a reply to the user
UNSUBSCRIBED = "withdrawn: the user no longer subscribes to what it was sent for"


@dataclass(frozen=True)
class Offer:
    id: int  # the delivery
    broadcast_id: int
    lesson_id: str | None  # None: a free text
    topics: tuple[str, ...]  # the broadcast's segment's topics; none: any subscription will do
    text: str  # what a push would have carried, in the recipient's language
    announced: bool  # the user was told of it


class Offers(Protocol):
    """The deliveries on offer (channels/broadcast_offers.py: SQL)."""

    def waiting(self, channel: str, user_id: str) -> list[Offer]:
        """The user's offers of broadcasts still sending or done, oldest first."""
        ...

    def announce(self, ids: Sequence[int], at: datetime) -> None:
        """The user was told of these offers."""
        ...

    def pull(self, delivery_id: int, at: datetime) -> bool:
        """offered → sent, pulled `at`; False when it is no longer on offer (pulled, cancelled meanwhile)."""
        ...

    def withdraw(self, ids: Sequence[int], reason: str) -> None:
        """These offers are cancelled, with `reason`."""
        ...


def next_button(lang: str) -> Button:
    return Button(button_label("next_lesson", lang), actions.encode(actions.Verb.NEXT_LESSON))


@dataclass
class LessonOffers:
    store: Offers
    people: People
    lessons: Mapping[str, Lesson]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(tzinfo=None)  # naive UTC, as in the database

    def _open(self, user: UserRef) -> list[Offer]:
        """The user's offers that may be given them, oldest first; those they may no longer have are withdrawn."""
        if user.channel not in PULL_CHANNELS:
            return []
        offers = self.store.waiting(user.channel, user.user_id)
        if not offers:
            return []
        topics = {s.topic for s in self.people.store.subscriptions(user)}
        kept = [o for o in offers if topics and (not o.topics or topics & set(o.topics))]
        gone = [o.id for o in offers if o not in kept]
        if gone:
            self.store.withdraw(gone, UNSUBSCRIBED)
        return kept

    def notice(self, user: UserRef, lang: str) -> Reply | None:
        """What is new since the user last heard, as a line under the reply to their message; None when nothing."""
        offers = self._open(user)
        new = [o for o in offers if not o.announced]
        if not new:
            return None
        self.store.announce([o.id for o in new], self._now())
        if len(offers) > 1:
            text = t("offer_many", lang, n=len(offers))
        else:
            lesson = self.lessons.get(offers[0].lesson_id or "")
            text = t("offer_lesson", lang, title=lesson.text(lang).title) if lesson else t("offer_text", lang)
        return Reply(text=text, buttons=((next_button(lang),),))

    def pull(self, user: UserRef, lang: str) -> list[Reply] | None:
        """The oldest offer as replies, recorded as sent (pulled), then how many are left; None when none is."""
        offers = self._open(user)
        position = next((n for n, o in enumerate(offers) if self.store.pull(o.id, self._now())), None)
        if position is None:
            return None
        offer = offers[position]
        lesson = self.lessons.get(offer.lesson_id or "")
        quiz = (
            ((Button(button_label("lesson_quiz", lang), actions.encode(actions.Verb.QUIZ_START, "l", lesson.id)),),)
            if lesson is not None and lesson.quiz
            else ()
        )
        replies = [Reply(text=offer.text, buttons=quiz)]
        left = offers[position + 1 :]
        if left:
            unheard = [o.id for o in left if not o.announced]
            if unheard:  # counted here: no separate notice for them
                self.store.announce(unheard, self._now())
            replies.append(Reply(text=t("offer_left", lang, n=len(left)), buttons=((next_button(lang),),)))
        return replies
