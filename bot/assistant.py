"""The conversation core: one channel-neutral message in, channel-neutral replies out.

Order matters: the sensitive-data guard runs first, so nothing downstream (NLU, retrieval, state,
journal, logs) ever sees a secret. Buttons and slash commands bypass NLU; NLU intents below the
confidence threshold fall through to retrieval instead of triggering a wrong action.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from bot import actions, answers, handover
from bot.guard import scan, without_redactions
from bot.journal import Journal, LoggingJournal, Turn
from bot.learning import UserRef
from bot.messages import Button, Reply, Response, UserMessage
from bot.state import ConversationState, StateStore
from bot.texts import button_label, secret_names, t
from bot.tutor import LearningReply, Tutor
from embeddings.embedder import Embedder
from knowledge_base.articles import KnowledgeBase
from knowledge_base.retriever import Retriever
from language.normalize import normalize
from language.query import Query
from nlu.engine import IntentResult, NLUEngine

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
STEP_INTENTS = frozenset({"next_step", "previous_step", "repeat_step", "show_all_steps"})


class Assistant:
    def __init__(
        self,
        kb: KnowledgeBase,
        retriever: Retriever,
        embedder: Embedder,
        nlu: NLUEngine,
        states: StateStore,
        *,
        journal: Journal | None = None,
        default_lang: str = "vi",
        intent_threshold: float = 0.7,
        handover_channels: frozenset[str] = frozenset(),
        tutor: Tutor | None = None,
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

    # -- entry point -------------------------------------------------------------------------------

    def handle(self, message: UserMessage) -> Response:
        started = time.perf_counter()
        state = self.states.load(message.channel, message.user_id)
        try:
            response, state = self._dispatch(message, state)
        except Exception:
            log.exception("failed to handle a message on %s", message.channel)
            lang = state.lang or self.default_lang
            response = Response([Reply(text=t("internal_error", lang))], lang, warnings=["internal_error"])
        else:
            if response.intent == "greet" and self.tutor is not None:  # a returning user: offer what is due
                offer = self.tutor.nudge(UserRef(message.channel, message.user_id), response.lang)
                if offer is not None:
                    response.replies.append(offer)
            if not response.forget_user:
                self.states.save(message.channel, message.user_id, state)
        self.journal.record(
            Turn(
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

    def _lang(self, state: ConversationState, message: UserMessage) -> str:
        if state.lang:
            return state.lang
        hint = (message.language_hint or "").split("-")[0].lower()
        return hint if hint in ("vi", "en") else self.default_lang

    def _dispatch(self, message: UserMessage, state: ConversationState) -> tuple[Response, ConversationState]:
        if message.action is not None:
            if message.action == handover.END_PAYLOAD:
                return self._handover("/end", message, state, self._lang(state, message))
            if self.tutor is not None:
                lang = self._lang(state, message)
                learned = self.tutor.on_action(_user(message), message.action, lang)
                if learned is not None:
                    return _learning_response(learned, lang, f"<button {message.action[:64]}>"), state
            return self._on_action(message.action, state, self._lang(state, message))
        if message.kind != "text":
            lang = self._lang(state, message)
            return Response([Reply(text=t("non_text", lang))], lang, redacted_text=f"<{message.kind}>"), state
        return self._on_text(message, state)

    # -- text --------------------------------------------------------------------------------------

    def _on_text(self, message: UserMessage, state: ConversationState) -> tuple[Response, ConversationState]:
        guarded = scan(message.text)
        redacted = guarded.text
        warnings = ["sensitive_data"] if guarded.found else []
        prefix: list[Reply] = []
        truncated = len(redacted) > MAX_QUESTION_CHARS
        text = redacted[:MAX_QUESTION_CHARS]
        normalized = normalize(without_redactions(text), self._lang(state, message))
        lang = normalized.lang if not normalized.is_empty else self._lang(state, message)
        if guarded.found:
            prefix.append(Reply(text=t("sensitive", lang, what=secret_names(guarded.findings, lang))))
        if truncated:
            prefix.append(Reply(text=t("too_long", lang)))
        if normalized.is_empty:
            key = "only_secret" if guarded.found else "empty"
            return Response(
                [*prefix, Reply(text=t(key, lang))], lang, warnings=warnings, redacted_text=redacted, fallback=True
            ), state

        if text.lstrip().startswith("/"):
            if _command(text) in ("/volunteer", "/end"):
                return self._handover(_command(text), message, state, lang, prefix, warnings, redacted)
            if self.tutor is not None and (learned := self.tutor.on_text(_user(message), text, lang)) is not None:
                return _learning_response(learned, lang, redacted, prefix, warnings), replace(state, lang=lang)
            replies, state, intent = self._on_command(text.strip(), state, lang)
            return Response([*prefix, *replies], lang, intent=intent, warnings=warnings, redacted_text=redacted), state

        if state.handover:
            return self._handover("relay", message, state, lang, prefix, warnings, redacted)
        # Quiz answers typed on text-only channels ("B", "bo cong an") and learning requests come before
        # NLU: the rule engine would read "B" as a question for the knowledge base.
        if self.tutor is not None and (learned := self.tutor.on_text(_user(message), text, lang)) is not None:
            return _learning_response(learned, lang, redacted, prefix, warnings), replace(state, lang=lang)

        query = Query(normalized, self.embedder)
        parsed = self.nlu.parse(query)
        confident = parsed.confidence >= self.intent_threshold
        if confident and parsed.intent == "talk_to_volunteer":
            return self._handover("/volunteer", message, state, lang, prefix, warnings, redacted)
        if confident and self.tutor is not None and parsed.intent in ("start_quiz", "quiz_answer"):
            learned = self.tutor.on_intent(_user(message), parsed, text, lang)
            if learned is not None:
                return _learning_response(learned, lang, redacted, prefix, warnings), replace(state, lang=lang)
        if confident and parsed.intent not in ("ask_question", "out_of_scope"):
            handled = self._on_intent(parsed, state, lang)
            if handled is not None:
                replies, state = handled
                return Response(
                    [*prefix, *replies], lang, intent=parsed.intent, warnings=warnings, redacted_text=redacted
                ), replace(state, lang=lang)

        result = self.retriever.search(query)
        state = replace(state.with_question(redacted), lang=lang)
        best = result.best
        ranking = tuple(h.article_id for h in result.hits)
        if result.fallback or best is None:
            # Clearly off-topic ("giá vàng hôm nay"): the polite "I only know digital skills" reply without
            # "did you mean" guesses. A confident answer still wins over the classifier: an in-scope question
            # taken for off-topic must not lose its answer.
            off_topic = confident and parsed.intent == "out_of_scope"
            reply = answers.fallback(self.kb, [] if off_topic else result.suggestions, lang)
            return (
                Response(
                    [*prefix, reply],
                    lang,
                    intent=parsed.intent,
                    score=result.confidence,
                    fallback=True,
                    warnings=warnings,
                    redacted_text=redacted,
                    ranking=ranking,
                ),
                state,
            )
        article = self.kb.get(best.article_id, lang)
        state = replace(state, last_article=article.id, step_article=None, step_index=0)
        return (
            Response(
                [*prefix, answers.full_answer(self.kb, article, lang)],
                lang,
                intent="ask_question",
                topic=article.topic,
                article_id=article.id,
                score=result.confidence,
                warnings=warnings,
                redacted_text=redacted,
                ranking=ranking,
            ),
            state,
        )

    # -- commands and intents ----------------------------------------------------------------------

    def _on_command(self, text: str, state: ConversationState, lang: str) -> tuple[list[Reply], ConversationState, str]:
        command = text.split()[0].split("@")[0].lower()
        if command == "/start":
            return [Reply(text=t("welcome", lang)), self._language_menu(lang)], state, "greet"
        if command == "/help":
            return [Reply(text=t("help", lang))], state, "help"
        if command == "/lang":
            return [self._language_menu(lang)], state, "change_language"
        if command in ("/subscribe", "/unsubscribe"):  # arrive with broadcasts
            return [Reply(text=t("not_available", lang))], state, command[1:]
        return [Reply(text=t("unknown_command", lang, command=command))], state, "unknown_command"

    def _language_menu(self, lang: str) -> Reply:
        return Reply(
            text=t("lang_choose", lang),
            buttons=(
                (
                    Button(button_label("vi", lang), actions.encode("lang", "vi")),
                    Button(button_label("en", lang), actions.encode("lang", "en")),
                ),
            ),
        )

    def _on_intent(
        self, intent: IntentResult, state: ConversationState, lang: str
    ) -> tuple[list[Reply], ConversationState] | None:
        simple = {"greet": "greet", "goodbye": "goodbye", "thanks": "thanks", "help": "help"}
        if intent.intent in simple:
            return [Reply(text=t(simple[intent.intent], lang))], state
        if intent.intent in ("subscribe", "unsubscribe"):  # arrive with broadcasts
            return [Reply(text=t("not_available", lang))], state
        if intent.intent in STEP_INTENTS:
            return self._step_intent(intent.intent, state, lang)
        if intent.intent == "change_language":
            chosen = intent.entity("language")
            if chosen in ("vi", "en"):
                return [Reply(text=t("lang_set", chosen))], replace(state, lang=chosen)
            return [self._language_menu(lang)], state
        if intent.intent in ("feedback_positive", "feedback_negative") and state.last_article:
            key = "feedback_thanks_positive" if intent.intent == "feedback_positive" else "feedback_thanks_negative"
            return [Reply(text=t(key, lang))], state
        return None  # intents owned by features not wired here fall through to retrieval

    def _step_intent(self, intent: str, state: ConversationState, lang: str) -> tuple[list[Reply], ConversationState]:
        article_id = state.step_article or state.last_article
        if article_id is None or article_id not in self.kb:
            return [Reply(text=t("step_mode_none", lang))], state
        article = self.kb.get(article_id, lang)
        if not article.steps:
            return [Reply(text=t("no_steps", lang))], state
        if intent == "show_all_steps":
            return [answers.all_steps(article, lang)], state
        if state.step_article is None:  # "tiếp" right after an answer starts the walk-through
            index = 0
        elif intent == "next_step":
            index = min(state.step_index + 1, len(article.steps) - 1)
        elif intent == "previous_step":
            if state.step_index == 0:
                return [Reply(text=t("first_step_already", lang)), answers.step_reply(article, 0, lang)], state
            index = state.step_index - 1
        else:
            index = state.step_index
        return [answers.step_reply(article, index, lang)], replace(state, step_article=article.id, step_index=index)

    # -- volunteers --------------------------------------------------------------------------------

    def _handover(
        self,
        what: str,
        message: UserMessage,
        state: ConversationState,
        lang: str,
        prefix: list[Reply] | None = None,
        warnings: list[str] | None = None,
        redacted: str = "",
    ) -> tuple[Response, ConversationState]:
        note_lang = self.default_lang
        name = message.display_name
        event = None
        if what == "relay":
            replies, event = handover.relay(redacted, display_name=name, note_lang=note_lang)
            intent = "handover_relay"
        elif what == "/end":
            replies, state, event = handover.close(state, lang, display_name=name, note_lang=note_lang)
            intent = "end_handover"
        elif message.channel not in self.handover_channels:
            replies, intent = [Reply(text=t("handover_unavailable", lang))], "talk_to_volunteer"
        else:
            shown = state.last_article
            last = self.kb.get(shown, lang).title if shown is not None and shown in self.kb else None
            replies, state, event = handover.open_request(
                state, lang, display_name=name, last_answer=last, region=None, note_lang=note_lang
            )
            intent = "talk_to_volunteer"
        return Response(
            [*(prefix or []), *replies],
            lang,
            intent=intent,
            warnings=warnings or [],
            redacted_text=redacted or f"<{what}>",
            handover=event,
        ), replace(state, lang=lang)

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

    # -- buttons -----------------------------------------------------------------------------------

    def _on_action(self, payload: str, state: ConversationState, lang: str) -> tuple[Response, ConversationState]:
        try:
            action = actions.decode(payload)
        except actions.StaleAction:
            return Response(
                [Reply(text=t("stale_button", lang))],
                lang,
                intent="stale_button",
                redacted_text=f"<button {payload[:64]}>",
            ), state
        article_id = action.arg(0)
        if action.verb in ("a", "st", "all", "fb") and article_id not in self.kb:
            return Response(
                [Reply(text=t("stale_button", lang))], lang, intent="stale_button", redacted_text=f"<button {payload}>"
            ), state
        redacted = f"<button {payload}>"
        if action.verb == "a":
            article = self.kb.get(article_id, lang)
            state = replace(state, last_article=article.id, step_article=None, step_index=0)
            return Response(
                [answers.full_answer(self.kb, article, lang)],
                lang,
                intent="ask_question",
                topic=article.topic,
                article_id=article.id,
                score=1.0,
                redacted_text=redacted,
            ), state
        if action.verb == "st":
            article = self.kb.get(article_id, lang)
            if not article.steps:
                return Response(
                    [Reply(text=t("no_steps", lang))], lang, intent="next_step", redacted_text=redacted
                ), state
            try:
                index = max(0, min(int(action.arg(1, "0")), len(article.steps) - 1))
            except ValueError:
                index = 0
            state = replace(state, last_article=article.id, step_article=article.id, step_index=index)
            return Response(
                [answers.step_reply(article, index, lang)],
                lang,
                intent="next_step",
                topic=article.topic,
                article_id=article.id,
                redacted_text=redacted,
            ), state
        if action.verb == "all":
            article = self.kb.get(article_id, lang)
            return Response(
                [answers.all_steps(article, lang)],
                lang,
                intent="show_all_steps",
                topic=article.topic,
                article_id=article.id,
                redacted_text=redacted,
            ), state
        if action.verb == "fb":
            positive = action.arg(1) == "+"
            key = "feedback_thanks_positive" if positive else "feedback_thanks_negative"
            intent = "feedback_positive" if positive else "feedback_negative"
            return Response(
                [Reply(text=t(key, lang))], lang, intent=intent, article_id=article_id, redacted_text=redacted
            ), state
        if action.verb == "lang" and action.arg(0) in ("vi", "en"):
            chosen = action.arg(0)
            return Response(
                [Reply(text=t("lang_set", chosen)), Reply(text=t("help", chosen))],
                chosen,
                intent="change_language",
                redacted_text=redacted,
            ), replace(state, lang=chosen)
        return Response(
            [Reply(text=t("stale_button", lang))], lang, intent="stale_button", redacted_text=redacted
        ), state


def _command(text: str) -> str:
    return text.split()[0].split("@")[0].lower()


def _user(message: UserMessage) -> UserRef:
    return UserRef(message.channel, message.user_id, message.display_name)


def _learning_response(
    learned: LearningReply,
    lang: str,
    redacted: str,
    prefix: list[Reply] | None = None,
    warnings: list[str] | None = None,
) -> Response:
    return Response(
        [*(prefix or []), *learned.replies],
        lang,
        intent=learned.intent,
        warnings=list(warnings or []),
        redacted_text=redacted,
        forget_user=learned.forget_user,
    )
