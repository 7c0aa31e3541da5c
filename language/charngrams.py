"""Character n-gram TF-IDF over folded text: near-spellings of the same words meet.

A typo ("ngan hag"), a missing letter or a syllable glued to the next still shares most of its character
n-grams with the right word, where syllable BM25 sees a different token and the embedding model a different
piece. This is the part of Rasa's ResponseSelector featurisation (char_wb n-grams) that was worth taking
(docs/retrieval.md). n-grams of 2 to 5 characters inside word boundaries, sublinear term frequency, smoothed
idf and unit length, as scikit-learn's `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
sublinear_tf=True)` computes them, kept in an inverted index so a query costs a few hundred array updates.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from language.normalize import tokens

_SIZES = range(2, 6)
# n-grams found in more than this share of the texts (" c", "ng") say little and would make every query
# walk thousands of postings: left out, as scikit-learn's max_df does.
MAX_DF = 0.1


def char_ngrams(folded: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in tokens(folded):
        padded = f" {word} "
        for n in _SIZES:
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class CharNgramIndex:
    """Texts, each with a label (an article); a query scores each label by its best text's cosine."""

    def __init__(self, texts: Sequence[str], labels: Sequence[int], n_labels: int) -> None:
        # Texts sorted by label, so one reduceat takes each label's best text.
        order = sorted(range(len(texts)), key=lambda i: labels[i])
        counts = [char_ngrams(texts[i]) for i in order]
        df: Counter[str] = Counter(gram for c in counts for gram in c)
        df = Counter({gram: n for gram, n in df.items() if n <= max(MAX_DF * len(texts), 1)})
        counts = [Counter({g: tf for g, tf in c.items() if g in df}) for c in counts]
        self._ids = {gram: i for i, gram in enumerate(df)}
        self._idf = np.array([math.log((1 + len(texts)) / (1 + n)) + 1 for n in df.values()], dtype=np.float32)
        grams: list[int] = []
        rows: list[int] = []
        values: list[float] = []
        for row, c in enumerate(counts):
            ids = [self._ids[g] for g in c]
            w = np.log(np.array(list(c.values()), dtype=np.float32)) + 1 if c else np.zeros(0, dtype=np.float32)
            w *= self._idf[ids]
            w /= float(np.linalg.norm(w)) or 1.0
            grams.extend(ids)
            rows.extend([row] * len(ids))
            values.extend(w.tolist())
        # Postings by n-gram, CSR-like: the rows and weights of n-gram g are [start[g], start[g + 1]).
        by_gram = np.argsort(np.array(grams, dtype=np.int64), kind="stable")
        self._rows = np.array(rows, dtype=np.int32)[by_gram]
        self._values = np.array(values, dtype=np.float32)[by_gram]
        self._start = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(np.bincount(np.array(grams, dtype=np.int64), minlength=len(df)), out=self._start[1:])
        sorted_labels = np.array([labels[i] for i in order], dtype=np.int64)
        self._present, self._first = np.unique(sorted_labels, return_index=True)
        self._n_texts = len(texts)
        self._n_labels = n_labels

    _ARRAYS = ("_idf", "_rows", "_values", "_start", "_present", "_first")

    def save(self, path: Path) -> None:
        """Arrays in one .npz, the n-grams (in id order) in a JSON file beside it."""
        np.savez(path.with_suffix(".npz"), **{name: getattr(self, name) for name in self._ARRAYS})
        path.with_suffix(".json").write_text(
            json.dumps({"grams": list(self._ids), "texts": self._n_texts, "labels": self._n_labels}), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> CharNgramIndex:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        index = cls.__new__(cls)
        with np.load(path.with_suffix(".npz")) as arrays:
            for name in cls._ARRAYS:
                setattr(index, name, arrays[name])
        index._ids = {gram: i for i, gram in enumerate(meta["grams"])}
        index._n_texts, index._n_labels = meta["texts"], meta["labels"]
        return index

    def scores(self, folded: str) -> npt.NDArray[np.float32]:
        """Per label, the best cosine between `folded` and one of its texts (0 when nothing is shared)."""
        out = np.zeros(self._n_labels, dtype=np.float32)
        found = [(self._ids[g], tf) for g, tf in char_ngrams(folded).items() if g in self._ids]
        if not found:
            return out
        ids = np.array([i for i, _ in found], dtype=np.int64)
        weights = (np.log(np.array([tf for _, tf in found], dtype=np.float32)) + 1) * self._idf[ids]
        weights /= float(np.linalg.norm(weights))
        starts, ends = self._start[ids], self._start[ids + 1]
        lengths = ends - starts
        # Every posting of every query n-gram, without a Python loop: start of its n-gram + offset within it.
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.repeat(starts, lengths) + offsets
        per_position = np.repeat(weights, lengths) * self._values[positions]
        per_text = np.bincount(self._rows[positions], weights=per_position, minlength=self._n_texts)
        out[self._present] = np.maximum.reduceat(per_text, self._first).astype(np.float32)
        return out
