"""The default NLU engine: trained in-process from the Rasa YAML, no second service.

Features are the query's e5 embedding (the one retrieval needs anyway, so it costs nothing extra) plus
hashed character n-grams and words of the diacritic-folded text, which carry the short, fixed chat
phrases ("tiep di", "nhắc lại") that sentence embeddings blur. A softmax regression over them trains in
about a second; the weights are cached under `<data_dir>/nlu/<hash>.npz`, keyed by the training data,
the embedder and this file's feature version, so a restart loads them in milliseconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

import numpy as np

from embeddings.embedder import Embedder
from language.normalize import NORMALIZER_VERSION, normalize
from language.query import Query
from nlu.engine import IntentResult
from nlu.entities import EntityMatcher
from nlu.lexical import HASH_BUCKETS, lexical_features
from nlu.softmax import Matrix, softmax, train_softmax_regression
from nlu.training_data import TrainingData, load_training_data

log = logging.getLogger(__name__)

FEATURE_VERSION = "1"


class EmbeddedEngine:
    """Softmax regression over the shared query embedding and folded-text n-grams."""

    name = "embedded"

    def __init__(self, embedder: Embedder, training_data: Path | TrainingData, cache_dir: Path | None) -> None:
        self.embedder = embedder
        self._source = training_data
        self.cache_dir = cache_dir
        self.intents: tuple[str, ...] = ()
        self._weights: Matrix | None = None
        self._bias: Matrix | None = None
        self._entities: EntityMatcher | None = None
        self.trained_from_scratch = False

    def cache_key(self, data: TrainingData) -> str:
        parts = (data.digest, self.embedder.fingerprint, NORMALIZER_VERSION, FEATURE_VERSION, str(HASH_BUCKETS))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def cache_path(self, data: TrainingData) -> Path | None:
        return self.cache_dir / f"{self.cache_key(data)}.npz" if self.cache_dir else None

    def warm_up(self) -> None:
        if self._weights is not None:
            return
        data = self._source if isinstance(self._source, TrainingData) else load_training_data(self._source)
        self._entities = EntityMatcher.from_training(data)
        path = self.cache_path(data)
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as cached:
                self.intents = tuple(str(i) for i in cached["intents"])
                self._weights = cached["weights"].astype(np.float32)
                self._bias = cached["bias"].astype(np.float32)
            return
        started = time.perf_counter()
        self.intents = tuple(sorted({e.intent for e in data.examples}))
        index = {intent: i for i, intent in enumerate(self.intents)}
        normalized = [normalize(e.text) for e in data.examples]
        self.embedder.warm_up()
        with self.embedder.build_threads():
            # Queries, not passages: at run time the features come from Query.vector.
            dense = np.vstack(
                [
                    self.embedder.embed_queries([n.clean for n in normalized[i : i + 64]])
                    for i in range(0, len(normalized), 64)
                ]
            )
        features = np.hstack([dense, np.vstack([lexical_features(n.folded) for n in normalized])]).astype(np.float32)
        labels = np.array([index[e.intent] for e in data.examples], dtype=np.int64)
        self._weights, self._bias = train_softmax_regression(features, labels, len(self.intents))
        self.trained_from_scratch = True
        log.info(
            "embedded NLU trained on %d examples, %d intents in %.1f s",
            len(data.examples),
            len(self.intents),
            time.perf_counter() - started,
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npz")  # webhook workers may train at the same time
            np.savez(partial, intents=np.array(self.intents), weights=self._weights, bias=self._bias)
            partial.replace(path)  # atomic: a concurrent start never reads half a file

    def parse(self, query: Query) -> IntentResult:
        if self._weights is None or self._bias is None or self._entities is None:
            self.warm_up()
        assert self._weights is not None and self._bias is not None and self._entities is not None
        features = np.concatenate([query.vector, lexical_features(query.text.folded)])
        probs = softmax(features @ self._weights + self._bias)
        best = int(np.argmax(probs))
        return IntentResult(self.intents[best], float(probs[best]), self._entities.extract(query.text), self.name)
