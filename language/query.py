"""A user's question as retrieval and NLU see it: normalised once, embedded at most once."""

from __future__ import annotations

from embeddings.embedder import Embedder, Vectors
from language.normalize import NormalizedText, normalize


class Query:
    """Normalised text plus a lazily computed query embedding shared by NLU and retrieval."""

    def __init__(self, text: NormalizedText, embedder: Embedder) -> None:
        self.text = text
        self._embedder = embedder
        self._vector: Vectors | None = None

    @classmethod
    def from_text(cls, raw: str, embedder: Embedder, default_lang: str = "vi") -> Query:
        return cls(normalize(raw, default_lang), embedder)

    @property
    def vector(self) -> Vectors:
        """Shape (dimension,); computed on first use only."""
        if self._vector is None:
            self._vector = self._embedder.embed_queries([self.text.clean])[0]
        return self._vector

    def embed(self, other: str) -> Vectors:
        """Another reading of the same message (its diacritics restored, for retrieval), embedded likewise."""
        if other == self.text.clean:
            return self.vector
        vector: Vectors = self._embedder.embed_queries([other])[0]
        return vector
