"""Turning articles into replies: the short first answer, the full text, one step at a time, a follow-up
answered from the article's own sections, and the fallback."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from bot import actions
from bot.messages import Button, Link, Reply
from bot.texts import button_label, t
from knowledge_base.articles import Article, KnowledgeBase
from language.normalize import fold

# The first reply to a question fits one phone screen: the short answer (what it is, what is needed) with the
# steps and the full text one tap away (issue #18: the median was 1,974 characters, three screens).
BRIEF_MAX_CHARS = 600
TROUBLESHOOTING = frozenset({"neu gap loi", "if something goes wrong"})
WARNINGS = frozenset({"luu y", "important"})


def _sources(article: Article) -> tuple[Link, ...]:
    return tuple(Link(url.removeprefix("https://").split("/")[0], url) for url in article.sources)


def _feedback_row(article: Article, lang: str) -> tuple[Button, ...]:
    return (
        Button(button_label("helpful", lang), actions.encode(actions.Verb.FEEDBACK, article.id, "+")),
        Button(button_label("not_helpful", lang), actions.encode(actions.Verb.FEEDBACK, article.id, "-")),
    )


def brief_answer(kb: KnowledgeBase, article: Article, lang: str) -> Reply:
    """The first reply: the title and the short answer, cut at a sentence to stay within BRIEF_MAX_CHARS, with
    "step by step" and "full text" buttons. An article whose whole text is already that short is sent whole."""
    full = full_answer(kb, article, lang)
    if len(full.plain_text(t("sources", lang))) <= BRIEF_MAX_CHARS:
        return full
    hint = t("brief_hint_steps", lang, n=len(article.steps)) if article.steps else t("brief_hint", lang)
    budget = BRIEF_MAX_CHARS - len(article.title) - len(hint) - 4  # the blank lines plain text puts between parts
    rows: list[tuple[Button, ...]] = []
    if article.steps:
        rows.append((Button(button_label("step_by_step", lang), actions.encode(actions.Verb.STEP, article.id, 0)),))
    rows.append((Button(button_label("full_text", lang), actions.encode(actions.Verb.FULL_TEXT, article.id)),))
    related = [kb.get(r, lang) for r in article.related if r in kb][:2]
    rows.extend((Button("📄 " + other.title, actions.encode(actions.Verb.ARTICLE, other.id)),) for other in related)
    rows.append(_feedback_row(article, lang))
    return Reply(
        title=f"**{article.title}**", text=f"{_shorten(article.summary, budget)}\n\n{hint}", buttons=tuple(rows)
    )


def _shorten(text: str, budget: int) -> str:
    """Whole sentences while they fit (markup counted as plain text shows it); else the first one cut at a word."""
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if len(" ".join([*kept, sentence]).replace("**", "")) > budget:
            break
        kept.append(sentence)
    if kept:
        return " ".join(kept)
    plain = text.replace("**", "")
    return plain[: max(0, budget - 1)].rsplit(" ", 1)[0] + "…"


def full_answer(kb: KnowledgeBase, article: Article, lang: str) -> Reply:
    rows: list[tuple[Button, ...]] = []
    if article.steps:
        rows.append((Button(button_label("step_by_step", lang), actions.encode(actions.Verb.STEP, article.id, 0)),))
    related = [kb.get(r, lang) for r in article.related if r in kb][:2]
    for other in related:
        rows.append((Button("📄 " + other.title, actions.encode(actions.Verb.ARTICLE, other.id)),))
    rows.append(_feedback_row(article, lang))
    return Reply(
        title=f"**{article.title}**",
        text=article.summary,
        steps=article.steps,
        sections=tuple((s.heading, s.text) for s in article.sections),
        sources=_sources(article),
        buttons=tuple(rows),
    )


def step_reply(article: Article, index: int, lang: str) -> Reply:
    """One step of a procedure, with navigation buttons that name their own position.

    Buttons carry the step they lead to, so a double tap shows the same step twice instead of skipping one.
    """
    total = len(article.steps)
    index = max(0, min(index, total - 1))
    nav: list[Button] = []
    if index > 0:
        nav.append(Button(button_label("previous", lang), actions.encode(actions.Verb.STEP, article.id, index - 1)))
    nav.append(Button(button_label("repeat", lang), actions.encode(actions.Verb.STEP, article.id, index)))
    if index < total - 1:
        nav.append(Button(button_label("next", lang), actions.encode(actions.Verb.STEP, article.id, index + 1)))
    rows: list[tuple[Button, ...]] = [
        tuple(nav),
        (Button(button_label("all_steps", lang), actions.encode(actions.Verb.ALL_STEPS, article.id)),),
    ]
    text = ""
    if index == total - 1:
        text = t("steps_done", lang)
        rows.append(_feedback_row(article, lang))
    return Reply(
        title=t("step_title", lang, n=index + 1, total=total, title=f"**{article.title}**"),
        steps=(article.steps[index],),
        first_step=index + 1,
        text=text,
        buttons=tuple(rows),
    )


def all_steps(article: Article, lang: str) -> Reply:
    return Reply(
        title=f"**{article.title}**",
        steps=article.steps,
        sections=tuple((s.heading, s.text) for s in article.sections),
        sources=_sources(article),
        buttons=(_feedback_row(article, lang),),
    )


def fallback(kb: KnowledgeBase, suggestions: list[str], lang: str) -> Reply:
    text = t("fallback", lang)
    rows: tuple[tuple[Button, ...], ...] = ()
    if suggestions:
        titles = [kb.get(s, lang).title for s in suggestions]
        text = f"{text}\n\n{t('did_you_mean', lang)}\n" + "\n".join(f"• {title}" for title in titles)
        rows = tuple(
            (Button(title, actions.encode(actions.Verb.ARTICLE, s)),)
            for title, s in zip(titles, suggestions, strict=True)
        )
    return Reply(text=text, buttons=rows)


# -- an article's own sections: the tips for one step, the part a follow-up is about -----------------------

# Words that say nothing about what a sentence is about (folded): pronouns and forms of address, particles,
# the commonest verbs and connectives. What is left decides which part of an article a message is about.
_FILLER_WORDS = (
    "a ah a o oi nhe nha nhi vay the thi ma la va voi cua cho de duoc bi roi da dang se cung con nua khong ko chua "
    "co nao gi sao lam lam qua lam lam roi nay kia do day the nhu nhung cac mot moi khi neu vi nen hay hoac tai tu "
    "ra vao len xuong toi tui minh em anh chi ban ba ong chau bac co chu di ay u uh vang dung "
    "the a an and or of to in on at for is are was be it i you my me we do does did not no can how what this that "
    "with from by so but if then just very"
)
_FILLER = frozenset(_FILLER_WORDS.split())
# A few ways people say what an article says in other words (folded): "bà già rồi" is the article's "người cao tuổi".
_SAME = {"gia": "cao tuoi", "yeu": "om yeu", "old": "elderly", "giay": "giay to", "met": "om yeu"}


@dataclass(frozen=True)
class Part:
    """One line of an article a message can be about: a step, a tip when something fails, a warning."""

    heading: str
    text: str


def words(text: str) -> list[str]:
    """The words of `text` that say what it is about (folded; filler words and numbers out)."""
    typed = re.sub(r"[^\w\s]", " ", fold(text.replace("**", ""))).split()
    expanded = " ".join(_SAME.get(w, w) for w in typed).split()
    return [w for w in expanded if w not in _FILLER and not w.isdigit()]


def _overlap(message: list[str], part: list[str]) -> tuple[int, int]:
    """(shared words, shared word pairs) of a message and a part of an article."""
    pairs = set(itertools.pairwise(part))
    return len(set(message) & set(part)), len(set(itertools.pairwise(message)) & pairs)


def _bullets(article: Article, headings: frozenset[str]) -> list[Part]:
    found = []
    for section in article.sections:
        if fold(section.heading).strip() in headings:
            for line in section.text.splitlines():
                if line.strip().startswith(("-", "*")):
                    found.append(Part(section.heading, line.strip().lstrip("-* ").strip()))
    return found


def step_tips(article: Article, index: int, limit: int = 3) -> tuple[str, ...]:
    """What to do when this step fails: the article's troubleshooting tips that share words with the step,
    else its first two tips (an article says what goes wrong; it rarely says at which step)."""
    tips = _bullets(article, TROUBLESHOOTING)
    step = words(article.steps[index])
    scored = [(sum(_overlap(step, words(tip.text))), n, tip) for n, tip in enumerate(tips)]
    matching = [tip.text for score, _, tip in sorted(scored, key=lambda s: (-s[0], s[1])) if score >= 2]
    return tuple(matching[:limit] or [tip.text for tip in tips[:2]])


@functools.lru_cache(maxsize=512)
def _parts(article: Article) -> tuple[tuple[Part, list[str]], ...]:
    """An article's tips, warnings and steps with their words, read once per article (a follow-up is checked
    after every answer)."""
    parts = [*_bullets(article, TROUBLESHOOTING), *_bullets(article, WARNINGS)]
    parts += [Part(str(n), step) for n, step in enumerate(article.steps, start=1)]
    return tuple((part, words(part.text)) for part in parts)


def follow_up_part(article: Article, message: str) -> Part | None:
    """The part of `article` (a tip, a warning, a step) a short message after its answer is about, or None.

    A part matches when it shares a pair of consecutive words with the message, or most of the message's
    words: "bà già rồi đi lại khó lắm" is the level-2 article's "người cao tuổi ... khó đi lại".
    """
    said = words(message)
    if not said or len(message.split()) > 12:
        return None
    best: tuple[int, Part] | None = None
    for part, part_words in _parts(article):
        shared, pairs = _overlap(said, part_words)
        covered = shared / len(set(said))
        if (pairs >= 1 and shared >= 2 and covered >= 0.5) or (shared >= 3 and covered >= 0.6):
            score = shared + 2 * pairs
            if best is None or score > best[0]:
                best = (score, part)
    return best[1] if best else None


def follow_up_reply(article: Article, part: Part, lang: str) -> Reply:
    rows: list[tuple[Button, ...]] = []
    if article.steps:
        rows.append((Button(button_label("step_by_step", lang), actions.encode(actions.Verb.STEP, article.id, 0)),))
    rows.append((Button(button_label("full_text", lang), actions.encode(actions.Verb.FULL_TEXT, article.id)),))
    where = t("step_word", lang, n=part.heading) if part.heading.isdigit() else part.heading
    return Reply(title=f"**{article.title}**", text=f"{where}: {part.text}", buttons=tuple(rows))
