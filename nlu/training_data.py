"""Rasa 3 NLU training data (`version`, `nlu:` with intent / synonym / lookup items), read for the embedded
engine and the evaluation, checked so that a broken file is fixed in one try.

Rasa reads the same files itself; this loader is stricter (known intents and entity names only, no
sentence under two intents) and every problem names the file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from errors import ContentError
from nlu.engine import INTENTS

ENTITY_NAMES = ("topic", "lesson", "option", "language")

# Rasa's annotation forms: [text](entity) and [text]{"entity": "...", "value": "..."}.
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")


class TrainingDataError(ContentError):
    """The training data is invalid; each line of the message names a file and line."""

    subject = "the NLU data"


@dataclass(frozen=True)
class EntitySpan:
    name: str
    value: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    text: str  # without annotations
    intent: str
    entities: tuple[EntitySpan, ...]
    path: Path
    line: int


@dataclass(frozen=True)
class TrainingData:
    examples: tuple[Example, ...]
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form (as written) -> value
    lookups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entity name -> phrases
    digest: str = ""  # sha256 of the files' bytes

    def by_intent(self) -> dict[str, list[Example]]:
        grouped: dict[str, list[Example]] = {}
        for example in self.examples:
            grouped.setdefault(example.intent, []).append(example)
        return grouped


def parse_annotated(text: str) -> tuple[str, list[tuple[str, str | None, str, int, int]]]:
    """Strip Rasa entity annotations; returns the plain text and (name, value, surface, start, end)."""
    plain: list[str] = []
    spans: list[tuple[str, str | None, str, int, int]] = []
    position = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[position : match.start()]
        plain.append(before)
        length += len(before)
        surface = match.group("text")
        if match.group("json"):
            try:
                spec = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"entity annotation {match.group(0)!r} is not valid JSON: {exc.msg}") from None
            if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
                raise ValueError(f'entity annotation {match.group(0)!r} needs an "entity" name')
            name = spec["entity"]
            value = spec.get("value")
            if value is not None and not isinstance(value, str):
                raise ValueError(f'entity annotation {match.group(0)!r}: "value" must be text')
        else:
            name, value = match.group("name"), None
        spans.append((name, value, surface, length, length + len(surface)))
        plain.append(surface)
        length += len(surface)
        position = match.end()
    plain.append(text[position:])
    return "".join(plain), spans


def _mapping_items(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _example_lines(node: yaml.Node, path: Path, problems: list[str]) -> list[tuple[str, int]]:
    """The `- example` lines of an `examples: |` block, with their 1-based line numbers."""
    where = f"{path}:{node.start_mark.line + 1}"
    if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str):
        problems.append(f"{where}: 'examples' must be a block of '- example' lines (examples: |)")
        return []
    # A literal block's content starts on the line after the `|`; a plain scalar on the same line.
    first = node.start_mark.line + (2 if node.style in ("|", ">") else 1)
    out: list[tuple[str, int]] = []
    for offset, raw in enumerate(node.value.split("\n")):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("- "):
            problems.append(f"{path}:{first + offset}: example must start with '- ', got {line[:40]!r}")
            continue
        text = line[2:].strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        if not text:
            problems.append(f"{path}:{first + offset}: empty example")
            continue
        out.append((text, first + offset))
    return out


def _read_file(
    path: Path,
    examples: list[Example],
    synonyms: dict[str, str],
    lookups: dict[str, list[str]],
    problems: list[str],
) -> bytes:
    try:
        raw = path.read_bytes()
        source = raw.decode("utf-8")
    except FileNotFoundError:
        problems.append(f"{path}: training data file not found")
        return b""
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return b""
    try:
        root = yaml.compose(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problems.append(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}")
        return raw
    if not isinstance(root, yaml.MappingNode):
        problems.append(f"{path}:1: must be a mapping with 'version' and 'nlu'")
        return raw
    top = _mapping_items(root)
    if "version" not in top:
        problems.append(f"{path}:1: missing 'version' (Rasa 3 data starts with version: \"3.1\")")
    nlu = top.get("nlu")
    if not isinstance(nlu, yaml.SequenceNode):
        line = nlu.start_mark.line + 1 if nlu is not None else 1
        problems.append(f"{path}:{line}: 'nlu' must be a list of intent, synonym and lookup items")
        return raw
    for item in nlu.value:
        where = f"{path}:{item.start_mark.line + 1}"
        if not isinstance(item, yaml.MappingNode):
            problems.append(f"{where}: each 'nlu' item must be a mapping such as 'intent: greet'")
            continue
        fields = _mapping_items(item)
        kinds = [k for k in ("intent", "synonym", "lookup", "regex") if k in fields]
        if len(kinds) != 1:
            problems.append(f"{where}: an item needs exactly one of intent, synonym, lookup, regex")
            continue
        kind = kinds[0]
        name_node = fields[kind]
        name = name_node.value if isinstance(name_node, yaml.ScalarNode) else None
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: '{kind}' must be a name")
            continue
        if "examples" not in fields:
            problems.append(f"{where}: {kind} '{name}' has no 'examples'")
            continue
        lines = _example_lines(fields["examples"], path, problems)
        if kind == "intent":
            if name not in INTENTS:
                problems.append(f"{where}: unknown intent '{name}' (known: {', '.join(INTENTS)})")
                continue
            for text, line in lines:
                try:
                    plain, spans = parse_annotated(text)
                except ValueError as exc:
                    problems.append(f"{path}:{line}: {exc}")
                    continue
                entities: list[EntitySpan] = []
                for entity, value, surface, start, end in spans:
                    if entity not in ENTITY_NAMES:
                        problems.append(f"{path}:{line}: unknown entity '{entity}' (known: {', '.join(ENTITY_NAMES)})")
                        continue
                    entities.append(EntitySpan(entity, value or surface, surface, start, end))
                examples.append(Example(plain, name, tuple(entities), path, line))
        elif kind == "synonym":
            for text, _ in lines:
                synonyms[text] = name
        elif kind == "lookup":
            if name not in ENTITY_NAMES:
                problems.append(f"{where}: lookup table for unknown entity '{name}'")
                continue
            lookups.setdefault(name, []).extend(text for text, _ in lines)
        # regex items are Rasa features only; the embedded engine does not need them.
    return raw


def load_training_data(paths: Path | Iterable[Path]) -> TrainingData:
    """Load one or more Rasa NLU files; raises TrainingDataError listing every problem with file:line."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    lookups: dict[str, list[str]] = {}
    problems: list[str] = []
    digest = hashlib.sha256()
    for path in files:
        digest.update(_read_file(path, examples, synonyms, lookups, problems))
    seen: dict[str, Example] = {}
    for example in examples:
        key = " ".join(example.text.casefold().split())
        first = seen.setdefault(key, example)
        if first is not example and first.intent != example.intent:
            problems.append(
                f"{example.path}:{example.line}: '{example.text}' is also an example of '{first.intent}' "
                f"({first.path}:{first.line})"
            )
    if not problems and not examples:
        problems.append(f"{', '.join(map(str, files))}: no intent examples")
    if problems:
        raise TrainingDataError(problems)
    return TrainingData(tuple(examples), synonyms, {k: tuple(v) for k, v in lookups.items()}, digest.hexdigest())
