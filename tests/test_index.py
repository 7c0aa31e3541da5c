"""The persisted index: rebuilt exactly when what shapes it changes."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from embeddings.embedder import Vectors
from knowledge_base.articles import load_articles
from knowledge_base.index import load_or_build
from knowledge_base.retriever import RetrievalSettings, Retriever
from language.normalize import normalize
from language.query import Query
from tests.support.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    for lang in ("vi", "en"):
        shutil.copytree(REPO / "knowledge_base" / "articles" / lang / "vneid", root / lang / "vneid")
    return root


def index_dirs(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "index").iterdir())


def test_index_is_reused_and_rebuilt_when_content_or_model_changes(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    kb = load_articles(articles)
    embedder = FakeEmbedder()
    load_or_build(kb, embedder, data)
    first = index_dirs(data)
    load_or_build(load_articles(articles), embedder, data)
    assert index_dirs(data) == first  # nothing changed: reused

    path = articles / "vi" / "vneid" / "vneid-activate.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("questions:\n", "questions:\n  - kích hoạt giúp tôi\n", 1),
        encoding="utf-8",
    )
    load_or_build(load_articles(articles), embedder, data)
    second = index_dirs(data)
    assert second != first and len(second) == 1  # rebuilt, and the stale index removed

    load_or_build(load_articles(articles), FakeEmbedder(dimension=32), data)
    assert index_dirs(data) != second  # another model: rebuilt


def test_unreadable_index_is_rebuilt_not_served(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    kb = load_articles(articles)
    load_or_build(kb, FakeEmbedder(), data)
    (data / "index" / index_dirs(data)[0] / "dense.faiss").write_bytes(b"not an index")
    index = load_or_build(kb, FakeEmbedder(), data)
    assert index.passage_count > 0


def test_retrieval_uses_lexical_evidence_for_text_without_diacritics(articles: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    index = load_or_build(load_articles(articles), embedder, tmp_path / "data")
    retriever = Retriever(index, RetrievalSettings(answer_threshold=0.0, suggest_threshold=0.0))
    result = retriever.search(Query(normalize("phieu ly lich tu phap tren vneid"), embedder))
    assert result.best is not None and result.best.article_id == "vneid-criminal-record"
    assert result.best.lexical > 0


class RecordingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return super().embed_queries(texts)


def test_a_question_typed_without_diacritics_is_embedded_with_them_restored(articles: Path, tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    index = load_or_build(load_articles(articles), embedder, tmp_path / "data")
    retriever = Retriever(index, RetrievalSettings(answer_threshold=0.0, suggest_threshold=0.0))
    accented = normalize("cách cài VNeID trên điện thoại").clean
    embedder.texts.clear()
    retriever.search(Query(normalize("cach cai vneid tren dien thoai"), embedder))
    assert embedder.texts[-1] == accented  # "cai" read as "cài" (install), not "cái"
    for as_typed in ("cách cài VNeID trên điện thoại", "how do I install VNeID"):
        embedder.texts.clear()
        retriever.search(Query(normalize(as_typed), embedder))
        assert embedder.texts == [normalize(as_typed).clean]  # one embedding, of the text as typed


def test_near_spellings_count_and_survive_the_saved_index(articles: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    load_or_build(load_articles(articles), embedder, tmp_path / "data")
    reloaded = load_or_build(load_articles(articles), embedder, tmp_path / "data")  # from disk this time
    retriever = Retriever(reloaded, RetrievalSettings(answer_threshold=0.0, suggest_threshold=0.0))
    result = retriever.search(Query(normalize("quen mat khua vneid"), embedder))  # "khẩu" mistyped
    assert result.best is not None and result.best.article_id == "vneid-forgot-passcode"
    assert result.best.char > 0
