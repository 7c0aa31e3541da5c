"""Step mode as an elderly user follows it: go to a step by its number, "where am I", the step again with its
tips when it was not understood (and a person offered after two), procedures paused for a side question and
resumed where they were, and a short message after an answer read as a follow-up on that article.

The phrases that lead here are in bot/routes.py (FLOWS); the state they keep is `ConversationState.step_article`,
`step_index`, `paused` and `unclear`. Decided here: a bare number typed while a procedure is open is that step
(buttons in step mode navigate, they are not numbered choices). Channels that show buttons as numbered lines
(the terminal, Zalo) turn a number within the choices just shown into that button before the core sees it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot import answers
from bot.messages import Reply, Response
from bot.texts import t
from bot.turn import Turn
from knowledge_base.articles import Article
from knowledge_base.topics import find_topic
from language.query import Query

if TYPE_CHECKING:
    from bot.assistant import Assistant

MAX_PAUSED = 3  # procedures kept open under a side question
OFFER_PERSON_AFTER = 2  # "chưa hiểu" messages in a row about one step

_NUMBERS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
    "muoi": 10, "muoi mot": 11, "muoi hai": 12, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "first": 1,
}  # fmt: skip
NUMBER = r"\d{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r"|cuoi(?: cung)?|last"
_STEP_NUMBER = re.compile(rf"(?:buoc|step)(?: so| thu| number| no)? (?P<n>{NUMBER})\b")


def wanted_step(folded: str) -> int | str | None:
    """The step number a message names ("bước 5", "buoc nam", "step five", "5"), "last", or None."""
    match = _STEP_NUMBER.search(folded)
    word = match.group("n") if match else folded.strip()
    if word.isdigit():
        return int(word)
    if word in ("cuoi", "cuoi cung", "last"):
        return "last"
    return _NUMBERS.get(word) if match else None


# Words of a request for step-by-step help that name no subject (folded).
_REQUEST_WORDS = (
    "lam tung buoc mot cac chi huong dan cho giup xem doc di nhe a oi ba ong toi tui minh em bac con chau "
    "step by show me the steps one at a time please guide"
)
_NOT_A_SUBJECT = frozenset(_REQUEST_WORDS.split())


def names_a_subject(folded: str) -> bool:
    """Whether a request for step-by-step help also says what about ("cài smart otp từng bước")."""
    return any(word not in _NOT_A_SUBJECT for word in re.sub(r"[^\w\s]", " ", folded).split())


def _procedure(core: Assistant, turn: Turn) -> Article | None:
    """The procedure the user is in, else the last article answered if it has steps."""
    article_id = turn.state.step_article or turn.state.last_article
    if article_id is None or article_id not in core.kb:
        return None
    article = core.kb.get(article_id, turn.lang)
    return article if article.steps else None


def show_step(core: Assistant, turn: Turn, article: Article, index: int, intent: str, *before: Reply) -> Response:
    index = max(0, min(index, len(article.steps) - 1))
    changed = (turn.state.step_article, turn.state.step_index) != (article.id, index)
    turn.update(
        last_article=article.id,
        step_article=article.id,
        step_index=index,
        unclear=0 if changed else turn.state.unclear,
        on_step=True,
    )
    return turn.reply(
        [*before, answers.step_reply(article, index, turn.lang)],
        intent=intent,
        topic=article.topic,
        article_id=article.id,
    )


def go_to(core: Assistant, turn: Turn) -> Response | None:
    """ "bước 5", "cho bà xem bước năm", "step 5"; a bare "5" only while a procedure is open."""
    assert turn.normalized is not None
    bare = turn.normalized.folded.strip().isdigit()
    if bare and turn.state.step_article is None:
        return None
    wanted = wanted_step(turn.normalized.folded)
    article = _procedure(core, turn)
    if wanted is None or article is None:
        return None if bare else turn.reply([Reply(text=t("step_mode_none", turn.lang))], intent="goto_step")
    total = len(article.steps)
    number = total if wanted == "last" else int(wanted)
    if not 1 <= number <= total:
        text = t("step_out_of_range", turn.lang, title=article.title, total=total)
        return turn.reply([Reply(text=text)], intent="goto_step", article_id=article.id)
    return show_step(core, turn, article, number - 1, "goto_step")


def where_am_i(core: Assistant, turn: Turn) -> Response | None:
    """ "đang ở bước mấy": the position, and the step again. None with no procedure open or paused ("tới đâu"
    may be a question: "chuyển tiền tới đâu")."""
    article_id = turn.state.step_article
    if article_id is None or article_id not in core.kb:
        paused = turn.state.paused_steps()
        if not paused:
            return None
        article_id, index = paused[-1]
        turn.update(paused=turn.state.paused[:-1])
    else:
        index = turn.state.step_index
    article = core.kb.get(article_id, turn.lang)
    index = max(0, min(index, len(article.steps) - 1))
    where = Reply(text=t("where_am_i", turn.lang, n=index + 1, total=len(article.steps), title=article.title))
    return show_step(core, turn, article, index, "where_am_i", where)


def unclear(core: Assistant, turn: Turn) -> Response | None:
    """ "chưa hiểu", "chậm thôi", "không thấy", "bấm rồi mà không thấy gì": the step again, slowly, with the
    article's tips for it; a person offered from the second time in a row. Never negative feedback."""
    article = _procedure(core, turn)
    if article is None or (turn.state.step_article is None and turn.after != article.id):
        # Nothing open to repeat. A short message naming nothing ("bấm rồi mà không thấy gì") is still not
        # feedback: ask what it is about. One naming a subject is a question for the knowledge base.
        assert turn.normalized is not None
        folded = turn.normalized.folded
        if len(folded.split()) > 6 or find_topic(folded) is not None:
            return None
        return turn.reply(
            [Reply(text=t("unclear_nothing_open", turn.lang)), offer_person(core, turn)], intent="repeat_step"
        )
    if turn.state.step_article != article.id:  # right after an answer: go through it one step at a time
        return show_step(core, turn, article, 0, "repeat_step", Reply(text=t("step_start_slowly", turn.lang)))
    index = max(0, min(turn.state.step_index, len(article.steps) - 1))
    tips = answers.step_tips(article, index)
    bullets = "\n".join(f"• {tip}" for tip in tips)
    intro = Reply(text=t("step_again_tips", turn.lang, tips=bullets) if tips else t("step_again", turn.lang))
    count = turn.state.unclear + 1
    response = show_step(core, turn, article, index, "repeat_step", intro)
    turn.update(unclear=count)
    if count >= OFFER_PERSON_AFTER:
        response.replies.append(offer_person(core, turn))
    return response


def offer_person(core: Assistant, turn: Turn) -> Reply:
    """Who can help in person: the volunteers where a desk is behind the channel, else the configured local
    contacts, else where to go (no number is ever invented)."""
    if turn.message.channel in core.handover_channels:
        return Reply(text=t("offer_person", turn.lang))
    if core.contacts:
        return Reply(text=t("offer_contacts", turn.lang, contacts=contact_lines(core.contacts)))
    return Reply(text=t("offer_advice", turn.lang))


def contact_lines(contacts: tuple[str, ...]) -> str:
    return "\n".join(f"• {contact}" for contact in contacts)


def pause_open_procedure(turn: Turn, new_article: str) -> None:
    """A side question while a procedure is open: keep the procedure where it was, to resume it later."""
    open_id = turn.state.step_article
    if open_id is None or open_id == new_article:
        return
    entry = f"{open_id}:{turn.state.step_index}"
    kept = tuple(p for p in turn.state.paused if not p.startswith(f"{open_id}:"))
    turn.update(paused=(*kept, entry)[-MAX_PAUSED:])


def resume(core: Assistant, turn: Turn) -> Response | None:
    """ "quay lại cái lúc nãy", "tiếp cái lúc nãy", or "tiếp"/"quay lại" right after a side answer: the newest
    paused procedure at the step where it was. None when nothing is paused."""
    paused = [(a, i) for a, i in turn.state.paused_steps() if a in core.kb]
    if not paused:
        turn.update(paused=())
        return None
    article_id, index = paused[-1]
    turn.update(paused=turn.state.paused[:-1])
    article = core.kb.get(article_id, turn.lang)
    if not article.steps:
        return None
    back = Reply(text=t("resumed", turn.lang, title=article.title))
    return show_step(core, turn, article, index, "resume", back)


def resume_asked(core: Assistant, turn: Turn) -> Response:
    """The explicit "quay lại cái lúc nãy": the paused procedure resumed; with none paused, the one still open
    at its step (a side question the assistant could not answer leaves it open, not paused); else said so."""
    if (resumed := resume(core, turn)) is not None:
        return resumed
    article_id = turn.state.step_article
    if article_id is not None and article_id in core.kb:
        article = core.kb.get(article_id, turn.lang)
        if article.steps:
            index = max(0, min(turn.state.step_index, len(article.steps) - 1))
            back = Reply(text=t("resumed", turn.lang, title=article.title))
            return show_step(core, turn, article, index, "resume", back)
    return turn.reply([Reply(text=t("nothing_paused", turn.lang))], intent="resume")


def follow_up(core: Assistant, turn: Turn) -> Response | None:
    """A short message right after an answer, matched first against that article's own tips, warnings and steps:
    "bà già rồi đi lại khó lắm" after the level-2 article is its part about help at home."""
    article_id = turn.after
    if article_id is None or article_id not in core.kb or turn.normalized is None:
        return None
    article = core.kb.get(article_id, turn.lang)
    part = answers.follow_up_part(article, turn.text)
    if part is None:
        return None
    # A confident answer from another article wins: "cán bộ bảo bổ sung giấy tờ" after the tracking article
    # is the article about supplementing a dossier, not the tracking article's step that mentions it.
    turn.query = Query(turn.normalized, core.embedder)
    turn.result = core.retriever.search(turn.query)
    best = turn.result.best
    if not turn.result.fallback and best is not None and best.article_id != article.id:
        return None
    turn.update(last_article=article.id, follow_up=article.id)
    return turn.reply(
        [answers.follow_up_reply(article, part, turn.lang)],
        intent="follow_up",
        topic=article.topic,
        article_id=article.id,
    )
