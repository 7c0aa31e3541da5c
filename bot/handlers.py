"""The handlers: one function per command, button verb and intent, each listed in bot/routes.py.

A handler reads the turn, may change its state, and returns the turn's `Response` (`turn.reply`). Learning
features delegate to the Tutor, volunteers to bot/handover.py, answers to bot/answers.py; nothing here
parses text or payloads beyond the arguments its own command or button carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import actions, answers, handover, profiles, stepmode
from bot.actions import Verb
from bot.messages import Button, Reply, Response
from bot.offers import PULL_CHANNELS
from bot.people import ADMIN, EVERYONE, VOLUNTEER, user_key
from bot.texts import button_label, help_text, t
from bot.turn import Turn
from bot.tutor import LearningReply, Tutor, says_done
from knowledge_base.articles import Article
from language.normalize import fold
from language.query import Query

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.assistant import Assistant


# -- conversation ---------------------------------------------------------------------------------


def start(core: Assistant, turn: Turn) -> Response:
    # Where the user lives, offered once on first use: /start is every channel's first message (Telegram's
    # Start button, the Zalo OA's follow event, the terminal).
    offer = profiles.offer(core, turn)
    replies = [Reply(text=t("welcome", turn.lang)), language_menu(turn.lang), *([offer] if offer else [])]
    return turn.reply(replies, intent="greet")


def show_help(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=_help(core, turn, turn.lang))], intent="help")


# The heading of each role's own commands in /help (bot/routes.py: AUDIENCES).
_HELP_HEADINGS = {VOLUNTEER: "help_volunteer", ADMIN: "help_admin"}


def _help(core: Assistant, turn: Turn, lang: str) -> str:
    """/help for this user: everyone's commands, and a volunteer's or an admin's own under their headings."""
    commands = core.commands(turn.user, lang)
    return help_text(
        lang,
        commands.pop(EVERYONE),
        *((_HELP_HEADINGS[audience], listed) for audience, listed in commands.items()),
    )


def choose_language(core: Assistant, turn: Turn) -> Response:
    return turn.reply([language_menu(turn.lang)], intent="change_language")


def unknown_command(core: Assistant, turn: Turn, command: str) -> Response:
    return turn.reply([Reply(text=t("unknown_command", turn.lang, command=command))], intent="unknown_command")


def not_available(core: Assistant, turn: Turn) -> Response:
    """Features announced in the menu that arrive later (subscriptions arrive with broadcasts)."""
    name = turn.intent.intent if turn.intent is not None else turn.message.text.split()[0].lstrip("/").split("@")[0]
    return turn.reply([Reply(text=t("not_available", turn.lang))], intent=name.lower())


def greet(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=t("greet", turn.lang))], intent="greet")


def goodbye(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=t("goodbye", turn.lang))], intent="goodbye")


def thanks(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=t("thanks", turn.lang))], intent="thanks")


# -- fixed phrases (routes.PHRASES): emergencies, what is declined, insults, stopping -------------------


def emergency_medical(core: Assistant, turn: Turn) -> Response:
    """ "đau ngực khó thở": 115 first; not the knowledge base's "I don't know"."""
    return _fixed(turn, "emergency_medical")


def emergency_fire(core: Assistant, turn: Turn) -> Response:
    return _fixed(turn, "emergency_fire")


def emergency_police(core: Assistant, turn: Turn) -> Response:
    return _fixed(turn, "emergency_police")


def decline_politics(core: Assistant, turn: Turn) -> Response:
    return _fixed(turn, "decline_politics")


def decline_religion(core: Assistant, turn: Turn) -> Response:
    return _fixed(turn, "decline_religion")


def decline_private_data(core: Assistant, turn: Turn) -> Response:
    return _fixed(turn, "decline_private_data")


def decline_instructions(core: Assistant, turn: Turn) -> Response:
    """ "ignore all previous instructions", "từ giờ bạn là bác sĩ": the assistant stays what it is, kindly."""
    return _fixed(turn, "decline_instructions")


def decline_medical(core: Assistant, turn: Turn) -> Response:
    """ "đau bụng 3 ngày rồi bị bệnh gì": no diagnosis, where to go instead (115 when it is urgent)."""
    return _fixed(turn, "decline_medical")


def decline_abroad(core: Assistant, turn: Turn) -> Response:
    """ "renew my US driver's license": another country's papers, so where to ask instead of a Vietnamese article."""
    return _fixed(turn, "decline_abroad")


def decline_secret(core: Assistant, turn: Turn) -> Response:
    """ "đọc lại mã OTP tôi vừa gửi": nothing secret is kept, so nothing can be read back."""
    return _fixed(turn, "decline_secret")


def decline_harm(core: Assistant, turn: Turn) -> Response:
    """ "chỉ cách hack Zalo người yêu", "làm app VNeID giả để lừa": refused, with what is offered instead."""
    return _fixed(turn, "decline_harm")


def insult(core: Assistant, turn: Turn) -> Response:
    """A calm reply that offers help again, not "goodbye"."""
    return _fixed(turn, "insult_calm", intent="insult")


def stop(core: Assistant, turn: Turn) -> Response:
    """ "thôi", "không hỏi nữa", "dừng": the open quiz and the walk-through are closed, kindly."""
    quiz_stopped = core.tutor is not None and core.tutor.stop(turn.user)
    turn.update(step_article=None, step_index=0, paused=(), unclear=0, profile_step=None, profile_province=None)
    return _fixed(turn, "quiz_stopped" if quiz_stopped else "flow_stopped", intent="stop")


def dont_know(core: Assistant, turn: Turn) -> Response | None:
    """ "ko biết" during a quiz: encouragement and the open question again; without a quiz, not for us."""
    question = core.tutor.open_question(turn.user, turn.lang) if core.tutor is not None else None
    if question is None:
        return None
    return turn.reply([Reply(text=t("quiz_dont_know", turn.lang)), question], intent="quiz_answer")


def _fixed(turn: Turn, key: str, *, intent: str | None = None) -> Response:
    return turn.reply([Reply(text=t(key, turn.lang))], intent=intent or key)


def change_language(core: Assistant, turn: Turn) -> Response:
    """ "nói tiếng Anh đi": the language entity, or the menu when none was named."""
    chosen = turn.intent.entity("language") if turn.intent is not None else None
    if chosen in ("vi", "en"):
        turn.update(lang=chosen)
        return turn.reply([Reply(text=t("lang_set", chosen))], intent="change_language")
    return turn.reply([language_menu(turn.lang)], intent="change_language")


def feedback(core: Assistant, turn: Turn) -> Response | None:
    """ "cảm ơn, hữu ích quá" about the last answer; without one it is a question for retrieval."""
    if turn.intent is None or not turn.state.last_article:
        return None
    # "chữ nhỏ quá bà không đọc được" reads like a complaint but is a question the knowledge base answers.
    if turn.query is not None:
        turn.result = core.retriever.search(turn.query)
        if not turn.result.fallback:
            return None
    positive = turn.intent.intent == "feedback_positive"
    key = "feedback_thanks_positive" if positive else "feedback_thanks_negative"
    return turn.reply([Reply(text=t(key, turn.lang))], intent=turn.intent.intent)


def language_menu(lang: str) -> Reply:
    return Reply(
        text=t("lang_choose", lang),
        buttons=(
            (
                Button(button_label("vi", lang), actions.encode(Verb.LANGUAGE, "vi")),
                Button(button_label("en", lang), actions.encode(Verb.LANGUAGE, "en")),
            ),
        ),
    )


# -- answers and step mode ------------------------------------------------------------------------


def answer(core: Assistant, turn: Turn) -> Response:
    """Retrieval: the last step of every text message nothing else took."""
    assert turn.query is not None
    result = turn.result or core.retriever.search(turn.query)
    turn.update(recent_questions=turn.state.with_question(turn.redacted).recent_questions)
    intent = turn.intent
    ranking = tuple(h.article_id for h in result.hits)
    best = result.best
    if result.fallback or best is None:
        # Clearly off-topic ("giá vàng hôm nay"): the polite "I only know digital skills" reply without
        # "did you mean" guesses. A confident answer still wins over the classifier: an in-scope question
        # taken for off-topic must not lose its answer.
        off_topic = intent is not None and core.confident(intent) and intent.intent == "out_of_scope"
        reply = answers.fallback(core.kb, [] if off_topic else result.suggestions, turn.lang)
        return turn.reply(
            [reply, *_open_question(core, turn)],
            intent=intent.intent if intent is not None else None,
            score=result.confidence,
            fallback=True,
            ranking=ranking,
        )
    shown = _show_article(core, turn, core.kb.get(best.article_id, turn.lang), result.confidence, ranking)
    if turn.after_quiz:  # right after a quiz question: an answer that happened to match an article
        shown.replies.extend(_open_question(core, turn))
    return shown


def _open_question(core: Assistant, turn: Turn) -> list[Reply]:
    """During a quiz, a message that is no answer ("không nhớ nữa, chắc cái gì ấy"): the open question again after
    the reply, so it is never lost. After an article, only right after the question was shown: a quiz left open
    for days must not follow every later answer."""
    question = core.tutor.open_question(turn.user, turn.lang) if core.tutor is not None else None
    return [Reply(text=t("quiz_still_open", turn.lang)), question] if question is not None else []


def _show_article(
    core: Assistant, turn: Turn, article: Article, score: float, ranking: tuple[str, ...] = ()
) -> Response:
    """The short first answer (the full text where nothing can be tapped next). A walk-through open before is
    paused, so "quay lại" after this side answer resumes it where it was."""
    stepmode.pause_open_procedure(turn, article.id)
    turn.update(last_article=article.id, follow_up=article.id)
    if turn.state.step_article != article.id:  # the same article again keeps its walk-through where it was
        turn.update(step_article=None, step_index=0, unclear=0)
    shown = answers.brief_answer if core.brief_answers else answers.full_answer
    return turn.reply(
        [shown(core.kb, article, turn.lang)],
        intent="ask_question",
        topic=article.topic,
        article_id=article.id,
        score=score,
        ranking=ranking,
    )


def step(core: Assistant, turn: Turn) -> Response:
    """ "tiếp", "quay lại", "nhắc lại", "xem tất cả các bước": step mode in the last article."""
    assert turn.intent is not None
    intent, state, lang = turn.intent.intent, turn.state, turn.lang
    # "tiếp" or "quay lại" right after a side answer: back to the procedure it interrupted, where it was.
    resumes = state.paused and state.step_article is None and intent in ("next_step", "previous_step")
    if resumes and (resumed := stepmode.resume(core, turn)) is not None:
        return resumed
    article_id = state.step_article or state.last_article
    if article_id is None or article_id not in core.kb:
        return turn.reply([Reply(text=t("step_mode_none", lang))], intent=intent)
    article = core.kb.get(article_id, lang)
    if not article.steps:
        return turn.reply([Reply(text=t("no_steps", lang))], intent=intent)
    if intent == "show_all_steps":
        return turn.reply([answers.all_steps(article, lang)], intent=intent)
    if state.step_article is None:  # "tiếp" right after an answer starts the walk-through
        index = 0
    elif intent == "previous_step" and not turn.after_step:
        # "quay lại" after something else came in between (an emergency, a question): back to the step
        # the user was on, not the one before it.
        back = Reply(text=t("resumed", lang, title=article.title))
        return stepmode.show_step(core, turn, article, state.step_index, "resume", back)
    elif intent == "next_step" and state.step_index >= len(article.steps) - 1 and state.paused:
        # the side procedure is done: back to the one it interrupted
        if (resumed := stepmode.resume(core, turn)) is not None:
            return resumed
        index = state.step_index
    elif intent == "next_step":
        index = min(state.step_index + 1, len(article.steps) - 1)
    elif intent == "previous_step":
        if state.step_index == 0:
            return turn.reply(
                [Reply(text=t("first_step_already", lang)), answers.step_reply(article, 0, lang)], intent=intent
            )
        index = state.step_index - 1
    else:
        index = state.step_index
    return stepmode.show_step(core, turn, article, index, intent)


def article_button(core: Assistant, turn: Turn) -> Response:
    article = _button_article(core, turn)
    if article is None:
        return stale_button(core, turn)
    return _show_article(core, turn, article, 1.0)


def step_button(core: Assistant, turn: Turn) -> Response:
    article = _button_article(core, turn)
    if article is None or turn.action is None:
        return stale_button(core, turn)
    if not article.steps:
        return turn.reply([Reply(text=t("no_steps", turn.lang))], intent="next_step")
    try:
        index = max(0, min(int(turn.action.arg(1, "0")), len(article.steps) - 1))
    except ValueError:
        index = 0
    stepmode.pause_open_procedure(turn, article.id)
    return stepmode.show_step(core, turn, article, index, "next_step")


def full_text_button(core: Assistant, turn: Turn) -> Response:
    """ "Xem đầy đủ": the article's whole text after its short first answer."""
    article = _button_article(core, turn)
    if article is None:
        return stale_button(core, turn)
    turn.update(last_article=article.id, follow_up=article.id)
    return turn.reply(
        [answers.full_answer(core.kb, article, turn.lang)],
        intent="full_text",
        topic=article.topic,
        article_id=article.id,
    )


def all_steps_button(core: Assistant, turn: Turn) -> Response:
    article = _button_article(core, turn)
    if article is None:
        return stale_button(core, turn)
    return turn.reply(
        [answers.all_steps(article, turn.lang)], intent="show_all_steps", topic=article.topic, article_id=article.id
    )


def feedback_button(core: Assistant, turn: Turn) -> Response:
    article = _button_article(core, turn)
    if article is None or turn.action is None:
        return stale_button(core, turn)
    positive = turn.action.arg(1) == "+"
    if core.tutor is not None:  # feedback is learning data: kept with the user's other records
        core.tutor.record_feedback(turn.user, article.id, positive)
    key = "feedback_thanks_positive" if positive else "feedback_thanks_negative"
    intent = "feedback_positive" if positive else "feedback_negative"
    return turn.reply([Reply(text=t(key, turn.lang))], intent=intent, article_id=article.id)


def language_button(core: Assistant, turn: Turn) -> Response:
    chosen = turn.action.arg(0) if turn.action is not None else ""
    if chosen not in ("vi", "en"):
        return stale_button(core, turn)
    turn.lang = chosen
    turn.update(lang=chosen)
    return turn.reply(
        [Reply(text=t("lang_set", chosen)), Reply(text=_help(core, turn, chosen))],
        intent="change_language",
    )


# -- lessons on offer (bot/offers.py) ---------------------------------------------------------------


def next_lesson(core: Assistant, turn: Turn) -> Response | None:
    """ "bài tiếp theo" typed: the oldest lesson on offer. With none, on a channel that pulls and no walk-through
    open, that none is waiting; else None (the words go on, to step mode's next step)."""
    pulled = core.offers.pull(turn.user, turn.lang) if core.offers is not None else None
    if pulled is None and turn.user.channel in PULL_CHANNELS and turn.state.step_article is None:
        pulled = [Reply(text=t("offer_none", turn.lang))]
    return turn.reply(pulled, intent="next_lesson") if pulled is not None else None


def next_lesson_button(core: Assistant, turn: Turn) -> Response:
    """ "Bài tiếp theo" pressed: the oldest lesson on offer, or that none is waiting."""
    pulled = core.offers.pull(turn.user, turn.lang) if core.offers is not None else None
    return turn.reply(pulled or [Reply(text=t("offer_none", turn.lang))], intent="next_lesson")


def stale_button(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=t("stale_button", turn.lang))], intent="stale_button")


def _button_article(core: Assistant, turn: Turn) -> Article | None:
    article_id = turn.action.arg(0) if turn.action is not None else ""
    return core.kb.get(article_id, turn.lang) if article_id in core.kb else None


# -- step mode as elderly users follow it (bot/stepmode.py) -------------------------------------------


def goto_step(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.go_to(core, turn)


def where_am_i(core: Assistant, turn: Turn) -> Response:
    return stepmode.where_am_i(core, turn) or turn.reply(
        [Reply(text=t("step_mode_none", turn.lang))], intent="where_am_i"
    )


def where_am_i_if_open(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.where_am_i(core, turn)


def not_understood(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.unclear(core, turn)


def step_stuck(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.stuck(core, turn)


def resume(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.resume_asked(core, turn)


def follow_up(core: Assistant, turn: Turn) -> Response | None:
    return stepmode.follow_up(core, turn)


def typed_step_by_step(core: Assistant, turn: Turn) -> Response | None:
    """The button's label typed ("làm từng bước"): the last answer's walk-through from step 1. With a subject
    ("cài smart otp từng bước"), the walk-through of the article that answers it."""
    assert turn.normalized is not None
    if stepmode.names_a_subject(turn.normalized.folded):
        turn.query = Query(turn.normalized, core.embedder)
        turn.result = core.retriever.search(turn.query)
        best = turn.result.best
        if not turn.result.fallback and best is not None and core.kb.get(best.article_id, turn.lang).steps:
            article = core.kb.get(best.article_id, turn.lang)
            stepmode.pause_open_procedure(turn, article.id)
            return stepmode.show_step(core, turn, article, 0, "next_step")
    article_id = turn.state.last_article
    if article_id is None or article_id not in core.kb:
        return turn.reply([Reply(text=t("step_mode_none", turn.lang))], intent="next_step")
    article = core.kb.get(article_id, turn.lang)
    if not article.steps:
        return turn.reply([Reply(text=t("no_steps", turn.lang))], intent="next_step")
    return stepmode.show_step(core, turn, article, 0, "next_step")


def typed_full_text(core: Assistant, turn: Turn) -> Response | None:
    """ "xem đầy đủ" typed: the last answer's whole text."""
    article_id = turn.state.last_article
    if article_id is None or article_id not in core.kb:
        return None
    article = core.kb.get(article_id, turn.lang)
    turn.update(follow_up=article.id)
    return turn.reply(
        [answers.full_answer(core.kb, article, turn.lang)],
        intent="full_text",
        topic=article.topic,
        article_id=article.id,
    )


# -- what volunteers and officials ask: an honest answer for their role (texts role_*); figures and
# broadcasts asked for in words go to /stats and /broadcast (bot/stats_chat.py, bot/broadcast_chat.py) ------


def _staff(core: Assistant, turn: Turn) -> bool:
    return core.people is not None and core.people.role_of(user_key(turn.user)) is not None


# request → (the text for volunteers and admins, the text for everyone else)
_ROLE_TEXTS = {
    "volunteer": ("role_volunteer_staff", "role_volunteer_citizen"),
}


def _for_role(core: Assistant, turn: Turn, name: str) -> Response:
    staff, citizen = _ROLE_TEXTS[name]
    return turn.reply([Reply(text=t(staff if _staff(core, turn) else citizen, turn.lang))], intent=f"role_{name}")


def role_volunteer(core: Assistant, turn: Turn) -> Response:
    return _for_role(core, turn, "volunteer")


def role_share(core: Assistant, turn: Turn) -> Response:
    return turn.reply([Reply(text=t("role_share", turn.lang))], intent="role_share")


# -- learning: the Tutor owns quizzes, review, progress, certificates and data deletion ---------------


def quiz(core: Assistant, turn: Turn) -> Response:
    return _learning(core, turn, lambda tutor: tutor.quiz_command(turn.user, turn.args, turn.lang))


def progress(core: Assistant, turn: Turn) -> Response:
    return _learning(core, turn, lambda tutor: tutor.progress(turn.user, turn.lang))


def review(core: Assistant, turn: Turn) -> Response:
    return _learning(core, turn, lambda tutor: tutor.review(turn.user, turn.lang))


def certificates(core: Assistant, turn: Turn) -> Response:
    return _learning(core, turn, lambda tutor: tutor.cert_command(turn.user, turn.args, turn.lang))


def delete_data(core: Assistant, turn: Turn) -> Response:
    return _learning(core, turn, lambda tutor: tutor.ask_delete(turn.user, turn.lang))


def start_quiz(core: Assistant, turn: Turn) -> Response | None:
    """The NLU's start_quiz ("cho tôi làm bài kiểm tra về lừa đảo")."""
    if core.tutor is None or turn.intent is None or says_done(fold(turn.text)):
        return None  # "con kiểm tra rồi" tells what was done: a quiz would start at once on it
    intent = turn.intent
    hint = topic_just_read(core, turn)
    return _learned(turn, core.tutor.start_quiz_intent(turn.user, intent, turn.text, turn.lang, topic_hint=hint))


def topic_just_read(core: Assistant, turn: Turn) -> str | None:
    """The topic of the article the user last read or followed: a quiz asked for without a topic is on it."""
    article_id = turn.state.step_article or turn.state.last_article
    return core.kb.get(article_id, turn.lang).topic if article_id is not None and article_id in core.kb else None


def quiz_answer(core: Assistant, turn: Turn) -> Response | None:
    """The NLU's quiz_answer ("tôi chọn B") when no quiz question took the text first."""
    if core.tutor is None:
        return None
    return _learned(turn, core.tutor.quiz_answer_intent(turn.user, turn.text, turn.lang))


def quiz_answer_button(core: Assistant, turn: Turn) -> Response:
    return _learning_button(core, turn, lambda tutor, action: tutor.answer_button(turn.user, action, turn.lang))


def quiz_start_button(core: Assistant, turn: Turn) -> Response:
    return _learning_button(core, turn, lambda tutor, action: tutor.start_button(turn.user, action, turn.lang))


def delete_button(core: Assistant, turn: Turn) -> Response:
    return _learning_button(core, turn, lambda tutor, action: tutor.confirm_delete(turn.user, action, turn.lang))


def holder_name_button(core: Assistant, turn: Turn) -> Response:
    return _learning_button(core, turn, lambda tutor, action: tutor.holder_button(turn.user, action, turn.lang))


def _learning(core: Assistant, turn: Turn, call: Callable[[Tutor], LearningReply]) -> Response:
    if core.tutor is None:  # `hocvu ask` and other one-shot uses keep no learning records
        return turn.reply([Reply(text=t("not_available", turn.lang))], intent="not_available")
    return _learned(turn, call(core.tutor))


def _learning_button(core: Assistant, turn: Turn, call: Callable[[Tutor, actions.Action], LearningReply]) -> Response:
    if core.tutor is None or turn.action is None:
        return stale_button(core, turn)
    return _learned(turn, call(core.tutor, turn.action))


def _learned(turn: Turn, learned: LearningReply) -> Response:
    return turn.reply(learned.replies, intent=learned.intent, forget_user=learned.forget_user)


# -- people: where a user lives, subscriptions, roles (bot/profiles.py) ------------------------------


def profile(core: Assistant, turn: Turn) -> Response:
    return profiles.show(core, turn)


def profile_button(core: Assistant, turn: Turn) -> Response:
    return profiles.button(core, turn) or stale_button(core, turn)


def profile_answer(core: Assistant, turn: Turn) -> Response | None:
    """A typed answer to the open /profile question; None: not one."""
    return profiles.on_text(core, turn)


def subscribe(core: Assistant, turn: Turn) -> Response:
    return profiles.subscribe(core, turn)


def unsubscribe(core: Assistant, turn: Turn) -> Response:
    return profiles.unsubscribe(core, turn)


def subscribe_button(core: Assistant, turn: Turn) -> Response:
    return profiles.subscribe_button(core, turn) or stale_button(core, turn)


def unsubscribe_button(core: Assistant, turn: Turn) -> Response:
    return profiles.unsubscribe_button(core, turn) or stale_button(core, turn)


def stop_word(core: Assistant, turn: Turn) -> Response | None:
    """ "DỪNG", "HỦY", "STOP" from a subscribed user, on any channel, whatever is open."""
    return profiles.stop_word(core, turn)


def promote(core: Assistant, turn: Turn) -> Response:
    return profiles.promote(core, turn)


def demote(core: Assistant, turn: Turn) -> Response:
    return profiles.demote(core, turn)


def roles(core: Assistant, turn: Turn) -> Response:
    return profiles.list_roles(core, turn)


# -- volunteers -----------------------------------------------------------------------------------


def talk_to_volunteer(core: Assistant, turn: Turn) -> Response:
    lang, state = turn.lang, turn.state
    if turn.message.channel not in core.handover_channels:
        # Nobody on duty here: the configured local contacts, else where to go in person.
        if core.contacts:
            text = t("handover_contacts", lang, contacts=stepmode.contact_lines(core.contacts))
        else:
            text = t("handover_advice", lang)
        return turn.reply([Reply(text=text)], intent="talk_to_volunteer")
    shown = state.last_article
    last = core.kb.get(shown, lang).title if shown is not None and shown in core.kb else None
    replies, turn.state, event = handover.open_request(
        state,
        lang,
        display_name=turn.message.display_name,
        last_answer=last,
        region=None,
        note_lang=core.default_lang,
    )
    return turn.reply(replies, intent="talk_to_volunteer", handover=event)


def end_handover(core: Assistant, turn: Turn) -> Response:
    replies, turn.state, event = handover.close(
        turn.state, turn.lang, display_name=turn.message.display_name, note_lang=core.default_lang
    )
    return turn.reply(replies, intent="end_handover", handover=event)


def relay_to_volunteer(core: Assistant, turn: Turn) -> Response:
    """During a handover the user's (redacted) text goes to the volunteers' group, not to the bot."""
    replies, event = handover.relay(turn.redacted, display_name=turn.message.display_name, note_lang=core.default_lang)
    return turn.reply(replies, intent="handover_relay", handover=event)
