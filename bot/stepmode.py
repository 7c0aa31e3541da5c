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
    "nhat": 1, "dau tien": 1, "dau": 1,  # "bước thứ nhất", "bước đầu tiên", "bước đầu"
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10,
}  # fmt: skip
_LAST = ("cuoi cung", "cuoi", "last", "final")
NUMBER = r"\d{1,2}|" + "|".join(sorted([*_NUMBERS, *_LAST], key=len, reverse=True))
_ORDINAL = "|".join(sorted([*_ORDINALS, *_LAST], key=len, reverse=True))
# A step named by its number or place (folded): "bước 5", "bước thứ năm", "bước đầu tiên", "bước cuối", "step 5",
# "the first step", "the last step"; and back to the start: "làm lại từ đầu", "start over". routes.FLOWS matches them.
STEP_PATTERNS = (
    rf"(?:buoc|step)(?: so| thu| number| no)? (?:{NUMBER})",
    rf"(?:the )?(?:{_ORDINAL}) step",
    r"(?:lam |xem |doc |huong dan |quay |di |bat dau )?lai (?:tu dau|tu buoc dau)|(?:bat dau )?lai tu dau|"
    r"(?:start|go) (?:it )?(?:over|again from the (?:beginning|start))|from the (?:beginning|start|first step)",
)
_STEP_NUMBER = re.compile(
    rf"(?:buoc|step)(?: so| thu| number| no)? (?P<n>{NUMBER})\b|\b(?:the )?(?P<o>{_ORDINAL}) step\b"
    r"|(?P<start>\btu dau\b|\bstart\b|\bbeginning\b|\bover\b)"
)


def wanted_step(folded: str) -> int | str | None:
    """The step number a message names ("bước 5", "buoc nam", "step five", "bước đầu tiên", "the second step",
    "làm lại từ đầu", "5"), "last", or None."""
    match = _STEP_NUMBER.search(folded)
    if match is not None and match.group("start"):
        return 1
    word = (match.group("n") or match.group("o")) if match else folded.strip()
    if word.isdigit():
        return int(word)
    if word in _LAST:
        return "last"
    return (_NUMBERS.get(word) or _ORDINALS.get(word)) if match else None


# What was done ("bấm", "ấn", "gõ") and that nothing came of it ("vẫn y nguyên", "cứ đứng im", "chẳng chạy"), folded.
_DONE = r"(?:bam|an|cham|nhan|go|nhap|mo|chon|quet|lam|dien|bat|cai|vao|tap|click|press\w*|tap\w*|click\w*)"
_NOTHING = (
    r"(?:khong|chang|cha|chua|van khong|van chua|cung khong|cung chang|van chang|khong he) "
    r"(?:chay|nhuc nhich|len|hien(?: ra)?|thay doi|doi|phan ung|sang(?: trang)?|mo(?: ra)?|chuyen(?: trang)?|"
    r"vao(?: duoc)?|ra (?:gi|cai gi)|thay (?:gi|cai gi)|co gi|xay ra gi)"
)
STUCK_PATTERNS = (
    rf"{_DONE}(?: \w+){{0,5}} (?:roi|xong|mai|hoai|ma|nhung|thi)(?: \w+){{0,5}} {_NOTHING}",
    r"y (?:nguyen|nhu cu|nguyen nhu cu)|dung (?:im|yen)(?: (?:luon|mai|ro|mot cho))?|(?:khong|chang|cha) nhuc nhich",
    r"(?:cu|van) (?:quay|xoay|load|tai|cho) (?:mai|hoai|vong vong|tron tron|lau qua)|(?:bi )?treo (?:may|man hinh|luon)",
    r"man hinh (?:van|cu|van cu) (?:the|vay|nhu the|nhu vay|nhu cu|trang)",
    r"nothing (?:happens|happened|changed|changes|moved)|"
    r"(?:it s|it is|is|still|screen s|screen is|it s still|i m) (?:stuck|frozen|blank|the same|not moving|loading)|"
    r"(?:didn t|did not|doesn t|does not|won t|will not) (?:change|respond|move|load|open|do anything|go anywhere)",
)

# Back to a walk-through left earlier (routes.FLOWS "resume"): the words that say "back to" and "earlier" (folded).
BACK = (
    r"quay lai|tro lai|quay ve|tro ve|(?:lam |xem |hoc |doc )?tiep(?: tuc)?|"
    r"back to|go back to|return to|continue(?: with)?|resume"
)
EARLIER = (
    r"luc nay|ban nay|hoi nay|khi nay|vua nay|luc truoc|hom truoc|hom qua|truoc(?: do)?|dang lam|dang do|do dang|"
    r"lam do|dang hoc|dang xem|cu|kia|earlier|before|previous|last time"
)
_EARLIER = re.compile(rf"\b(?:{EARLIER})\b")
# Words of a resume request that name no procedure (folded): what is left names the one to go back to.
_RESUME_WORDS_TEXT = (
    "quay tro lai ve tiep tuc lam xem hoc doc bai cai phan huong dan thu tuc viec cho luc nay ban hoi khi vua "
    "truoc hom qua dang do cu kia di nhe nha voi a oi minh toi tui em ba ong bac con chau co chu anh chi mk "
    "back go return continue resume with to the my earlier before previous last time one guide steps procedure "
    "article instructions please let s us we i was were doing vu nua gio thoi nhi ha vay day nao step"
)
_RESUME_WORDS = frozenset(_RESUME_WORDS_TEXT.split())

# Words of a request for step-by-step help that name no subject (folded).
_REQUEST_WORDS = (
    "lam tung buoc mot cac chi huong dan cho giup xem doc di nhe nha a oi ba ong toi tui minh mk em bac con chau co "
    "chu anh chi lan luot voi nao duoc khong ko the nhe tu dau lai quay bat di "
    "step by show me the steps one at a time please guide can could would you walk take talk through it this that "
    "again go to from start over beginning i we us let s do"
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
    folded = turn.normalized.folded
    wanted = wanted_step(folded)
    article = _procedure(core, turn)
    if wanted is None or article is None:
        # "what is the first step to install VNeID" with nothing open is a question for the knowledge base
        if bare or names_a_subject(_STEP_NUMBER.sub(" ", folded)):
            return None
        return turn.reply([Reply(text=t("step_mode_none", turn.lang))], intent="goto_step")
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
        # feedback: ask what it is about. One naming a subject ("chuyển tiền không được") is a problem the
        # knowledge base may answer: when it does, that answer (searched once, here) is given instead.
        assert turn.normalized is not None
        folded = turn.normalized.folded
        if len(folded.split()) > 6 or find_topic(folded) is not None:
            return None
        turn.query = Query(turn.normalized, core.embedder)
        turn.result = core.retriever.search(turn.query)
        if not turn.result.fallback:
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
    return _resumed(core, turn, article, index)


def _resumed(core: Assistant, turn: Turn, article: Article, index: int) -> Response:
    """`article`'s step `index` again, saying which procedure it is back to."""
    back = Reply(text=t("resumed", turn.lang, title=article.title))
    return show_step(core, turn, article, index, "resume", back)


def resume_asked(core: Assistant, turn: Turn) -> Response | None:
    """The explicit "quay lại cái lúc nãy": the paused procedure resumed; with none paused, the one still open
    at its step (a side question the assistant could not answer leaves it open, not paused); else said so.

    A request that names the procedure ("quay lại bài chuyển tiền bằng QR lúc nãy") resumes the paused or open
    one it names, whichever was paused last. Naming none of them, it is a question ("quay lại số điện thoại cũ")
    and None lets it go on; so is one that names nothing paused and says no "earlier" ("quay lại bài ...")."""
    assert turn.normalized is not None
    folded = turn.normalized.folded
    subject = [w for w in answers.words(folded) if w not in _RESUME_WORDS]
    if subject:
        named = _named_procedure(core, turn, subject)
        if named is None:
            return None
        article_id, index = named
        turn.update(paused=tuple(p for p in turn.state.paused if not p.startswith(f"{article_id}:")))
        pause_open_procedure(turn, article_id)
        return _resumed(core, turn, core.kb.get(article_id, turn.lang), index)
    if (resumed := resume(core, turn)) is not None:
        return resumed
    open_id = turn.state.step_article
    if open_id is not None and open_id in core.kb:
        article = core.kb.get(open_id, turn.lang)
        if article.steps:
            return _resumed(core, turn, article, turn.state.step_index)
    if not _EARLIER.search(folded):
        return None
    return turn.reply([Reply(text=t("nothing_paused", turn.lang))], intent="resume")


def _named_procedure(core: Assistant, turn: Turn, subject: list[str]) -> tuple[str, int] | None:
    """The paused or open procedure (article, step index) whose title or questions share most words with
    `subject`, the last paused first on a tie; None when none shares any."""
    candidates = [(a, i) for a, i in turn.state.paused_steps() if a in core.kb]
    if turn.state.step_article is not None and turn.state.step_article in core.kb:
        candidates.append((turn.state.step_article, turn.state.step_index))
    best: tuple[int, tuple[str, int]] | None = None
    for article_id, index in reversed(candidates):  # newest first: it wins a tie
        article = core.kb.get(article_id, turn.lang)
        if not article.steps:
            continue
        known = set(answers.words(" ".join([article.title, *article.questions])))
        shared = len(set(subject) & known)
        if shared and (best is None or shared > best[0]):
            best = (shared, (article_id, index))  # show_step keeps the index within the steps
    return best[1] if best else None


def stuck(core: Assistant, turn: Turn) -> Response | None:
    """ "bấm vào rồi mà màn hình vẫn y nguyên" while a walk-through is open: what "chưa hiểu" gets (the step again
    with its tips, a person offered the second time). With nothing open, a question for the knowledge base."""
    if turn.state.step_article is None:
        return None
    return unclear(core, turn)


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
