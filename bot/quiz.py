"""The quiz state machine and its replies. Pure: no storage, no clock, no randomness.

A quiz is a QuizSession (bot.learning): the question ids and the index of the open question. An answer
is an event (which session, which question, which option) that either scores the open question or is
refused as stale / already answered. The LearningStore applies the transition atomically.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot import actions
from bot.learning import QuizSession, ReviewCard
from bot.messages import Button, Reply
from bot.review import MASTERED_BOX
from bot.texts import t
from knowledge_base.learning import LETTERS, QuizQuestion
from knowledge_base.topics import topic_name
from language.normalize import fold, strip_marks

QUIZ_SIZE = 5
REVIEW_SIZE = 5

# -- choosing questions ----------------------------------------------------------------------------


def topic_questions(
    bank: Sequence[QuizQuestion], cards: Mapping[str, ReviewCard], size: int = QUIZ_SIZE
) -> tuple[str, ...]:
    """Questions the user has not mastered yet first, in the authors' order (easy to hard)."""
    fresh = [q.id for q in bank if q.id not in cards or cards[q.id].box < MASTERED_BOX]
    known = sorted((q for q in bank if q.id not in fresh), key=lambda q: cards[q.id].due_at)
    return tuple([*fresh, *(q.id for q in known)][:size])


def final_questions(bank: Sequence[QuizQuestion], size: int) -> tuple[str, ...]:
    """The final test: the same questions for everyone, so certificates mean the same thing."""
    return tuple(q.id for q in bank if q.final)[:size]


def due_questions(
    cards: Mapping[str, ReviewCard], known: Mapping[str, QuizQuestion], now: datetime, size: int = REVIEW_SIZE
) -> tuple[str, ...]:
    due = sorted((c for c in cards.values() if c.due_at <= now and c.question_id in known), key=lambda c: c.due_at)
    return tuple(c.question_id for c in due[:size])


# -- answers ---------------------------------------------------------------------------------------

_LETTER = re.compile(
    r"^(?:(?:dap an|phuong an|toi chon|chon|cau|answer|option|choose|la)\s*)*([a-d1-4])\s*[.):]?(?:\s*(?:a|nhe|nha|ah))?$"
)
_PUNCT = re.compile(r"[^\w\s]")
# An option named by its place, as people point at it ("cái thứ hai", "đáp án thứ 2", "câu đầu tiên", "the second
# one"), hedged or not ("chắc là cái thứ hai", "I think it's the second one"): a guess is an answer, and its
# feedback says which one is right. Folded; two places named ("thứ hai hay thứ ba") are no answer.
_PLACES = {"nhat": 0, "dau tien": 0, "hai": 1, "ba": 2, "tu": 3, "bon": 3, "first": 0, "second": 1, "third": 2,
           "fourth": 3, "1": 0, "2": 1, "3": 2, "4": 3}  # fmt: skip
_PLACE = re.compile(
    r"\b(?:cai|cau|dap an|phuong an|y|lua chon|o|dong)\s+(?:thu\s+(nhat|hai|ba|tu|bon|[1-4])|(dau tien))\b"
    r"|\b(?:cai|dap an|phuong an|lua chon|y)\s+(?:so\s+)?([1-4])\b"
    r"|\bthe\s+(first|second|third|fourth)(?:\s+(?:one|option|answer|choice))?\b"
    r"|\b(first|second|third|fourth)\s+(?:one|option|answer|choice)\b"
)
_ANY_PLACE = re.compile(r"(?<=\bthu )(?:nhat|hai|ba|tu|bon|[1-4])\b|\b(?:first|second|third|fourth)\b")
_NOT_AN_OPTION = re.compile(r"\b(?:buoc|step|steps|ngay|tuan|thang|nam|lan|time|day|week)\b")
# The letter alone at the end of a sentence, typed as a capital ("chắc là B", "I think it's C?"), matched on the
# sentence without its marks but with its capitals (the particles after it: "nhé", "ạ", "đi", "nhỉ", "chăng").
_LAST_LETTER = re.compile(r"(?<![\w'’])([A-D])[\s.?!)]*(?:\s+(?:nhe|nha|a|ay|di|nhi|chang))*[\s.?!]*$")


def _place(folded: str, original: str, options: int) -> int | None:
    """The option a sentence points at by its place or a capital letter at its end; None when it names none or two."""
    if _NOT_AN_OPTION.search(folded):
        return None
    places = {_PLACES[next(g for g in match.groups() if g)] for match in _PLACE.finditer(folded)}
    places |= {_PLACES[word] for word in _ANY_PLACE.findall(folded)} if places else set()
    letter = _LAST_LETTER.search(strip_marks(original.strip()))
    if letter is not None:
        places.add(LETTERS.index(letter.group(1)))
    if len(places) != 1:
        return None
    (index,) = places
    return index if index < options else None


def parse_answer(text: str, options: Sequence[str]) -> int | None:
    """The option a typed answer picks: a letter, a number, or the option's words (diacritics optional)."""
    folded = " ".join(_PUNCT.sub(" ", fold(text)).split())
    if not folded:
        return None
    match = _LETTER.match(folded)
    if match:
        token = match.group(1)
        index = int(token) - 1 if token.isdigit() else LETTERS.lower().index(token)
        return index if index < len(options) else None
    if len(folded) < 3:
        return None
    folded_options = [" ".join(_PUNCT.sub(" ", fold(o)).split()) for o in options]
    exact = [i for i, o in enumerate(folded_options) if o == folded]
    if exact:
        return exact[0]
    # A part of one option ("cong ty vien thong"), but not a lone word that happens to be in it ("viet").
    contained = [
        i
        for i, o in enumerate(folded_options)
        if (len(folded.split()) >= 2 or 2 * len(folded) >= len(o)) and re.search(rf"\b{re.escape(folded)}\b", o)
    ]
    if len(contained) == 1:
        return contained[0]
    words = set(folded.split())
    if len(words) < 2:
        return None
    shares = [len(words & set(o.split())) / len(words) for o in folded_options]
    best = max(shares)
    if best >= 0.75 and shares.count(best) == 1:
        return shares.index(best)
    return _place(folded, text, len(options))


class Outcome(Enum):
    SCORED = "scored"
    ALREADY_ANSWERED = "already_answered"  # a double tap, or a button of a question already answered
    STALE = "stale"  # a button from a quiz that is over or was replaced by another


@dataclass(frozen=True)
class AnswerEvent:
    session_id: int
    position: int
    choice: int


def classify(session: QuizSession | None, event: AnswerEvent) -> Outcome:
    """Whether an answer may score the open question, before anything is written."""
    if session is None or session.id != event.session_id or session.abandoned:
        return Outcome.STALE
    if event.position < session.position:
        return Outcome.ALREADY_ANSWERED
    if session.finished or event.position != session.position:
        return Outcome.STALE
    return Outcome.SCORED


def is_correct(question: QuizQuestion, choice: int) -> bool:
    return choice == question.answer


def passed(session: QuizSession, pass_percent: int) -> bool:
    return session.finished and session.total > 0 and 100 * session.correct >= pass_percent * session.total


# -- replies ---------------------------------------------------------------------------------------


def quiz_title(session: QuizSession, lang: str) -> str:
    if session.kind == "review":
        return t("review_title", lang)
    name = topic_name(session.topic, lang)
    return t("final_title" if session.kind == "final" else "quiz_title", lang, topic=name)


def question_reply(session: QuizSession, question: QuizQuestion, lang: str) -> Reply:
    text = question.text(lang)
    options = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(text.options))
    buttons = tuple(
        Button(LETTERS[i], actions.encode(actions.Verb.QUIZ_ANSWER, session.id, session.position, i))
        for i in range(len(text.options))
    )
    return Reply(
        title=t(
            "question_title", lang, n=session.position + 1, total=session.total, quiz=f"**{quiz_title(session, lang)}**"
        ),
        text=f"{text.question}\n\n{options}\n\n{t('answer_hint', lang, letters=', '.join(LETTERS[: len(text.options)]))}",
        buttons=(buttons,),
    )


def feedback_reply(question: QuizQuestion, choice: int, article_title: str | None, lang: str) -> Reply:
    text = question.text(lang)
    if is_correct(question, choice):
        head = t("answer_right", lang)
    else:
        head = t("answer_wrong", lang, letter=LETTERS[question.answer], option=text.options[question.answer])
    rows: tuple[tuple[Button, ...], ...] = ()
    if article_title:
        rows = ((Button("📄 " + article_title, actions.encode(actions.Verb.ARTICLE, question.article)),),)
    return Reply(text=f"{head}\n{text.explanation}", buttons=rows)


def result_reply(session: QuizSession, lang: str) -> Reply:
    return Reply(
        title=f"**{quiz_title(session, lang)}**",
        text=t("quiz_score", lang, correct=session.correct, total=session.total, percent=session.percent),
    )
