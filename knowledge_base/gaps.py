"""Content gaps: the questions the assistant could not answer well, grouped so one new article fixes many.

`find_gaps` takes a period's unanswered questions ("don't know" answers, answers a user gave 👎, answers
given with low confidence), groups similar ones, ranks the groups by how many distinct users asked, and
names the existing article closest to each. `markdown` turns the groups into article skeletons an author
fills in (docs/gaps.md), `csv_text` into a spreadsheet.

How questions are compared (measured in docs/gaps.md): each question is a vector of two halves, like the
retriever's hybrid score. The app's embedder gives the meaning: the query vectors of the text as typed and of
its diacritic-folded form, each centred on the mean of the search index's passages (e5's vectors of any
two Vietnamese questions about digital services sit close together; centring keeps what tells them
apart). TF-IDF over folded syllables and syllable bigrams (the terms BM25 uses) gives the exact words,
which e5 connects poorly across diacritics. Agglomerative clustering (scikit-learn, average linkage,
cosine distance) cuts the tree at a fixed distance, so the number of groups follows the data.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from embeddings.embedder import Embedder, normalised
from knowledge_base.articles import KnowledgeBase
from knowledge_base.retriever import Retriever
from language.normalize import lexical_terms, normalize
from language.query import Query

# Why a question is a gap candidate (storage/gaps_store.py finds them).
DONT_KNOW = "dont_know"  # the assistant said it does not know
THUMBS_DOWN = "thumbs_down"  # the user said the answer did not help
LOW_CONFIDENCE = "low_confidence"  # answered, with a score just above the threshold
KINDS = (DONT_KNOW, THUMBS_DOWN, LOW_CONFIDENCE)

# Measured in docs/gaps.md on held-out articles' question phrasings: the cut with the best agreement
# with the articles' own grouping (adjusted Rand index 0.53, against 0.21 for raw e5 vectors).
DISTANCE_THRESHOLD = 0.85
LEXICAL_WEIGHT = 2.0  # the TF-IDF half's length against the dense half's (both unit vectors)
LOW_CONFIDENCE_MARGIN = 0.03  # answers scored below answer_threshold + this count as low-confidence (docs/gaps.md)
MAX_EXAMPLES = 8

Matrix = npt.NDArray[np.float32]


class AskedQuestion(Protocol):
    """One logged question that went unanswered, as the store reports it (storage/gaps_store.py)."""

    @property
    def text(self) -> str: ...  # redacted by the guard before it was ever stored

    @property
    def user(self) -> int | None: ...  # who asked; None for a user who asked to be forgotten

    @property
    def lang(self) -> str: ...

    @property
    def kinds(self) -> frozenset[str]: ...  # why it is a candidate, of KINDS

    @property
    def score(self) -> float: ...  # the confidence it was answered (or not) with


@dataclass(frozen=True)
class Closest:
    article_id: str
    title: str
    topic: str
    score: float  # the retriever's fused score today, the best over the group's questions


@dataclass(frozen=True)
class Gap:
    questions: tuple[AskedQuestion, ...]  # most typical first
    users: int  # distinct users who asked
    closest: Closest | None
    kinds: dict[str, int] = field(default_factory=dict)  # questions per reason

    @property
    def examples(self) -> tuple[str, ...]:
        """The distinct texts, most typical first (identical ones, however typed, once)."""
        seen: dict[str, str] = {}
        for question in self.questions:
            seen.setdefault(normalize(question.text).folded, question.text.strip())
        return tuple(seen.values())[:MAX_EXAMPLES]

    @property
    def lang(self) -> str:
        return Counter(q.lang for q in self.questions).most_common(1)[0][0]


def find_gaps(
    asked: Sequence[AskedQuestion],
    embedder: Embedder,
    retriever: Retriever,
    kb: KnowledgeBase,
    *,
    matching_text: Callable[[str], str] = str,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> list[Gap]:
    """The groups of similar questions in `asked`, the most distinct users first.

    `matching_text` turns a stored text into what is compared (the caller drops the guard's redaction marks,
    which say nothing about the topic). Questions with nothing left to compare are left out.
    """
    texts = [matching_text(q.text) for q in asked]
    kept = [i for i, text in enumerate(texts) if normalize(text).folded_tokens]
    if not kept:
        return []
    questions = [asked[i] for i in kept]
    normalized = [normalize(texts[i]) for i in kept]
    vectors = _vectors([n.clean for n in normalized], [n.folded for n in normalized], embedder, retriever, kb)
    labels = _cluster(vectors, distance_threshold)
    gaps = []
    for label in sorted(set(labels)):
        members = [i for i, own in enumerate(labels) if own == label]
        centre = vectors[members].mean(axis=0)
        members.sort(key=lambda i: -float(vectors[i] @ centre))  # the most typical phrasing first
        group = tuple(questions[i] for i in members)
        kinds = Counter(kind for q in group for kind in q.kinds)
        users = {q.user if q.user is not None else f"unlinked-{id(q)}" for q in group}
        lang = Counter(q.lang for q in group).most_common(1)[0][0]
        closest = _closest([texts[kept[i]] for i in members], lang, embedder, retriever, kb)
        gaps.append(Gap(group, len(users), closest, {k: kinds[k] for k in KINDS if kinds[k]}))
    gaps.sort(key=lambda g: (-g.users, -len(g.questions), g.examples[0]))
    return gaps


def _vectors(
    clean: list[str], folded: list[str], embedder: Embedder, retriever: Retriever, kb: KnowledgeBase
) -> Matrix:
    embedder.warm_up()
    dense_index = retriever.index.dense
    mean = dense_index.reconstruct_n(0, dense_index.ntotal).mean(axis=0)
    dense = normalised(
        normalised(embedder.embed_queries(clean) - mean) + normalised(embedder.embed_queries(folded) - mean)
    )
    # IDF from the knowledge base's phrasings as well as these questions: a handful of questions alone would
    # make every word they share look rare.
    reference = [normalize(text).folded for article in kb for text in (article.title, *article.questions)]
    tfidf = TfidfVectorizer(analyzer=_terms, sublinear_tf=True).fit([*reference, *folded])
    lexical = normalised(tfidf.transform(folded).toarray())
    return np.hstack([dense, LEXICAL_WEIGHT * lexical]).astype(np.float32)


def _terms(folded: str) -> list[str]:
    return lexical_terms(folded.split())


def _cluster(vectors: Matrix, distance_threshold: float) -> list[int]:
    if len(vectors) == 1:
        return [0]
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    )
    return [int(label) for label in model.fit_predict(vectors)]


def _closest(
    texts: list[str], lang: str, embedder: Embedder, retriever: Retriever, kb: KnowledgeBase
) -> Closest | None:
    """The article that is the best match for most of the group's questions (ties: the higher score)."""
    best: dict[str, float] = {}
    votes: Counter[str] = Counter()
    for text in texts:
        hit = retriever.search(Query(normalize(text), embedder), k=1).best
        if hit is not None:
            votes[hit.article_id] += 1
            best[hit.article_id] = max(best.get(hit.article_id, hit.score), hit.score)
    if not votes:
        return None
    article_id = max(votes, key=lambda a: (votes[a], best[a]))
    article = kb.get(article_id, lang)
    return Closest(article_id, article.title, article.topic, round(best[article_id], 3))


# -- exports -------------------------------------------------------------------------------------------

_KIND_NAMES = {DONT_KNOW: "don't know", THUMBS_DOWN: "👎", LOW_CONFIDENCE: "low confidence"}
_OUTLINE = {
    "vi": ("## Các bước", "## Nếu gặp lỗi", "## Lưu ý"),
    "en": ("## Steps", "## If something goes wrong", "## Important"),
}


def describe_kinds(kinds: dict[str, int]) -> str:
    return ", ".join(f"{count} {_KIND_NAMES[kind]}" for kind, count in kinds.items())


def skeleton(gap: Gap) -> str:
    """A new article's file as docs/content-guide.md lays it out: every placeholder starts with TODO, so
    `hocvu kb check` refuses the file until an author has filled it in."""
    lang = gap.lang if gap.lang in _OUTLINE else "vi"
    closest = gap.closest
    topic = closest.topic if closest else "TODO"
    guessed = f"  # guessed from the closest article, {closest.article_id}" if closest else ""
    questions = "\n".join(f"  - {json.dumps(text, ensure_ascii=False)}" for text in gap.examples)
    steps, errors, important = _OUTLINE[lang]
    return "\n".join(
        [
            "---",
            "id: TODO-article-id  # lower-case words and hyphens, starting with the topic's prefix",
            f"topic: {topic}{guessed}",
            f"lang: {lang}",
            "title: TODO the title, as a citizen would say it",
            "questions:  # what citizens asked, redacted; keep at least 5, each a way people really ask",
            questions,
            f"related: [{closest.article_id}]" if closest else "related: []",
            "sources:",
            "  - TODO https://... (official sources first)",
            "last_verified: TODO-YYYY-MM-DD",
            "---",
            "TODO Short answer: two or three plain sentences that already help on their own.",
            "",
            steps,
            "1. TODO one action per step, naming the button as the app shows it: bấm **...**.",
            "",
            errors,
            "- TODO what to do when a step fails.",
            "",
            important,
            "- TODO warnings where money or personal data is at stake.",
        ]
    )


def markdown(gaps: Sequence[Gap], title: str, empty_note: str) -> str:
    """The content team's worksheet: each gap's figures, then the skeleton of the article that would fill it."""
    out = [f"# {title}", ""]
    if not gaps:
        out += [empty_note, ""]
        return "\n".join(out)
    out += [
        f"{len(gaps)} group(s) of questions the assistant could not answer well, the most users first. "
        "Copy a skeleton into knowledge_base/articles/<lang>/<topic>/<id>.md, fill in every TODO "
        "(docs/content-guide.md), then run `hocvu kb check`.",
        "",
    ]
    for rank, gap in enumerate(gaps, 1):
        closest = gap.closest
        near = f"`{closest.article_id}` ({closest.title}), score {closest.score:.3f}" if closest else "none"
        out += [
            f"## {rank}. {gap.examples[0]}",
            "",
            f"- users: {gap.users}; questions: {len(gap.questions)} ({describe_kinds(gap.kinds)})",
            f"- closest existing article: {near}",
            "",
            "```markdown",
            skeleton(gap),
            "```",
            "",
        ]
    return "\n".join(out)


CSV_COLUMNS = (
    "rank",
    "users",
    "questions",
    *KINDS,
    "closest_article",
    "closest_title",
    "closest_score",
    "topic_guess",
    "lang",
    "examples",
)


def csv_text(gaps: Sequence[Gap], empty_note: str) -> str:
    """One row per gap, examples joined by " | "; with no gap, one row that says so."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if not gaps:
        writer.writerow(["", 0, 0, *(0 for _ in KINDS), "", "", "", "", "", empty_note])
    for rank, gap in enumerate(gaps, 1):
        closest = gap.closest
        writer.writerow(
            [
                rank,
                gap.users,
                len(gap.questions),
                *(gap.kinds.get(kind, 0) for kind in KINDS),
                closest.article_id if closest else "",
                closest.title if closest else "",
                f"{closest.score:.3f}" if closest else "",
                closest.topic if closest else "",
                gap.lang,
                " | ".join(gap.examples),
            ]
        )
    return buffer.getvalue()
