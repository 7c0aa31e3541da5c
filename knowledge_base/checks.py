"""`hocvu kb check`: every rule content must follow, checked across all files at once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from errors import ContentError
from knowledge_base.articles import LANGS, ContentProblem, KnowledgeBase, load_articles
from knowledge_base.evalset import load_eval
from knowledge_base.learning import load_lessons, load_quizzes
from language.normalize import fold, to_nfc, tokens


def _key(text: str) -> str:
    return " ".join(tokens(fold(to_nfc(text))))


def check_content(content_dir: Path, *, today: dt.date | None = None) -> tuple[list[ContentProblem], str]:
    """All problems in articles, quizzes, lessons and evaluation sets, and a one-line summary."""
    problems: list[ContentProblem] = []
    try:
        kb = load_articles(content_dir / "articles", today=today)
    except ContentError as exc:
        return [
            p for p in exc.problems if isinstance(p, ContentProblem)
        ], ""  # all are: load_articles raises only those
    problems.extend(_check_articles(kb))

    quizzes, quiz_problems = load_quizzes(content_dir / "quizzes")
    problems.extend(quiz_problems)
    for question in quizzes.values():
        if question.article not in kb:
            problems.append(
                ContentProblem(question.path, f"{question.id}.article", f"'{question.article}' is not an article id")
            )
    lessons, lesson_problems = load_lessons(content_dir / "lessons")
    problems.extend(lesson_problems)
    for lesson in lessons.values():
        for article in lesson.articles:
            if article not in kb:
                problems.append(ContentProblem(lesson.path, "articles", f"'{article}' is not an article id"))
        for qid in lesson.quiz:
            if qid not in quizzes:
                problems.append(ContentProblem(lesson.path, "quiz", f"'{qid}' is not a quiz question id"))

    phrasings = {_key(q): a for a in kb for q in (*a.questions, a.title)}
    eval_count = 0
    for path in sorted((content_dir / "eval").glob("*.yml")):
        items, eval_problems = load_eval(path, kb)
        problems.extend(eval_problems)
        eval_count += len(items)
        for item in items:
            source = phrasings.get(_key(item.question))
            if source is not None:
                problems.append(
                    ContentProblem(
                        path,
                        f"item {item.number}.q",
                        f"'{item.question}' is copied from {source.path}; evaluation questions must be unseen",
                    )
                )
    summary = f"{len(kb)} articles, {len(kb.articles)} files, {len(quizzes)} quiz questions, {len(lessons)} lessons, {eval_count} evaluation questions"
    return problems, summary


def _check_articles(kb: KnowledgeBase) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    by_id = defaultdict(list)
    for article in kb:
        by_id[article.id].append(article)
    for article_id, versions in by_id.items():
        langs = {a.lang for a in versions}
        for missing in sorted(set(LANGS) - langs):
            problems.append(ContentProblem(versions[0].path, "lang", f"'{article_id}' has no '{missing}' version"))
        topics = {a.topic for a in versions}
        if len(topics) > 1:
            problems.append(
                ContentProblem(
                    versions[0].path,
                    "topic",
                    f"'{article_id}' has different topics across languages: {', '.join(sorted(topics))}",
                )
            )
    owner: dict[str, str] = {}
    for article in kb:
        for related in article.related:
            if related not in kb:
                problems.append(ContentProblem(article.path, "related", f"'{related}' is not an article id"))
        for question in article.questions:
            key = _key(question)
            other = owner.setdefault(key, article.id)
            if other != article.id:
                problems.append(
                    ContentProblem(article.path, "questions", f"'{question}' is also a question of '{other}'")
                )
    return problems
