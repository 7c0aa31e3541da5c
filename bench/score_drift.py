"""How much retrieval scores move between machines and thread settings, against the answer threshold.

A run builds the search index from scratch in a folder of its own and scores every evaluation question
(`knowledge_base/eval/{dev,test}.yml`) through the assistant, unrounded, optionally inside a wrapper command: under
`qemu-x86_64 -cpu Haswell` (Debian's qemu-user) ONNX Runtime takes its AVX2 kernels instead of this
machine's AVX-512/VNNI ones, which is how another CPU is reproduced here. NLU is the rules engine, so
every question reaches retrieval. --compare prints what docs/benchmarks.md reports: the largest score
change, and how many questions change side of the answer and suggestion thresholds.

    .venv/bin/python -m bench.score_drift --run native
    .venv/bin/python -m bench.score_drift --run native-2-threads --threads 2
    .venv/bin/python -m bench.score_drift --run haswell --wrap "qemu-x86_64 -cpu Haswell"   # ~40 min
    .venv/bin/python -m bench.score_drift --compare native haswell
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.messages import UserMessage
from hocvu.app import build_app, onnx_model_folder
from hocvu.config import load_settings

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "var" / "bench" / "score-drift"


def questions() -> list[str]:
    folder = REPO / "knowledge_base" / "eval"
    return [
        item["q"] for name in ("dev.yml", "test.yml") for item in yaml.safe_load((folder / name).read_text("utf-8"))
    ]


def run(name: str, threads: int, build_threads: int, wrap: str) -> Path:
    settings = load_settings(REPO / "config.yml", environ={})
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    texts = questions()
    with tempfile.TemporaryDirectory(prefix="score-drift-") as scratch:
        config.update(data_dir=scratch, content_dir=str(REPO / "knowledge_base"))
        config["embedder"].update(model=str(onnx_model_folder(settings)), threads=threads, build_threads=build_threads)
        config["nlu"] = {**config["nlu"], "engine": "rules"}
        config["nlu"] = {k: (str(REPO / v) if k.endswith("_data") else v) for k, v in config["nlu"].items()}
        path = Path(scratch) / "config.yml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        command = [*shlex.split(wrap), sys.executable, "-m", "bench.score_drift", "--score", str(path)]
        env = {**os.environ, "HOCVU_SECRET_KEY": "bench"}
        done = subprocess.run(
            command, input="\n".join(texts) + "\n", capture_output=True, text=True, cwd=REPO, env=env, check=False
        )
    if done.returncode != 0:
        raise SystemExit(f"scoring failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    result = {
        "run": name,
        "threads": threads,
        "build_threads": build_threads,
        "wrap": wrap,
        "scores": {r["question"]: [r["article_id"], r["score"]] for r in rows},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{name}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def score(config: Path) -> None:
    """One JSON line per question on stdin: the assistant's top article and its unrounded score."""
    settings = load_settings(config, environ={"HOCVU_SECRET_KEY": "bench"})
    app = build_app(settings, database=False)
    for line in sys.stdin:
        text = line.rstrip("\n")
        response = app.assistant.handle(UserMessage("bench", "drift", text=text))
        print(json.dumps({"question": text, "article_id": response.article_id, "score": float(response.score)}))


def compare(first: str, second: str) -> str:
    settings = load_settings(REPO / "config.yml", environ={})
    thresholds = {"answer": settings.retrieval.answer_threshold, "suggest": settings.retrieval.suggest_threshold}
    a: dict[str, Any] = json.loads((OUT / f"{first}.json").read_text(encoding="utf-8"))["scores"]
    b: dict[str, Any] = json.loads((OUT / f"{second}.json").read_text(encoding="utf-8"))["scores"]
    common = sorted(a.keys() & b.keys())
    deltas = sorted(abs(a[q][1] - b[q][1]) for q in common)
    lines = [
        f"{first} vs {second}: {len(common)} questions; score change max {deltas[-1]:.1e}, "
        f"p99 {deltas[int(0.99 * (len(deltas) - 1))]:.1e}, median {deltas[len(deltas) // 2]:.1e}; "
        f"top article changed for {sum(a[q][0] != b[q][0] for q in common)}"
    ]
    for label, threshold in thresholds.items():
        flips = [q for q in common if (a[q][1] >= threshold) != (b[q][1] >= threshold)]
        margin = min(abs(a[q][1] - threshold) for q in common)
        lines.append(
            f"  {label} threshold {threshold}: {len(flips)} question(s) change side {flips[:3]}; "
            f"closest score in {first} is {margin:.5f} away"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", metavar="NAME")
    parser.add_argument("--threads", type=int, default=1, help="serving threads (embedder.threads)")
    parser.add_argument("--build-threads", type=int, default=2, help="threads while building the index")
    parser.add_argument("--wrap", default="", help='run hocvu inside this command, e.g. "qemu-x86_64 -cpu Haswell"')
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"))
    parser.add_argument("--score", type=Path, help=argparse.SUPPRESS)  # the scoring process itself
    args = parser.parse_args()
    if args.score:
        score(args.score)
    if args.run:
        print(run(args.run, args.threads, args.build_threads, args.wrap))
    if args.compare:
        print(compare(*args.compare))


if __name__ == "__main__":
    main()
