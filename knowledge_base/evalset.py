"""Evaluation sets: citizen questions with the article(s) that answer them, or the expected fallback.

Read by `hocvu eval` (to measure) and `hocvu kb check` (to validate), so both see the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.articles import ContentProblem, KnowledgeBase, SafeLoader

KINDS = ("diacritics", "no_diacritics", "abbrev_typo", "english", "off_topic", "sensitive", "long", "voice")
FALLBACK = "fallback"


@dataclass(frozen=True)
class EvalItem:
    question: str
    kind: str
    expect: tuple[str, ...]  # article ids; empty means the fallback is expected
    number: int = 0  # position in its file, for messages

    @property
    def expects_fallback(self) -> bool:
        return not self.expect


def load_eval(path: Path, kb: KnowledgeBase | None = None) -> tuple[list[EvalItem], list[ContentProblem]]:
    """The valid items of one evaluation file, and every problem in it (file, item and field named)."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [ContentProblem(path, "file", f"cannot be read: {exc}")]
    if not isinstance(raw, list):
        return [], [ContentProblem(path, "file", "must be a YAML list of items with q, kind and expect")]
    items: list[EvalItem] = []
    problems: list[ContentProblem] = []
    for number, entry in enumerate(raw, start=1):
        where = f"item {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("q"), str):
            problems.append(ContentProblem(path, f"{where}.q", "missing question text"))
            continue
        kind = entry.get("kind")
        if kind not in KINDS:
            problems.append(ContentProblem(path, f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}"))
            continue
        expect = entry.get("expect")
        if expect == FALLBACK:
            ids: tuple[str, ...] = ()
        elif isinstance(expect, list) and expect and all(isinstance(e, str) for e in expect):
            ids = tuple(expect)
            unknown = [e for e in ids if kb is not None and e not in kb]
            if unknown:
                problems.append(ContentProblem(path, f"{where}.expect", f"unknown article id(s) {', '.join(unknown)}"))
                continue
        else:
            problems.append(ContentProblem(path, f"{where}.expect", "must be a list of article ids or 'fallback'"))
            continue
        items.append(EvalItem(entry["q"], kind, ids, number))
    return items, problems
