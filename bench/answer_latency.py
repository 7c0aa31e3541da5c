"""Answer time (normalise + retrieve + compose) on the shipped knowledge base and on a synthetic one of
10,000 passages, with one serving thread; also the index build time for the synthetic one.

    [HOCVU_CONFIG=other.yml] .venv/bin/python -m bench.answer_latency [--threads N] [--skip-synthetic]

The embedder's thread count is fixed when its library loads, so compare thread counts in separate runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from bot import answers
from bot.assistant import Assistant
from bot.messages import UserMessage
from bot.state import MemoryStateStore
from embeddings.embedder import Embedder
from hocvu.app import make_embedder, make_nlu
from hocvu.config import load_settings
from knowledge_base.articles import KnowledgeBase, load_articles, parse_article
from knowledge_base.index import load_or_build, passages_for
from knowledge_base.retriever import Retriever

REPO = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def questions() -> list[str]:
    items = []
    for name in ("dev.yml", "test.yml"):
        items += [i["q"] for i in yaml.safe_load((REPO / "knowledge_base" / "eval" / name).read_text(encoding="utf-8"))]
    return items


def measure(kb: KnowledgeBase, embedder: Embedder, data_dir: Path, qs: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    index = load_or_build(kb, embedder, data_dir, progress=True)
    build_s = time.perf_counter() - started
    settings = load_settings()
    assistant = Assistant(
        kb,
        Retriever(index, settings.retrieval),
        embedder,
        make_nlu(settings, embedder),
        MemoryStateStore(),
        default_lang=settings.default_language,
        intent_threshold=settings.nlu.intent_threshold,
    )
    for q in qs[:20]:  # warm caches
        assistant.handle(UserMessage("bench", "warm", text=q))
    samples = []
    for n, q in enumerate(qs):
        t0 = time.perf_counter()
        response = assistant.handle(UserMessage("bench", f"u{n}", text=q))
        if response.article_id:
            answers.full_answer(kb, kb.get(response.article_id, response.lang), response.lang)
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = percentiles(samples)
    return {"passages": index.passage_count, "p50_ms": p50, "p95_ms": p95, "build_s": build_s}


def synthetic_kb(target_passages: int, out: Path) -> KnowledgeBase:
    """Realistic text at scale: recombine sentences of the shipped articles into new articles until the
    index would hold `target_passages` passages."""
    real = load_articles(REPO / "knowledge_base" / "articles")
    rng = random.Random(7)
    questions_pool = [q for a in real for q in a.questions]
    summaries = [a.summary for a in real]
    steps = [s for a in real for s in a.steps]
    passages = 0
    n = 0
    while passages < target_passages:
        lang = "vi" if n % 2 == 0 else "en"
        qs = rng.sample(questions_pool, 6)
        body = "\n".join(f"{i}. {s}" for i, s in enumerate(rng.sample(steps, 5), start=1))
        text = (
            f"---\nid: synthetic-{n}\ntopic: vneid\nlang: {lang}\ntitle: {qs[0]} ({n})\nquestions:\n"
            + "".join(f"  - {q} {n}\n" for q in qs)
            + "sources:\n  - https://dichvucong.gov.vn\nlast_verified: 2026-11-20\n---\n"
            + f"{rng.choice(summaries)}\n\n## Các bước\n{body}\n"
        )
        path = out / lang / "vneid" / f"synthetic-{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        article, problems = parse_article(path, text)
        assert article is not None, problems
        passages += len(passages_for(article))
        n += 1
    return load_articles(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None, help="embedder threads while serving")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    if args.threads:
        settings = dataclasses.replace(settings, embedder=dataclasses.replace(settings.embedder, threads=args.threads))
    embedder = make_embedder(settings)
    embedder.warm_up()
    qs = questions()
    print(f"embedder {embedder.fingerprint}, serving threads {settings.embedder.threads}, {len(qs)} questions")
    shipped = measure(load_articles(settings.articles_dir), embedder, settings.data_dir, qs)
    print(f"shipped KB: {shipped['passages']} passages  p50 {shipped['p50_ms']:.1f} ms  p95 {shipped['p95_ms']:.1f} ms")
    if not args.skip_synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            kb = synthetic_kb(10_000, Path(tmp) / "articles")
            synthetic = measure(kb, embedder, Path(tmp) / "data", qs)
        print(
            f"synthetic KB: {synthetic['passages']} passages  p50 {synthetic['p50_ms']:.1f} ms  "
            f"p95 {synthetic['p95_ms']:.1f} ms  index build {synthetic['build_s']:.0f} s"
        )


if __name__ == "__main__":
    main()
