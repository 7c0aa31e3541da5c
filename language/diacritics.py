"""Putting the diacritics back on Vietnamese typed without them, for the embedding model.

multilingual-e5-small reads "dung vneid tren 2 dien thoai" far worse than "dùng vneid trên 2 điện thoại":
folded, the dev set's questions written with diacritics drop from 32 to 25 of 35 right (docs/retrieval.md).
The restorer is a syllable bigram model learned from the knowledge base's own Vietnamese sentences written
with diacritics: each folded syllable may become any marked form seen for it, and a Viterbi pass picks the
likeliest sequence ("cai vneid" → "cài vneid", not "cái"; "bi lua" → "bị lừa"). Syllables it never saw
stay as typed, so English words, brand names and typos pass through unchanged.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from language.normalize import fold, has_diacritics, to_nfc, tokens

# Sentence and clause breaks: a bigram never spans them.
_CLAUSE = re.compile(r"[.,;:!?()\[\]\n\"“”]+")
# How much an unseen pair falls back to the next syllable's own frequency (Dirichlet smoothing).
_SMOOTHING = 2.0


class DiacriticRestorer:
    def __init__(self, unigrams: Counter[str], bigrams: Counter[tuple[str, str]]) -> None:
        self._unigrams = unigrams
        self._bigrams = bigrams
        self._total = sum(unigrams.values())
        forms: defaultdict[str, list[str]] = defaultdict(list)
        for word in unigrams:
            forms[fold(word)].append(word)
        self._forms = dict(forms)

    @classmethod
    def learn(cls, texts: Iterable[str]) -> DiacriticRestorer:
        """Counts from the clauses that carry diacritics: a clause typed without them (an article's question
        phrased the way people type) would teach the model that "dau" stays "dau"."""
        unigrams: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            for clause in _CLAUSE.split(to_nfc(text).casefold()):
                if not has_diacritics(clause):
                    continue
                words = tokens(clause)
                unigrams.update(words)
                bigrams.update(itertools.pairwise(words))
        return cls(unigrams, bigrams)

    def to_json(self) -> str:
        return json.dumps(
            {"unigrams": self._unigrams, "bigrams": [[a, b, n] for (a, b), n in self._bigrams.items()]},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> DiacriticRestorer:
        data = json.loads(text)
        return cls(Counter(data["unigrams"]), Counter({(a, b): n for a, b, n in data["bigrams"]}))

    def _unigram(self, word: str) -> float:
        return (self._unigrams[word] + 0.5) / (self._total + 0.5 * len(self._unigrams) + 1)

    def _log_p(self, before: str | None, word: str) -> float:
        if before is None or before not in self._unigrams:
            return math.log(self._unigram(word))
        return math.log(
            (self._bigrams[(before, word)] + _SMOOTHING * self._unigram(word)) / (self._unigrams[before] + _SMOOTHING)
        )

    def restore(self, text: str) -> str:
        """`text` (lower-case tokens) with the likeliest diacritics on every syllable typed without them;
        syllables typed with diacritics, and unknown ones, are kept as they are."""
        words = tokens(text.casefold())
        if not words:
            return text
        options = [[word] if has_diacritics(word) or word not in self._forms else self._forms[word] for word in words]
        # Viterbi over the candidate forms: best (log probability, path) ending in each form.
        best = {form: (self._log_p(None, form), [form]) for form in options[0]}
        for choices in options[1:]:
            best = {
                form: max(
                    ((score + self._log_p(previous, form), [*path, form]) for previous, (score, path) in best.items()),
                    key=lambda scored: scored[0],
                )
                for form in choices
            }
        return " ".join(max(best.values(), key=lambda scored: scored[0])[1])
