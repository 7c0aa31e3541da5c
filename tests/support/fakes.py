"""Deterministic fakes for the seams, for unit tests of components other than retrieval quality."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from embeddings.embedder import Vectors
from language.normalize import fold


class FakeEmbedder:
    """Hashes character trigrams of the folded text into a vector: similar spellings, similar vectors."""

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension
        self.query_calls = 0

    @property
    def fingerprint(self) -> str:
        return f"fake-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def warm_up(self) -> None:
        return None

    def _embed(self, text: str) -> Vectors:
        vector = np.zeros(self._dimension, dtype=np.float32)
        padded = f"  {fold(text)}  "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self._dimension] += 1.0
        norm = float(np.linalg.norm(vector)) or 1.0
        return vector / norm

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.query_calls += 1
        return np.vstack([self._embed(t) for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.vstack([self._embed(t) for t in texts]).astype(np.float32)

    @contextlib.contextmanager
    def build_threads(self) -> Iterator[None]:
        yield
