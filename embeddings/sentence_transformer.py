"""Any sentence-transformers model, by hub name (already cached) or local folder, behind the `Embedder` protocol."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from embeddings.embedder import Vectors, normalised


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (already cached) or local folder; never downloads."""

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        threads: int = 1,
        build_threads: int = 2,
    ) -> None:
        self.model_name = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.threads = threads
        self.build_thread_count = build_threads
        self._model: Any = None

    @property
    def fingerprint(self) -> str:
        version = importlib.metadata.version("sentence-transformers")
        return f"sentence-transformers=={version}:{self.model_name}:{self.query_prefix!r}:{self.passage_prefix!r}"

    @property
    def dimension(self) -> int:
        model = self._require()
        # Renamed in sentence-transformers 6; keep working with 3.x-5.x.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = getter()
        assert dimension is not None
        return int(dimension)

    def warm_up(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        self._model = SentenceTransformer(self.model_name, device="cpu", local_files_only=True)

    def _require(self) -> Any:
        if self._model is None:
            self.warm_up()
        return self._model

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        model = self._require()
        vectors = model.encode(
            [self.query_prefix + t for t in texts],
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalised(vectors)

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        model = self._require()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            [self.passage_prefix + t for t in texts],
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalised(vectors)

    @contextlib.contextmanager
    def build_threads(self) -> Iterator[None]:
        import torch

        self._require()
        torch.set_num_threads(self.build_thread_count)
        try:
            yield
        finally:
            torch.set_num_threads(self.threads)
