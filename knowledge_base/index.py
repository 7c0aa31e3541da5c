"""The search index: dense vectors in faiss plus BM25 state, persisted under the data directory.

An index directory is named by a hash of everything that shapes it (article files, normalisation,
embedding model, index format), so a change to any of them makes the application build a fresh one and
a stale index can never be served. Builds write to a temporary directory and rename it into place, so
several workers starting at once never read a half-written index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from embeddings.embedder import Embedder, Vectors
from knowledge_base.articles import Article, KnowledgeBase
from language.charngrams import CharNgramIndex
from language.diacritics import DiacriticRestorer
from language.normalize import NORMALIZER_VERSION, document_terms, fold, normalize, to_nfc

log = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = "3"


@dataclass(frozen=True)
class Passage:
    """A short text embedded on its own; several per article so a question can match any phrasing."""

    article_id: str
    text: str
    is_question: bool  # questions and titles are embedded like queries (symmetric matching)


def passages_for(article: Article) -> list[Passage]:
    raw = [(article.title, True), *((q, True) for q in article.questions), (article.summary, False)]
    out: list[Passage] = []
    seen: set[tuple[str, bool]] = set()
    for text, is_question in raw:
        for variant in (to_nfc(text), fold(to_nfc(text))):
            # The folded copy lets queries typed without diacritics meet their own form.
            if (variant, is_question) not in seen:
                seen.add((variant, is_question))
                out.append(Passage(article.id, variant, is_question))
    return out


def lexical_document(article: Article) -> list[str]:
    return document_terms(
        [
            article.title,
            article.title,
            *article.questions,
            article.summary,
            *article.steps,
            *(s.heading + " " + s.text for s in article.sections),
        ]
    )


def article_texts(article: Article) -> list[str]:
    return [
        article.title,
        *article.questions,
        article.summary,
        *article.steps,
        *(s.heading + ". " + s.text for s in article.sections),
    ]


def learn_spelling(kb: KnowledgeBase, article_ids: Sequence[str]) -> tuple[DiacriticRestorer, CharNgramIndex]:
    """What retrieval needs to read questions as people type them, learned from the articles with the
    index: the diacritic restorer from the Vietnamese text, and the character n-gram index over every title
    and question phrasing, folded."""
    restorer = DiacriticRestorer.learn(
        text for article in kb if article.lang == "vi" for text in article_texts(article)
    )
    position = {article_id: i for i, article_id in enumerate(article_ids)}
    phrasings = [
        (normalize(text, article.lang).folded, position[article.id])
        for article in kb
        for text in (article.title, *article.questions)
    ]
    return restorer, CharNgramIndex([t for t, _ in phrasings], [a for _, a in phrasings], len(article_ids))


def content_hash(kb: KnowledgeBase, embedder: Embedder) -> str:
    digest = hashlib.sha256()
    for part in (INDEX_FORMAT_VERSION, NORMALIZER_VERSION, embedder.fingerprint):
        digest.update(part.encode())
        digest.update(b"\0")
    for article in kb:
        digest.update(f"{article.id}\0{article.lang}\0".encode())
        digest.update(article.path.read_bytes())
    return digest.hexdigest()[:16]


class SearchIndex:
    """Dense passages and lexical documents, each mapped back to an article id."""

    def __init__(
        self,
        article_ids: Sequence[str],
        dense: faiss.Index,
        passage_article: npt.NDArray[np.int32],
        lexical: bm25s.BM25,
        document_article: npt.NDArray[np.int32],
        restorer: DiacriticRestorer,
        phrasings: CharNgramIndex,
    ) -> None:
        self.article_ids = list(article_ids)
        self.dense = dense
        self.passage_article = passage_article
        self.lexical = lexical
        self.document_article = document_article
        self.vocabulary: dict[str, int] = dict(lexical.vocab_dict)
        self.restorer = restorer
        self.phrasings = phrasings

    @property
    def passage_count(self) -> int:
        return int(self.dense.ntotal)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.dense, str(directory / "dense.faiss"))
        np.save(directory / "passage_article.npy", self.passage_article)
        np.save(directory / "document_article.npy", self.document_article)
        (directory / "articles.json").write_text(json.dumps(self.article_ids), encoding="utf-8")
        self.lexical.save(str(directory / "bm25"), show_progress=False)
        (directory / "restorer.json").write_text(self.restorer.to_json(), encoding="utf-8")
        self.phrasings.save(directory / "phrasings")

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        return cls(
            json.loads((directory / "articles.json").read_text(encoding="utf-8")),
            faiss.read_index(str(directory / "dense.faiss")),
            np.load(directory / "passage_article.npy"),
            bm25s.BM25.load(str(directory / "bm25"), show_progress=False),
            np.load(directory / "document_article.npy"),
            DiacriticRestorer.from_json((directory / "restorer.json").read_text(encoding="utf-8")),
            CharNgramIndex.load(directory / "phrasings"),
        )


def build_index(kb: KnowledgeBase, embedder: Embedder, *, progress: bool = False, batch_size: int = 32) -> SearchIndex:
    article_ids = kb.ids
    position = {article_id: i for i, article_id in enumerate(article_ids)}
    passages = [p for article in kb for p in passages_for(article)]
    embedder.warm_up()
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    bar = tqdm(total=len(passages), desc="Embedding passages", unit="passage", disable=not progress)
    with embedder.build_threads():
        for is_question in (True, False):
            chosen = [i for i, p in enumerate(passages) if p.is_question == is_question]
            for start in range(0, len(chosen), batch_size):
                batch = chosen[start : start + batch_size]
                texts = [passages[i].text for i in batch]
                encoded: Vectors = (
                    embedder.embed_queries(texts)
                    if is_question
                    else embedder.embed_passages(texts, batch_size=batch_size)
                )
                vectors[batch] = encoded
                bar.update(len(batch))
    bar.close()
    dense = faiss.IndexFlatIP(embedder.dimension)
    dense.add(vectors)
    lexical = bm25s.BM25()
    documents = [lexical_document(article) for article in kb]
    lexical.index(documents, show_progress=False)
    return SearchIndex(
        article_ids,
        dense,
        np.array([position[p.article_id] for p in passages], dtype=np.int32),
        lexical,
        np.array([position[a.id] for a in kb], dtype=np.int32),
        *learn_spelling(kb, article_ids),
    )


def load_or_build(
    kb: KnowledgeBase, embedder: Embedder, data_dir: Path, *, progress: bool = False, rebuild: bool = False
) -> SearchIndex:
    """The persisted index for exactly this content and model, building it first when there is none."""
    root = data_dir / "index"
    key = content_hash(kb, embedder)
    target = root / key
    if target.is_dir() and not rebuild:
        try:
            return SearchIndex.load(target)
        except (OSError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
            log.warning("index at %s is unreadable (%s); rebuilding", target, exc)
    log.info("building the search index %s", key)
    index = build_index(kb, embedder, progress=progress)
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    index.save(scratch)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(scratch, target)
    except OSError:  # another worker renamed its identical build into place first
        shutil.rmtree(scratch, ignore_errors=True)
    for stale in root.iterdir():
        if stale.name != key and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return index
