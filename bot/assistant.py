"""The conversation core: one channel-neutral message in, channel-neutral replies out.

Order matters (`Assistant._route`): the sensitive-data guard runs first, so nothing downstream (NLU,
retrieval, state, journal, logs) ever sees a secret. Buttons and slash commands bypass NLU; NLU intents
below the confidence threshold fall through to retrieval instead of triggering a wrong action. Which
handler takes a command, a button or an intent is listed in bot/routes.py.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from bot import actions, broadcast_chat, handlers, handover, routes
from bot.broadcasts import BroadcastDesk
from bot.guard import scan, without_redactions
from bot.journal import Journal, LoggedTurn, LoggingJournal
from bot.learning import UserRef
from bot.messages import Reply, Response, UserMessage
from bot.offers import LessonOffers
from bot.people import CITIZEN, People, user_key
from bot.state import ConversationState, StateStore
from bot.stats_chat import Stats
from bot.texts import secret_names, t
from bot.turn import Turn
from bot.tutor import Tutor
from embeddings.embedder import Embedder
from knowledge_base.articles import KnowledgeBase
from knowledge_base.retriever import Retriever
from language.normalize import NormalizedText, normalize, sentence_lang
from language.query import Query
from nlu.engine import IntentResult, NLUEngine

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000


class Assistant:
    def __init__(
        self,
        kb: KnowledgeBase,
        retriever: Retriever,
        embedder: Embedder,
        nlu: NLUEngine,
        states: StateStore,
        *,
        default_lang: str,
        intent_threshold: float,
        journal: Journal | None = None,
        handover_channels: frozenset[str] = frozenset(),
        tutor: Tutor | None = None,
        broadcasts: BroadcastDesk | None = None,
        stats: Stats | None = None,
        people: People | None = None,
        contacts: tuple[str, ...] = (),
        brief_answers: bool = True,
        offers: LessonOffers | None = None,
    ) -> None:
        self.kb = kb
        self.retriever = retriever
        self.embedder = embedder
        self.nlu = nlu
        self.states = states
        self.journal = journal or LoggingJournal()
        self.default_lang = default_lang
        self.intent_threshold = intent_threshold
        self.handover_channels = handover_channels  # channels with a volunteers' group behind them
        self.tutor = tutor  # quizzes, review, progress, certificates; None where nothing is stored
        self.broadcasts = broadcasts  # volunteers' /broadcast and admins' approvals; None where nothing is stored
        self.stats = stats  # volunteers' and admins' /stats; None where nothing is stored
        self.people = people  # where users live, roles, subscriptions; None where nothing is stored
        self.contacts = contacts  # local people who help in person (config.yml contacts), when no volunteer can
        self.offers = offers  # broadcasts a channel could not push, pulled by their users; None where nothing is stored
        # The first answer to a question is short, its steps and full text a tap away; a one-shot answer
        # (`hocvu ask`), which has no next tap, is the full text.
        self.brief_answers = brief_answers

    # -- entry point -------------------------------------------------------------------------------

    def handle(self, message: UserMessage) -> Response:
        started = time.perf_counter()
        if message.display_name:  # a profile name is user text too: it reaches the volunteers and the database
            message = dataclasses.replace(message, display_name=scan(message.display_name, limit=200).text)
        state = self.states.load(message.channel, message.user_id)
        # What the last turn showed (an answer, a step) matters to this turn only.
        fresh = dataclasses.replace(state, follow_up=None, on_step=False, on_quiz=False)
        turn = Turn(message, fresh, self.reply_lang(state, message))
        turn.after, turn.after_step, turn.after_quiz = state.follow_up, state.on_step, state.on_quiz
        try:
            response = self._route(turn)
            state = dataclasses.replace(turn.state, on_quiz=_asks_quiz_question(response))
        except Exception:
            log.exception("failed to handle a message on %s", message.channel)
            lang = state.lang or self.default_lang
            response = Response([Reply(text=t("internal_error", lang))], lang, warnings=["internal_error"])
        else:
            if response.intent == "greet" and self.tutor is not None:  # a returning user: offer what is due
                offer = self.tutor.nudge(UserRef(message.channel, message.user_id), response.lang)
                if offer is not None:
                    response.replies.append(offer)
            if self.offers is not None and _may_offer(response, state):  # a lesson its channel could not push
                notice = self.offers.notice(UserRef(message.channel, message.user_id), response.lang)
                if notice is not None:
                    response.replies.append(notice)
            if not response.forget_user:
                self.states.save(message.channel, message.user_id, state)
        self.journal.record(
            LoggedTurn(
                message.channel,
                "" if response.forget_user else message.user_id,
                response.redacted_text,
                response.lang,
                response.intent,
                response.article_id,
                response.fallback,
                response.score,
                (time.perf_counter() - started) * 1000,
                tuple(response.warnings),
            )
        )
        return response

    def reply_lang(self, state: ConversationState, message: UserMessage, text: NormalizedText | None = None) -> str:
        """The language of the reply: the one rule, for every message, command and button.

        1. A real sentence (`language.normalize.sentence_lang`: three words or more, clearly one language)
           is answered in its language, which becomes the user's language: a Vietnamese user who writes
           "how do I reset my password" gets English, an English user who writes "quên mật khẩu" Vietnamese.
        2. Anything shorter or ambiguous ("ok", "help", "B", "1", a lesson id, a command, a button) is
           answered in the user's stored language: chosen with /lang, or the last sentence's, or the first
           message's.
        3. With nothing stored (a first message): the language the text shows at all, else the client's
           language, else the default.
        `text` is None for commands and buttons: a command word says nothing about the language.
        """
        if text is not None and (written := sentence_lang(text.original)) is not None:
            return written
        if state.lang:
            return state.lang
        if text is not None and not text.is_empty:
            return text.lang  # detected with the client's language (below) as the default
        hint = (message.language_hint or "").split("-")[0].lower()
        return hint if hint in ("vi", "en") else self.default_lang

    def confident(self, intent: IntentResult) -> bool:
        return intent.confidence >= self.intent_threshold

    def commands(self, user: UserRef, lang: str) -> dict[str, list[tuple[str, str]]]:
        """/help's commands for this user: a citizen's, and a volunteer's or an admin's with their role."""
        role = self.people.role_of(user_key(user)) if self.people is not None else None
        return routes.commands_for(role.role if role is not None else CITIZEN, lang)

    def _route(self, turn: Turn) -> Response:
        """guard → command or button → stop word → open flow → NLU intent → retrieval; bot/routes.py names each handler."""
        message = turn.message
        if message.action is not None:
            # Payloads come from the client and can be crafted: the journal gets them through the guard too.
            turn.redacted = f"<button {scan(message.action, limit=actions.MAX_BYTES).text}>"
            try:
                turn.action = actions.decode(message.action)
            except actions.StaleAction:
                return handlers.stale_button(self, turn)
            return routes.BUTTONS[turn.action.verb](self, turn)
        if message.kind != "text":
            turn.redacted = f"<{message.kind}>"
            return turn.reply([Reply(text=t("non_text", turn.lang))], intent=None)

        # The date and time an open /broadcast waits for, which the guard would hide as an ID number.
        if (timed := broadcast_chat.on_time(self, turn)) is not None:
            return timed
        self._guard(turn)
        assert turn.normalized is not None
        if turn.normalized.is_empty:
            if turn.state.profile_step and not turn.warnings and (asked := handlers.profile_answer(self, turn)):
                return asked  # an empty answer to "which province?": the question again, saying what is missing
            key = "only_secret" if turn.warnings else "empty"
            return turn.reply([Reply(text=t(key, turn.lang))], intent=None, fallback=True)

        if turn.text.lstrip().startswith("/"):
            # A command word says nothing about the language ("/help" is not English): answer in the user's.
            turn.lang = self.reply_lang(turn.state, message)
            words = turn.text.split()
            turn.args = tuple(words[1:])
            command = routes.command(words[0])
            if command is None:
                return handlers.unknown_command(self, turn, words[0].split("@")[0].lower())
            return command.handler(self, turn)

        turn.update(lang=turn.lang)
        # "DỪNG", "HỦY", "STOP" from a subscribed user end their subscriptions whatever else is going on.
        if (stopped := handlers.stop_word(self, turn)) is not None:
            return stopped
        if turn.state.handover:
            return handlers.relay_to_volunteer(self, turn)
        # The text, place or time an open /broadcast waits for: before the fixed phrases, which would take a
        # warning about fires ("cháy") for an emergency.
        if (drafted := broadcast_chat.on_text(self, turn)) is not None:
            return drafted
        # Emergencies, what is declined, insults, "thôi" and "không biết" (routes.PHRASES): fixed answers
        # before any open flow, NLU or retrieval could take them for something else.
        if (phrase := routes.phrase(turn.normalized)) is not None and (
            response := phrase.handler(self, turn)
        ) is not None:
            return response
        # What volunteers and officials ask for in words ("gửi bài học cho xã", "thống kê"), whatever flow is
        # open: routes.OFFICIALS.
        if (said := routes.official(turn.normalized)) is not None and (response := said.handler(self, turn)):
            return response
        # The open /profile question: a place name typed ("ha noi", "phuong hoan kiem") is its answer.
        if (answered := handlers.profile_answer(self, turn)) is not None:
            return answered
        # Quiz answers typed on text-only channels ("B", "bo cong an") and learning requests come before
        # NLU: the rule engine would read "B" as a question for the knowledge base.
        hint = handlers.topic_just_read(self, turn)
        if (
            self.tutor is not None
            and (learned := self.tutor.on_text(turn.user, turn.text, turn.lang, topic_hint=hint)) is not None
        ):
            return turn.reply(learned.replies, intent=learned.intent, forget_user=learned.forget_user)

        # What the user says about the procedure they follow or the answer they just read (routes.FLOWS), before
        # NLU would take "chưa hiểu" for feedback or "5" for a question.
        if (flow := routes.flow(turn.normalized)) is not None and (response := flow.handler(self, turn)) is not None:
            return response
        if (followed := handlers.follow_up(self, turn)) is not None:
            return followed

        turn.query = turn.query or Query(turn.normalized, self.embedder)
        turn.intent = self.nlu.parse(turn.query)
        handler = routes.INTENTS.get(turn.intent.intent) if self.confident(turn.intent) else None
        if handler is not None and (response := handler(self, turn)) is not None:
            return response
        return handlers.answer(self, turn)

    def _guard(self, turn: Turn) -> None:
        """Secrets out first, so nothing downstream (NLU, retrieval, state, journal, logs) ever sees one."""
        # The guard cuts long messages itself, so a megabyte costs no more than the part that is read, and
        # never cuts through a secret.
        # A broadcast's text may be a whole message long; anything else is a question.
        limit = broadcast_chat.TEXT_LIMIT if turn.state.bcast_step == "text" else MAX_QUESTION_CHARS
        guarded = scan(turn.message.text, limit=limit)
        turn.redacted = guarded.text
        turn.text = guarded.text
        turn.normalized = normalize(without_redactions(turn.text), turn.lang)
        turn.lang = self.reply_lang(turn.state, turn.message, turn.normalized)
        if guarded.found:
            turn.warnings.append("sensitive_data")
            turn.prefix.append(Reply(text=t("sensitive", turn.lang, what=secret_names(guarded.findings, turn.lang))))
        if guarded.cut:
            turn.prefix.append(Reply(text=t("too_long", turn.lang)))

    # -- volunteers --------------------------------------------------------------------------------

    def volunteer_reply(self, channel: str, user_id: str, text: str) -> Response:
        """A volunteer answered this user in the volunteers' group."""
        state = self.states.load(channel, user_id)
        lang = state.lang or self.default_lang
        replies, event = handover.volunteer_reply(state, text, lang, note_lang=self.default_lang)
        return Response(replies, lang, intent="volunteer_reply", redacted_text="<volunteer reply>", handover=event)

    def handover_failed(self, channel: str, user_id: str) -> Response:
        """The channel could not post the request to the volunteers: the user must not be left waiting."""
        state = self.states.load(channel, user_id)
        lang = state.lang or self.default_lang
        replies, state = handover.failed(state, lang)
        self.states.save(channel, user_id, state)
        return Response(replies, lang, intent="handover_failed", warnings=["handover_failed"])


def _may_offer(response: Response, state: ConversationState) -> bool:
    """Whether the reply may also carry the notice of lessons on offer: not under an emergency's answer, to a
    user talking with a volunteer, after the deletion of the user's data, or under a lesson just pulled (which
    says itself what is left)."""
    intent = response.intent or ""
    return not (response.forget_user or state.handover or intent.startswith("emergency_") or intent == "next_lesson")


def _asks_quiz_question(response: Response) -> bool:
    """Whether the reply shows a quiz question (its answer buttons)."""
    answer = f"{actions.VERSION}:{actions.Verb.QUIZ_ANSWER.value}:"
    return any(
        button.action.startswith(answer) for reply in response.replies for row in reply.buttons for button in row
    )
