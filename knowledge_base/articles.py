"""Articles: Markdown files with YAML front matter, one per language and id.

The loader reports every problem with the file and the field it is in, because the people who edit
these files are content authors, not programmers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from errors import ContentError
from knowledge_base.topics import TOPIC_IDS
from language.normalize import fold, to_nfc

# libyaml's parser is about ten times faster than the pure-Python one: start-up parses every article.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LANGS = ("vi", "en")
AUDIENCES = frozenset({"elderly", "youth", "volunteers", "parents", "sellers"})
STEP_HEADINGS = frozenset({"cac buoc", "steps"})
MIN_QUESTIONS = 5

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_STEP = re.compile(r"^\s*(\d+)[.)]\s+(.*\S)\s*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n?(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class ContentProblem:
    """One thing wrong in one content file."""

    path: Path
    field: str
    message: str
    line: int | None = None
    warning: bool = False  # flagged for a person to review; `hocvu kb check` still passes

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {'warning: ' if self.warning else ''}{self.field}: {self.message}"


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


@dataclass(frozen=True)
class Article:
    id: str
    topic: str
    lang: str
    title: str
    questions: tuple[str, ...]
    summary: str
    steps: tuple[str, ...]
    sections: tuple[Section, ...]
    sources: tuple[str, ...]
    last_verified: dt.date
    audience: tuple[str, ...]
    related: tuple[str, ...]
    path: Path

    def full_text(self) -> str:
        """Everything a reader sees, for indexing."""
        parts = [self.title, self.summary, *self.steps]
        parts.extend(f"{s.heading}\n{s.text}" for s in self.sections)
        return "\n".join(parts)


def official_hosts(articles: Iterable[Article]) -> frozenset[str]:
    """The sites the knowledge base cites as official sources (each article's `sources`), without "www.":
    the allow-list of what a broadcast's free text may link to (bot/broadcasts.py)."""
    hosts = set()
    for article in articles:
        for source in article.sources:
            host = source.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
            hosts.add(host.removeprefix("www."))
    return frozenset(hosts)


class KnowledgeBase:
    """All articles, addressable by id and language."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.articles: list[Article] = sorted(articles, key=lambda a: (a.id, a.lang))
        self._by_key = {(a.id, a.lang): a for a in self.articles}
        self.ids: list[str] = sorted({a.id for a in self.articles})

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[Article]:
        return iter(self.articles)

    def __contains__(self, article_id: object) -> bool:
        return any((article_id, lang) in self._by_key for lang in LANGS)

    def get(self, article_id: str, lang: str) -> Article:
        """The article in `lang`, or in the other language when that version is missing."""
        for candidate in (lang, *LANGS):
            article = self._by_key.get((article_id, candidate))
            if article is not None:
                return article
        raise KeyError(article_id)

    def versions(self, article_id: str) -> list[Article]:
        return [a for lang in LANGS if (a := self._by_key.get((article_id, lang))) is not None]


def _parse_body(body: str, path: Path, first_line: int) -> tuple[str, list[str], list[Section], list[ContentProblem]]:
    problems: list[ContentProblem] = []
    summary_lines: list[str] = []
    sections: list[tuple[str, int, list[str]]] = []
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("## "):
            sections.append((line[3:].strip(), first_line + offset, []))
        elif line.startswith("# "):
            problems.append(
                ContentProblem(
                    path, "body", "use '## ' headings; the title belongs in the front matter", first_line + offset
                )
            )
        elif sections:
            sections[-1][2].append(line)
        else:
            summary_lines.append(line)
    summary = "\n".join(summary_lines).strip()
    if not summary:
        problems.append(
            ContentProblem(path, "body", "the short answer before the first '## ' heading is missing", first_line)
        )
    steps: list[str] = []
    extra: list[Section] = []
    for heading, line_no, lines in sections:
        if fold(heading).strip(" :") in STEP_HEADINGS:
            if steps:
                problems.append(ContentProblem(path, "steps", "only one steps section is allowed", line_no))
                continue
            steps, step_problems = _parse_steps(lines, path, line_no)
            problems.extend(step_problems)
        else:
            text = "\n".join(lines).strip()
            if not text:
                problems.append(ContentProblem(path, "body", f"section '{heading}' is empty", line_no))
            extra.append(Section(heading, text))
    return summary, steps, extra, problems


def _parse_steps(lines: list[str], path: Path, heading_line: int) -> tuple[list[str], list[ContentProblem]]:
    steps: list[str] = []
    problems: list[ContentProblem] = []
    for offset, line in enumerate(lines, start=1):
        match = _STEP.match(line)
        if match:
            number = int(match.group(1))
            if number != len(steps) + 1:
                problems.append(
                    ContentProblem(
                        path, "steps", f"step numbered {number}, expected {len(steps) + 1}", heading_line + offset
                    )
                )
            steps.append(match.group(2))
        elif line.strip():
            if not steps:
                problems.append(
                    ContentProblem(path, "steps", "text before the first numbered step", heading_line + offset)
                )
            else:
                steps[-1] = f"{steps[-1]}\n{line.strip()}"
    if not steps:
        problems.append(
            ContentProblem(path, "steps", "the steps section has no numbered steps ('1. ...')", heading_line)
        )
    return steps, problems


def _str_list(
    meta: dict[str, Any], field: str, path: Path, problems: list[ContentProblem], *, required: bool
) -> list[str]:
    value = meta.get(field)
    if value is None:
        if required:
            problems.append(ContentProblem(path, field, "is missing"))
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(ContentProblem(path, field, "must be a list of non-empty texts"))
        return []
    return [to_nfc(v) for v in value]


def parse_article(
    path: Path, text: str, *, today: dt.date | None = None
) -> tuple[Article | None, list[ContentProblem]]:
    """Parse one article file; returns the article (or None) and every problem found in it."""
    today = today or dt.date.today()
    text = to_nfc_lines(text)
    match = _FRONT.match(text)
    if not match:
        return None, [
            ContentProblem(path, "front matter", "the file must start with '---', YAML fields, then '---'", 1)
        ]
    header, body = match.groups()
    try:
        meta = yaml.load(header, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        return None, [ContentProblem(path, "front matter", f"invalid YAML: {getattr(exc, 'problem', exc)}", line)]
    if not isinstance(meta, dict):
        return None, [ContentProblem(path, "front matter", "must be YAML fields (key: value)", 2)]

    problems: list[ContentProblem] = []
    fields: dict[str, str] = {}
    for field in ("id", "topic", "lang", "title"):
        value = meta.get(field)
        if not isinstance(value, str) or not value.strip():
            problems.append(ContentProblem(path, field, "is missing or empty"))
        else:
            fields[field] = to_nfc(value)
    article_id = fields.get("id", "")
    if article_id and not _ID.match(article_id):
        problems.append(ContentProblem(path, "id", f"'{article_id}' must be lower-case words joined by '-'"))
    if article_id and path.stem != article_id:
        problems.append(ContentProblem(path, "id", f"'{article_id}' must match the file name '{path.stem}'"))
    topic = fields.get("topic", "")
    if topic and topic not in TOPIC_IDS:
        problems.append(ContentProblem(path, "topic", f"'{topic}' is not one of {', '.join(TOPIC_IDS)}"))
    lang = fields.get("lang", "")
    if lang and lang not in LANGS:
        problems.append(ContentProblem(path, "lang", f"'{lang}' is not one of {', '.join(LANGS)}"))

    questions = _str_list(meta, "questions", path, problems, required=True)
    if questions and len(questions) < MIN_QUESTIONS:
        problems.append(
            ContentProblem(path, "questions", f"has {len(questions)}; write at least {MIN_QUESTIONS} ways people ask")
        )
    sources = _str_list(meta, "sources", path, problems, required=True)
    if "sources" in meta and not sources and not any(p.field == "sources" for p in problems):
        problems.append(ContentProblem(path, "sources", "needs at least one official source"))
    for source in sources:
        if not re.match(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$", source):
            problems.append(ContentProblem(path, "sources", f"'{source}' is not an https URL"))
    audience = _str_list(meta, "audience", path, problems, required=False)
    for tag in audience:
        if tag not in AUDIENCES:
            problems.append(ContentProblem(path, "audience", f"'{tag}' is not one of {', '.join(sorted(AUDIENCES))}"))
    related = _str_list(meta, "related", path, problems, required=False)

    verified = meta.get("last_verified")
    if isinstance(verified, str):
        with contextlib.suppress(ValueError):
            verified = dt.date.fromisoformat(verified)
    if not isinstance(verified, dt.date) or isinstance(verified, dt.datetime):
        problems.append(ContentProblem(path, "last_verified", "is missing or not a date (YYYY-MM-DD)"))
        verified = None
    elif verified > today:
        problems.append(ContentProblem(path, "last_verified", f"{verified} is in the future"))

    known = {"id", "topic", "lang", "title", "questions", "sources", "last_verified", "audience", "related"}
    for field in sorted(set(meta) - known):
        problems.append(ContentProblem(path, str(field), "is not a known field (check the spelling)"))

    first_body_line = header.count("\n") + 3
    summary, steps, sections, body_problems = _parse_body(body, path, first_body_line)
    problems.extend(body_problems)
    if problems or verified is None:
        return None, problems
    return (
        Article(
            id=article_id,
            topic=topic,
            lang=lang,
            title=fields["title"],
            questions=tuple(questions),
            summary=summary,
            steps=tuple(steps),
            sections=tuple(sections),
            sources=tuple(sources),
            last_verified=verified,
            audience=tuple(audience),
            related=tuple(related),
            path=path,
        ),
        [],
    )


def to_nfc_lines(text: str) -> str:
    """NFC per line, keeping line breaks (the body's structure is line based)."""
    return "\n".join(to_nfc(line) if line.strip() else "" for line in text.replace("\r\n", "\n").split("\n"))


def article_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/*/*.md"))


def load_articles(root: Path, *, today: dt.date | None = None) -> KnowledgeBase:
    """Load and validate every article under `root` (`<lang>/<topic>/<id>.md`); raise ContentError listing all problems."""
    if not root.is_dir():
        raise ContentError([ContentProblem(root, "articles", "the articles folder does not exist")])
    articles: list[Article] = []
    problems: list[ContentProblem] = []
    for path in article_files(root):
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(ContentProblem(path, "file", "is not UTF-8 text"))
            continue
        article, file_problems = parse_article(path, raw, today=today)
        problems.extend(file_problems)
        if article is None:
            continue
        lang_dir, topic_dir = path.parent.parent.name, path.parent.name
        if article.lang != lang_dir:
            problems.append(
                ContentProblem(path, "lang", f"'{article.lang}' but the file is in the '{lang_dir}' folder")
            )
        if article.topic != topic_dir:
            problems.append(
                ContentProblem(path, "topic", f"'{article.topic}' but the file is in the '{topic_dir}' folder")
            )
        articles.append(article)
    seen: dict[tuple[str, str], Path] = {}
    for article in articles:
        key = (article.id, article.lang)
        if key in seen:
            problems.append(ContentProblem(article.path, "id", f"'{article.id}' is also used by {seen[key]}"))
        seen[key] = article.path
    if not articles and not problems:
        problems.append(ContentProblem(root, "articles", "no article files (<lang>/<topic>/<id>.md) found"))
    if problems:
        raise ContentError(problems)
    return KnowledgeBase(articles)
