"""Entity extraction for the embedded engine, from the training data's lookup tables, synonyms and
annotated examples, matched as whole words on diacritic-folded text (so "tieng anh" finds "tiếng anh")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from language.normalize import NormalizedText, fold, to_nfc, tokens
from nlu.engine import Entity
from nlu.training_data import TrainingData

# Quiz options are single letters; they only count after a cue word or as the whole message, since
# "a" is also a Vietnamese particle ("ạ" folds to "a").
_OPTION = re.compile(
    r"(?:^|\b(?:dap an|d a|chon|phuong an|cau|la|answer|option|pick|choose|choice is|is|with)\s+)([a-d])\b"
)


def _key(text: str) -> str:
    return " ".join(tokens(fold(to_nfc(text))))


@dataclass(frozen=True)
class EntityMatcher:
    phrases: tuple[tuple[str, str, re.Pattern[str]], ...]  # (entity, value, pattern), longest phrase first

    @classmethod
    def from_training(cls, data: TrainingData) -> EntityMatcher:
        synonyms = {_key(surface): value for surface, value in data.synonyms.items()}
        found: dict[tuple[str, str], str] = {}
        for entity, phrases in data.lookups.items():
            for phrase in phrases:
                key = _key(phrase)
                found[(entity, key)] = synonyms.get(key, phrase)
        for example in data.examples:
            for span in example.entities:
                if span.name == "option":
                    continue  # matched by _OPTION with its context
                key = _key(span.text)
                found.setdefault((span.name, key), synonyms.get(key, span.value))
        ordered = sorted(found.items(), key=lambda item: -len(item[0][1]))
        return cls(
            tuple(
                (entity, value, re.compile(rf"(?<![^\W_]){re.escape(key)}(?![^\W_])"))
                for (entity, key), value in ordered
                if key
            )
        )

    def extract(self, text: NormalizedText) -> tuple[Entity, ...]:
        folded = " ".join(tokens(text.folded))
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, Entity]] = []
        for entity, value, pattern in self.phrases:
            for match in pattern.finditer(folded):
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                taken.append(match.span())
                found.append((match.start(), Entity(entity, value)))
        option = _OPTION.search(folded)
        if option and (option.start() > 0 or len(folded.split()) <= 2):
            found.append((option.start(1), Entity("option", option.group(1))))
        found.sort(key=lambda item: item[0])
        unique = dict.fromkeys(entity for _, entity in found)
        return tuple(unique)
