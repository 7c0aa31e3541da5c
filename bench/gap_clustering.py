"""How `hocvu kb gaps` should compare questions: which vectors, which clustering, where to cut.

The questions people ask about a topic the knowledge base lacks are stood in for by the Vietnamese question
phrasings of every third article (27 articles, with the dev set's questions about them: about 230 questions
written with and without diacritics, abbreviated, colloquial), each labelled with its article. A grouping
is as good as its agreement with those labels: the adjusted Rand index (1 = the articles' grouping, 0 =
chance), and over pairs of questions, the share of pairs put together that belong together (precision)
and of pairs that belong together that were put together (recall). Each variant is shown at its best cut,
and the shipped one also at the cut it ships with (docs/gaps.md has the results).

    .venv/bin/python -m bench.gap_clustering      # about a minute on 2 cores
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml
from sklearn.cluster import HDBSCAN, AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from embeddings.embedder import normalised
from hocvu.app import make_embedder
from hocvu.config import load_settings
from knowledge_base import gaps
from knowledge_base.articles import load_articles
from knowledge_base.index import load_or_build
from knowledge_base.retriever import Retriever
from language.normalize import has_diacritics, lexical_terms, normalize

REPO = Path(__file__).resolve().parent.parent
Matrix = npt.NDArray[np.float32]


def questions(kb_dir: Path, articles: list[str]) -> tuple[list[str], list[str]]:
    chosen = set(articles[::3])
    kb = load_articles(kb_dir / "articles")
    texts: list[str] = []
    labels: list[str] = []
    for article in kb:
        if article.lang == "vi" and article.id in chosen:
            texts += article.questions
            labels += [article.id] * len(article.questions)
    for item in yaml.safe_load((kb_dir / "eval" / "dev.yml").read_text(encoding="utf-8")):
        expect = item["expect"]
        if isinstance(expect, list) and len(expect) == 1 and expect[0] in chosen and item["kind"] != "english":
            texts.append(item["q"])
            labels.append(expect[0])
    return texts, labels


def scores(labels: npt.NDArray[np.str_], predicted: npt.NDArray[np.int_]) -> tuple[float, float, float]:
    upper = np.triu_indices(len(labels), 1)
    same = (labels[:, None] == labels[None, :])[upper]
    together = (predicted[:, None] == predicted[None, :])[upper]
    both = float((same & together).sum())
    return adjusted_rand_score(labels, predicted), both / max(float(together.sum()), 1.0), both / float(same.sum())


def agglomerative(vectors: Matrix, cut: float, linkage: str = "average") -> npt.NDArray[np.int_]:
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage=linkage, distance_threshold=cut)
    return np.asarray(model.fit_predict(vectors))


def main() -> None:
    settings = load_settings(REPO / "config.yml")
    kb = load_articles(settings.articles_dir)
    texts, labels = questions(settings.content_dir, sorted({a.id for a in kb}))
    truth = np.array(labels)
    embedder = make_embedder(settings)
    embedder.warm_up()
    retriever = Retriever(load_or_build(kb, embedder, settings.data_dir), settings.retrieval)
    print(f"{len(texts)} questions about {len(set(labels))} articles")

    normalized = [normalize(text) for text in texts]
    clean, folded = [n.clean for n in normalized], [n.folded for n in normalized]
    mean = retriever.index.dense.reconstruct_n(0, retriever.index.dense.ntotal).mean(axis=0)
    typed = embedder.embed_queries(clean)
    reference = [normalize(t).folded for a in kb for t in (a.title, *a.questions)]
    tfidf = TfidfVectorizer(analyzer=lambda f: lexical_terms(f.split()), sublinear_tf=True).fit([*reference, *folded])
    started = time.perf_counter()
    shipped = gaps._vectors(clean, folded, embedder, retriever, kb)
    vectors_time = time.perf_counter() - started
    restored = [
        retriever.index.restorer.restore(n.clean) if n.lang == "vi" and not has_diacritics(n.original) else n.clean
        for n in normalized
    ]
    words = normalised(tfidf.transform(folded).toarray())
    restored_dense = normalised(embedder.embed_queries(restored) - mean)
    folded_dense = normalised(embedder.embed_queries(folded) - mean)
    variants: dict[str, Matrix] = {
        "e5 as typed": typed,
        "e5 as typed, centred": normalised(typed - mean),
        "TF-IDF of folded syllables and bigrams": normalised(tfidf.transform(folded).toarray()),
        "shipped: e5 typed + folded, centred, with TF-IDF (weight 2)": shipped,
        "e5 restored + folded, centred, with TF-IDF (weight 2)": np.hstack(
            [normalised(restored_dense + folded_dense), 2 * words]
        ),
        "e5 restored, centred, with TF-IDF (weight 2)": np.hstack([restored_dense, 2 * words]),
    }
    cuts = [round(c, 2) for c in np.arange(0.05, 1.40, 0.05)]
    print("| vectors | clustering | best cut | ARI | pair precision | pair recall | groups |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, vectors in variants.items():
        for linkage in ("average", "complete"):
            runs: list[tuple[float, float, float, float, int]] = []
            for cut in cuts:
                predicted = agglomerative(vectors, cut, linkage)
                runs.append((*scores(truth, predicted), cut, len(set(predicted))))
            ari, precision, recall, cut, groups = max(runs)
            print(
                f"| {name} | agglomerative, {linkage} | {cut:.2f} | {ari:.3f} | {precision:.2f} | {recall:.2f} | {groups} |"
            )
        predicted = np.asarray(HDBSCAN(min_cluster_size=2, copy=True).fit_predict(vectors))
        predicted = np.where(predicted < 0, 10_000 + np.arange(len(predicted)), predicted)  # noise: alone
        ari, precision, recall = scores(truth, predicted)
        print(
            f"| {name} | HDBSCAN, min size 2 | - | {ari:.3f} | {precision:.2f} | {recall:.2f} | {len(set(predicted))} |"
        )
    predicted = agglomerative(shipped, gaps.DISTANCE_THRESHOLD)
    ari, precision, recall = scores(truth, predicted)
    print(
        f"\nshipped at its cut {gaps.DISTANCE_THRESHOLD}: ARI {ari:.3f}, pair precision {precision:.2f}, "
        f"recall {recall:.2f}, {len(set(predicted))} groups"
    )
    timed: Callable[[], object] = lambda: agglomerative(shipped, gaps.DISTANCE_THRESHOLD)  # noqa: E731
    started = time.perf_counter()
    timed()
    print(
        f"vectors for {len(texts)} questions: {vectors_time:.1f} s; clustering them: {time.perf_counter() - started:.3f} s"
    )


if __name__ == "__main__":
    main()
