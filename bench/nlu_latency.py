"""NLU latency: what the embedded engine adds to a message beyond the query embedding (which retrieval
needs anyway and shares), and Rasa over HTTP (p50/p95 and cold start), on the held-out NLU messages plus
the knowledge base's citizen questions.

    .venv/bin/python -m bench.nlu_latency [--skip-rasa] [--rounds 3]

The Rasa part needs `make rasa`; it starts its own server on a free port and stops it by process id.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from pathlib import Path

import yaml

from hocvu.app import make_embedder, rasa_project
from hocvu.config import load_settings
from hocvu.nlu_cli import free_port
from language.normalize import normalize
from language.query import Query
from nlu.embedded import EmbeddedEngine
from nlu.rasa_engine import RasaEngine
from nlu.rasa_server import RasaServer
from nlu.training_data import load_training_data

REPO = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(current, peak) resident memory of a process from /proc, in MB; None where /proc has no such file."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return None
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def messages(settings_test_data: Path) -> list[str]:
    held_out = [e.text for e in load_training_data(settings_test_data).examples]
    kb = [item["q"] for item in yaml.safe_load((REPO / "knowledge_base" / "eval" / "test.yml").read_text("utf-8"))]
    return held_out + kb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-rasa", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.yml", environ={})
    embedder = make_embedder(settings)
    embedder.warm_up()
    texts = messages(settings.nlu.test_data)

    started = time.perf_counter()
    engine = EmbeddedEngine(embedder, settings.nlu.training_data, settings.data_dir / "nlu")
    engine.warm_up()
    load_s = time.perf_counter() - started

    embed_ms: list[float] = []
    parse_ms: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            query = Query(normalize(text), embedder)
            t0 = time.perf_counter()
            _ = query.vector
            t1 = time.perf_counter()
            engine.parse(query)
            t2 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            parse_ms.append((t2 - t1) * 1000)
    e50, e95 = percentiles(embed_ms)
    p50, p95 = percentiles(parse_ms)
    how = "trained" if engine.trained_from_scratch else "loaded from cache"
    print(f"messages: {len(texts)} x {args.rounds} rounds, embedder threads {settings.embedder.threads}")
    print(f"embedded engine ready in {load_s:.2f} s ({how})")
    print(f"query embedding (shared with retrieval): p50 {e50:.2f} ms, p95 {e95:.2f} ms")
    print(f"embedded NLU added beyond the embedding: p50 {p50:.3f} ms, p95 {p95:.3f} ms")

    if args.skip_rasa:
        return
    project = rasa_project(settings)
    if not project.rasa.exists():
        print(f"Rasa: skipped, not installed at {project.venv} (make rasa)")
        return
    project.train()
    server = RasaServer(project, port=free_port(), token=secrets.token_urlsafe(16))
    try:
        server.start()
        client = RasaEngine(server.url, token=server.token, timeout=5)
        rasa_ms: list[float] = []
        for _ in range(args.rounds):
            for text in texts:
                query = Query(normalize(text), embedder)
                t0 = time.perf_counter()
                client.parse(query)
                rasa_ms.append((time.perf_counter() - t0) * 1000)
        memory = rss_mb(server.process.pid) if server.process is not None else None
    finally:
        server.stop()
    r50, r95 = percentiles(rasa_ms)
    print(f"Rasa cold start (process start to model loaded): {server.cold_start_seconds:.1f} s")
    print(f"Rasa POST /model/parse over HTTP: p50 {r50:.2f} ms, p95 {r95:.2f} ms")
    if memory is not None:
        print(f"Rasa server memory after the run: RSS {memory[0]:.0f} MB, peak {memory[1]:.0f} MB")


if __name__ == "__main__":
    main()
