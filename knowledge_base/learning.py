"""Quiz questions and broadcast lessons: YAML files that content authors edit.

Like articles, every problem is reported with its file and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.articles import LANGS, ContentProblem, SafeLoader
from knowledge_base.topics import TOPIC_IDS
from language.normalize import to_nfc

DIFFICULTIES = ("easy", "medium", "hard")
LETTERS = "ABCD"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class QuizText:
    question: str
    options: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class QuizQuestion:
    id: str
    topic: str
    article: str
    difficulty: str
    final: bool
    answer: int  # index of the correct option
    texts: dict[str, QuizText]
    path: Path

    def text(self, lang: str) -> QuizText:
        return self.texts.get(lang) or self.texts["vi"]


@dataclass(frozen=True)
class LessonText:
    title: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Lesson:
    id: str
    topic: str
    articles: tuple[str, ...]
    quiz: tuple[str, ...]
    texts: dict[str, LessonText]
    path: Path

    def text(self, lang: str) -> LessonText:
        return self.texts.get(lang) or self.texts["vi"]


def _read_yaml(path: Path, problems: list[ContentProblem]) -> Any:
    try:
        # libyaml's parser when present: the pure-Python one takes most of a second for the quiz bank.
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except UnicodeDecodeError:
        problems.append(ContentProblem(path, "file", "is not UTF-8 text"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            ContentProblem(
                path, "file", f"invalid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None
            )
        )
    return None


def _text(value: Any) -> str | None:
    return to_nfc(value) if isinstance(value, str) and value.strip() else None


def _quiz_text(raw: Any, path: Path, where: str, problems: list[ContentProblem]) -> QuizText | None:
    if not isinstance(raw, dict):
        problems.append(ContentProblem(path, where, "is missing (question, options, explanation)"))
        return None
    question, explanation = _text(raw.get("question")), _text(raw.get("explanation"))
    options = raw.get("options")
    ok = True
    if question is None:
        problems.append(ContentProblem(path, f"{where}.question", "is missing"))
        ok = False
    if explanation is None:
        problems.append(ContentProblem(path, f"{where}.explanation", "is missing"))
        ok = False
    if not isinstance(options, list) or not 3 <= len(options) <= 4 or any(_text(o) is None for o in options):
        problems.append(ContentProblem(path, f"{where}.options", "must list 3 or 4 non-empty options"))
        ok = False
    if not ok or question is None or explanation is None or not isinstance(options, list):
        return None
    return QuizText(question, tuple(to_nfc(str(o)) for o in options), explanation)


def load_quizzes(root: Path) -> tuple[dict[str, QuizQuestion], list[ContentProblem]]:
    """Every quiz question under `root` (`<topic>.yml`), by id, in file order."""
    questions: dict[str, QuizQuestion] = {}
    problems: list[ContentProblem] = []
    for path in sorted(root.glob("*.yml")):
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict) or raw.get("topic") not in TOPIC_IDS or not isinstance(raw.get("questions"), list):
            problems.append(
                ContentProblem(
                    path, "topic/questions", f"needs a topic (one of {', '.join(TOPIC_IDS)}) and a list of questions"
                )
            )
            continue
        topic = raw["topic"]
        for number, item in enumerate(raw["questions"], start=1):
            where = f"questions[{number}]"
            if not isinstance(item, dict):
                problems.append(ContentProblem(path, where, "must be a question with id, article, answer, vi and en"))
                continue
            qid = item.get("id")
            if not isinstance(qid, str) or not _ID.match(qid):
                problems.append(ContentProblem(path, f"{where}.id", f"{qid!r} must be lower-case words joined by '-'"))
                continue
            where = f"{qid}"
            if qid in questions:
                problems.append(ContentProblem(path, f"{where}.id", f"'{qid}' is used twice"))
                continue
            article = item.get("article")
            difficulty = item.get("difficulty")
            answer = item.get("answer")
            texts = {lang: _quiz_text(item.get(lang), path, f"{where}.{lang}", problems) for lang in LANGS}
            bad = False
            if not isinstance(article, str):
                problems.append(ContentProblem(path, f"{where}.article", "is missing"))
                bad = True
            if difficulty not in DIFFICULTIES:
                problems.append(
                    ContentProblem(
                        path, f"{where}.difficulty", f"{difficulty!r} is not one of {', '.join(DIFFICULTIES)}"
                    )
                )
                bad = True
            if not isinstance(item.get("final", False), bool):
                problems.append(ContentProblem(path, f"{where}.final", "must be true or false"))
                bad = True
            counts = {len(t.options) for t in texts.values() if t is not None}
            if len(counts) > 1:
                problems.append(
                    ContentProblem(path, f"{where}.options", "vi and en must have the same number of options")
                )
                bad = True
            if (
                not isinstance(answer, str)
                or answer not in LETTERS
                or (counts and LETTERS.index(answer) >= min(counts))
            ):
                problems.append(
                    ContentProblem(path, f"{where}.answer", f"{answer!r} must be the letter of one of the options")
                )
                bad = True
            if (
                bad
                or any(t is None for t in texts.values())
                or not isinstance(answer, str)
                or not isinstance(article, str)
            ):
                continue
            questions[qid] = QuizQuestion(
                qid,
                topic,
                article,
                str(difficulty),
                bool(item.get("final", False)),
                LETTERS.index(answer),
                {lang: t for lang, t in texts.items() if t is not None},
                path,
            )
    return questions, problems


def load_lessons(root: Path) -> tuple[dict[str, Lesson], list[ContentProblem]]:
    lessons: dict[str, Lesson] = {}
    problems: list[ContentProblem] = []
    for path in sorted(root.glob("*.yml")):
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(ContentProblem(path, "file", "must be a lesson with id, topic, articles, quiz, vi and en"))
            continue
        lid = raw.get("id")
        bad = False
        if not isinstance(lid, str) or lid != path.stem:
            problems.append(ContentProblem(path, "id", f"{lid!r} must match the file name '{path.stem}'"))
            bad = True
        if raw.get("topic") not in TOPIC_IDS:
            problems.append(ContentProblem(path, "topic", f"{raw.get('topic')!r} is not one of {', '.join(TOPIC_IDS)}"))
            bad = True
        articles, quiz = raw.get("articles"), raw.get("quiz")
        if not isinstance(articles, list) or not articles or not all(isinstance(a, str) for a in articles):
            problems.append(ContentProblem(path, "articles", "must list the article ids the lesson teaches"))
            bad = True
        if not isinstance(quiz, list) or len(quiz) != 3 or not all(isinstance(q, str) for q in quiz):
            problems.append(ContentProblem(path, "quiz", "must list exactly 3 quiz question ids"))
            bad = True
        texts: dict[str, LessonText] = {}
        for lang in LANGS:
            block = raw.get(lang)
            title = _text(block.get("title")) if isinstance(block, dict) else None
            messages = block.get("messages") if isinstance(block, dict) else None
            if (
                title is None
                or not isinstance(messages, list)
                or not 3 <= len(messages) <= 5
                or any(_text(m) is None for m in messages)
            ):
                problems.append(ContentProblem(path, lang, "needs a title and 3 to 5 non-empty messages"))
                bad = True
                continue
            texts[lang] = LessonText(title, tuple(to_nfc(m) for m in messages))
        if bad or not isinstance(lid, str) or not isinstance(articles, list) or not isinstance(quiz, list):
            continue
        lessons[lid] = Lesson(lid, raw["topic"], tuple(articles), tuple(quiz), texts, path)
    return lessons, problems
