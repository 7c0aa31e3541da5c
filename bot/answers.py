"""Turning articles into replies: the full answer, one step at a time, and the fallback."""

from __future__ import annotations

from bot import actions
from bot.messages import Button, Link, Reply
from bot.texts import button_label, t
from knowledge_base.articles import Article, KnowledgeBase


def _sources(article: Article) -> tuple[Link, ...]:
    return tuple(Link(url.removeprefix("https://").split("/")[0], url) for url in article.sources)


def _feedback_row(article: Article, lang: str) -> tuple[Button, ...]:
    return (
        Button(button_label("helpful", lang), actions.encode(actions.Verb.FEEDBACK, article.id, "+")),
        Button(button_label("not_helpful", lang), actions.encode(actions.Verb.FEEDBACK, article.id, "-")),
    )


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
