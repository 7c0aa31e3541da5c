"""One message's way through the core: what the guard made of it, what was decided, and the reply it builds.

Handlers (bot/handlers.py) read the turn and change its state or language; `Turn.reply` is the one place a
`Response` is built, so the guard's warnings, the redacted text and the replies that must come first (the
sensitive-data warning, "your message was cut") are never forgotten by a handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.actions import Action
from bot.learning import UserRef
from bot.messages import Handover, Reply, Response, UserMessage
from bot.state import ConversationState
from knowledge_base.retriever import SearchResult
from language.normalize import NormalizedText
from language.query import Query
from nlu.engine import IntentResult


@dataclass
class Turn:
    message: UserMessage
    state: ConversationState
    lang: str  # the language to answer in
    text: str = ""  # the guarded text: secrets replaced by placeholders, cut to the longest question kept
    redacted: str = ""  # the only form of the message that may be logged or stored
    normalized: NormalizedText | None = None
    prefix: list[Reply] = field(default_factory=list)  # replies that come before the answer
    warnings: list[str] = field(default_factory=list)
    args: tuple[str, ...] = ()  # a command's words after its name
    action: Action | None = None  # a pressed button
    intent: IntentResult | None = None  # the NLU's reading of the text
    query: Query | None = None
    after: str | None = None  # the article answered on the previous turn: a short message may follow up on it
    after_step: bool = False  # the previous turn showed a step: "quay lại" then means the step before it
    after_quiz: bool = False  # the previous turn showed a quiz question
    result: SearchResult | None = None  # retrieval's, when a step before the last one needed it

    @property
    def user(self) -> UserRef:
        return UserRef(self.message.channel, self.message.user_id, self.message.display_name)

    def update(self, **changes: Any) -> None:
        """Change the conversation state saved after this turn."""
        self.state = replace(self.state, **changes)

    def reply(
        self,
        replies: Iterable[Reply],
        *,
        intent: str | None,
        topic: str | None = None,
        article_id: str | None = None,
        score: float = 0.0,
        fallback: bool = False,
        ranking: tuple[str, ...] = (),
        handover: Handover | None = None,
        forget_user: bool = False,
    ) -> Response:
        return Response(
            [*self.prefix, *replies],
            self.lang,
            intent=intent,
            topic=topic,
            article_id=article_id,
            score=score,
            fallback=fallback,
            warnings=list(self.warnings),
            redacted_text=self.redacted,
            ranking=ranking,
            handover=handover,
            forget_user=forget_user,
        )
