"""Hybrid retrieval: dense e5 vectors fused with BM25 over folded syllables, plus a calibrated
"I don't know".

Each article's score is its best passage cosine plus small bonuses for lexical evidence:
`dense + lexical_weight * min(bm25 / lexical_saturation, 1) + char_weight * char`. The dense part carries
meaning across languages and paraphrases; the lexical part carries exact Vietnamese terms typed without
diacritics, which the multilingual model handles poorly; `char` (the best character n-gram cosine with one of
the article's phrasings) carries near-spellings: typos and abbreviations. A Vietnamese question typed without
any diacritics is embedded with them restored (language/diacritics.py): the model reads the restored form
about as well as one typed with them. The same fused score is the confidence: off-topic questions can sit
close to an article in embedding space, but they rarely share its rare words, so the bonuses separate them
(see docs/retrieval.md for the measurements behind the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from language.normalize import has_diacritics, lexical_terms

if TYPE_CHECKING:  # configuration imports RetrievalSettings: keep faiss and bm25s out of that import
    from knowledge_base.index import SearchIndex
    from language.query import Query


# config.yml's `retrieval:` section; the metadata bounds what hocvu/config.py accepts from the file.
@dataclass(frozen=True)
class RetrievalSettings:
    # Confidence below this gets the polite fallback. A fused score is a cosine (≤ 1) plus at most the weight.
    answer_threshold: float = field(default=0.952, metadata={"minimum": 0, "maximum": 2})
    # Fallback candidates above this are offered as "did you mean".
    suggest_threshold: float = field(default=0.907, metadata={"minimum": 0, "maximum": 2})
    lexical_weight: float = field(default=0.15, metadata={"minimum": 0, "maximum": 2})
    # The BM25 score at which lexical evidence counts in full.
    lexical_saturation: float = field(default=40.0, metadata={"minimum": 0.001, "maximum": 1000})
    dense_candidates: int = field(default=64, metadata={"minimum": 1})  # passages from faiss before pooling per article
    # The most a perfect character n-gram match with one of an article's phrasings adds to its score.
    char_weight: float = field(default=0.02, metadata={"minimum": 0, "maximum": 2})


@dataclass(frozen=True)
class Hit:
    article_id: str
    score: float  # the fused score
    dense: float  # best cosine between the query and one of the article's passages
    lexical: float  # best BM25 score of the article's documents
    char: float = 0.0  # best character n-gram cosine with one of the article's title and phrasings


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    fallback: bool
    suggestions: list[str] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def confidence(self) -> float:
        return self.hits[0].score if self.hits else 0.0


class Retriever:
    def __init__(self, index: SearchIndex, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.settings = settings or RetrievalSettings()

    def search(self, query: Query, k: int = 5) -> SearchResult:
        s = self.settings
        words = query.text.folded_tokens
        if not words:
            return SearchResult([], True)
        n_articles = len(self.index.article_ids)

        dense = np.full(n_articles, -1.0, dtype=np.float32)
        scores, ids = self.index.dense.search(
            self._vector(query)[None, :], min(s.dense_candidates, self.index.passage_count)
        )
        for score, passage in zip(scores[0], ids[0], strict=True):
            if passage >= 0:
                article = self.index.passage_article[passage]
                dense[article] = max(dense[article], score)

        lexical = np.zeros(n_articles, dtype=np.float32)
        terms = [t for t in lexical_terms(words) if t in self.index.vocabulary]
        if terms:
            np.maximum.at(lexical, self.index.document_article, self.index.lexical.get_scores(terms).astype(np.float32))

        char = np.zeros(n_articles, dtype=np.float32)
        if s.char_weight:
            char = self.index.phrasings.scores(query.text.folded)

        fused = dense + s.lexical_weight * np.minimum(lexical / s.lexical_saturation, 1.0) + s.char_weight * char
        order = np.argsort(-fused)[:k]
        hits = [
            Hit(self.index.article_ids[i], float(fused[i]), float(dense[i]), float(lexical[i]), float(char[i]))
            for i in order
        ]
        fallback = not hits or hits[0].score < s.answer_threshold
        suggestions = [h.article_id for h in hits[:3] if h.score >= s.suggest_threshold] if fallback else []
        return SearchResult(hits, fallback, suggestions)

    def _vector(self, query: Query) -> np.ndarray:
        """The query's embedding, of its restored form when it is Vietnamese typed without any diacritics."""
        if query.text.lang != "vi" or has_diacritics(query.text.original):
            return query.vector
        return query.embed(self.index.restorer.restore(query.text.clean))
