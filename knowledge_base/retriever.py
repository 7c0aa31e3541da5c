"""Hybrid retrieval: dense e5 vectors fused with BM25 over folded syllables, plus a calibrated
"I don't know".

Fusion is reciprocal-rank fusion. The lexical list is weighted by how much of the query's vocabulary the
index knows: for Vietnamese questions that share is near 1, for English questions against mostly
Vietnamese text it drops, so BM25 cannot drown the multilingual dense signal there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from knowledge_base.index import SearchIndex
from knowledge_base.normalize import lexical_terms
from knowledge_base.query import Query


@dataclass(frozen=True)
class RetrievalSettings:
    answer_threshold: float = 0.86  # confidence below this gets the polite fallback
    suggest_threshold: float = 0.80  # fallback candidates above this are offered as "did you mean"
    rrf_k: int = 20
    dense_candidates: int = 64
    lexical_weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    article_id: str
    fused: float
    dense: float  # best cosine between the query and one of the article's passages
    lexical: float  # best BM25 score of the article's documents


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    confidence: float
    fallback: bool
    coverage: float  # share of the query's syllables the lexical index knows
    suggestions: list[str] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Retriever:
    def __init__(self, index: SearchIndex, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.settings = settings or RetrievalSettings()

    def search(self, query: Query, k: int = 5) -> SearchResult:
        s = self.settings
        words = query.text.folded_tokens
        if not words:
            return SearchResult([], 0.0, True, 0.0)
        n_articles = len(self.index.article_ids)

        dense = np.full(n_articles, -1.0, dtype=np.float32)
        scores, ids = self.index.dense.search(query.vector[None, :], min(s.dense_candidates, self.index.passage_count))
        for score, passage in zip(scores[0], ids[0], strict=True):
            if passage >= 0:
                article = self.index.passage_article[passage]
                dense[article] = max(dense[article], score)

        vocabulary = self.index.vocabulary
        coverage = sum(1 for w in words if w in vocabulary) / len(words)
        terms = [t for t in lexical_terms(words) if t in vocabulary]
        lexical = np.zeros(n_articles, dtype=np.float32)
        if terms:
            doc_scores = self.index.lexical.get_scores(terms)
            np.maximum.at(lexical, self.index.document_article, doc_scores.astype(np.float32))

        fused = np.zeros(n_articles, dtype=np.float64)
        dense_order = np.argsort(-dense)
        fused[dense_order] += 1.0 / (s.rrf_k + 1 + np.arange(n_articles))
        if terms:
            lexical_order = np.argsort(-lexical)
            weights = s.lexical_weight * coverage / (s.rrf_k + 1 + np.arange(n_articles))
            weights[lexical[lexical_order] <= 0] = 0.0
            fused[lexical_order] += weights
        order = np.argsort(-fused)[:k]
        hits = [Hit(self.index.article_ids[i], float(fused[i]), float(dense[i]), float(lexical[i])) for i in order]
        confidence = hits[0].dense if hits else 0.0
        fallback = confidence < s.answer_threshold
        suggestions = [h.article_id for h in hits[:3] if h.dense >= s.suggest_threshold] if fallback else []
        return SearchResult(hits, confidence, fallback, coverage, suggestions)
