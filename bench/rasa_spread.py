"""How much the Rasa engine's figures move between correct trainings: seeds, threads and CPU kernels.

Each variant trains the shipped pipeline (nlu/config.yml) from an empty cache into a folder of its own,
with its DIET seed and environment (thread counts, oneDNN on or off, oneDNN capped to an older
instruction set, which is how another CPU's kernels are reproduced here), starts a real Rasa server on
it and scores both held-out files and the 400 citizen questions the way the tests do. One JSON line per
variant goes to --out; --summary prints the table for docs/benchmarks.md (NLU).

    .venv/bin/python -m bench.rasa_spread --set kernels     # seed 17 under several kernel settings
    .venv/bin/python -m bench.rasa_spread --set seeds       # five seeds with the shipped settings
    .venv/bin/python -m bench.rasa_spread --variant mine:seed=3,TF_INTRA_OP_PARALLELISM_THREADS=1
    .venv/bin/python -m bench.rasa_spread --summary [FILE ...] [--reference NAME]

Needs `make rasa`. About 8 minutes per variant on 2 cores (training), plus a minute to evaluate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hocvu.app import rasa_project
from hocvu.config import load_settings
from hocvu.nlu_cli import free_port
from language.normalize import normalize
from language.query import Query
from nlu.evaluation import NLUReport, effective_intent
from nlu.rasa_engine import RasaEngine
from nlu.rasa_server import RasaProject, RasaServer
from nlu.training_data import load_training_data
from tests.support.fakes import FakeEmbedder
from tests.support.nlu_files import ANSWERED, HELD_OUT_FILES, citizen_questions

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "var" / "bench" / "rasa-spread.jsonl"
THRESHOLD = 0.7  # the app's intent threshold

# What the shipped training pins (nlu/rasa_server.py, REPRODUCIBLE), undone by the `onednn` variants: the
# settings before they were pinned. ONEDNN_MAX_CPU_ISA caps oneDNN's kernels to an instruction set, which is
# how another CPU's kernels are reproduced on this one.
UNPINNED = {"ONEDNN_MAX_CPU_ISA": "ALL", "TF_ENABLE_ONEDNN_OPTS": "1", "TF_DETERMINISTIC_OPS": "0"}
SETS: dict[str, dict[str, dict[str, str]]] = {
    "kernels": {
        "shipped": {},
        "shipped-again": {},
        "shipped-1-thread": {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"},
        "unpinned": {**UNPINNED},
        "unpinned-avx2": {**UNPINNED, "ONEDNN_MAX_CPU_ISA": "AVX2"},
        "unpinned-avx512": {**UNPINNED, "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    },
    "seeds": {f"seed-{seed}": {"seed": str(seed)} for seed in (1, 2, 3, 4, 5)},
}
# Messages tests/test_nlu_rasa.py checks one by one, with the intent it expects at or above 0.7 (0.8 for
# out_of_scope, the gate's threshold): whether every correct training gets them right.
PROBES = {
    "tiếp đi": "next_step",
    "chuyển sang tiếng anh nhé": "change_language",
    "cách đăng ký vneid": "ask_question",
    "tiep di": "next_step",
    "chuyen sang tieng anh di": "change_language",
    "cách nuôi cá koi trong bể kính": "out_of_scope",
    "cong thuc lam banh flan": "out_of_scope",
}


def probe_misses(parsed: dict[str, list[Any]]) -> list[str]:
    misses = []
    for text, expected in PROBES.items():
        intent, confidence = parsed[text]
        floor = 0.8 if expected == "out_of_scope" else THRESHOLD
        if effective_intent(intent, confidence, floor) != expected:
            misses.append(f"{text} → {intent} {confidence:.2f}")
    return misses


@contextlib.contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def with_seed(pipeline: Path, seed: int, folder: Path) -> Path:
    text = pipeline.read_text(encoding="utf-8")
    changed, count = re.subn(r"(random_seed:\s*)\d+", rf"\g<1>{seed}", text)
    if count != 1:
        raise SystemExit(f"{pipeline}: expected one random_seed, found {count}")
    path = folder / "config.yml"
    path.write_text(changed, encoding="utf-8")
    return path


def parse_all(engine: RasaEngine, texts: list[str]) -> list[tuple[str, float]]:
    out = []
    for text in texts:
        result = engine.parse(Query(normalize(text), FakeEmbedder()))
        out.append((result.intent, round(result.confidence, 6)))
    return out


def run_variant(name: str, spec: Mapping[str, str], work: Path, keep: bool) -> dict[str, Any]:
    settings = load_settings(REPO / "config.yml", environ={})
    shipped = rasa_project(settings)
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    overrides = {k: v for k, v in spec.items() if k != "seed"}
    pipeline = with_seed(shipped.pipeline, int(spec["seed"]), folder) if "seed" in spec else shipped.pipeline
    project = RasaProject(
        shipped.venv,
        shipped.training_data,
        pipeline,
        folder / "models",  # an empty Rasa cache: nothing reused from another training
        shipped.lock_file,
        e5_model=shipped.e5_model,
    )
    row: dict[str, Any] = {"variant": name, "spec": dict(spec), "machine": machine()}
    with environment(overrides):
        started = time.perf_counter()
        project.train(force=True)
        row["train_seconds"] = round(time.perf_counter() - started, 1)
        server = RasaServer(project, port=free_port(), token=secrets.token_urlsafe(16), log_file=folder / "rasa.log")
        with server:
            engine = RasaEngine(server.url, token=server.token, timeout=10)
            for path in HELD_OUT_FILES:
                examples = load_training_data(path).examples
                parsed = parse_all(engine, [e.text for e in examples])
                gold = [e.intent for e in examples]
                guess = [effective_intent(i, c, THRESHOLD) for i, c in parsed]
                report = NLUReport.from_labels("rasa", THRESHOLD, gold, guess)
                row[path.stem] = {
                    "accuracy": round(report.accuracy, 4),
                    "correct": sum(g == p for g, p in zip(gold, guess, strict=True)),
                    "total": len(gold),
                    "out_of_scope_recall": round(report.out_of_scope_recall, 4),
                    "parsed": parsed,
                }
            questions = citizen_questions()
            parsed = parse_all(engine, questions)
            intents = [effective_intent(i, c, THRESHOLD) for i, c in parsed]
            row["probes"] = dict(zip(PROBES, parse_all(engine, list(PROBES)), strict=True))
            row["citizen_questions"] = {
                "total": len(questions),
                "false_commands": sum(i not in ANSWERED for i in intents),
                "gated": sum(i == "out_of_scope" for i in intents),
                "parsed": parsed,
            }
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return row


def machine() -> dict[str, Any]:
    flags = ""
    with contextlib.suppress(OSError):
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "amx_tile") if f" {f}" in flags]
    return {"cpu": platform.processor() or platform.machine(), "isa": isa, "cores": os.cpu_count()}


def summary(rows: list[dict[str, Any]], reference_name: str | None = None) -> str:
    """The docs table: figures per training, whether its answers equal the reference's, and the spread."""
    if not rows:
        return "no results yet"
    reference = next((r for r in rows if r["variant"] == reference_name), rows[0])
    golds = {path.stem: [e.intent for e in load_training_data(path).examples] for path in HELD_OUT_FILES}
    lines = [
        f"| training | test_nlu accuracy | independent accuracy | out-of-scope recall (test / independent) | "
        f"false commands | gated | probes missed | answers as {reference['variant']} | train |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    spread: dict[str, list[float]] = {}
    seen: list[dict[str, Any]] = []
    for row in rows:
        cells = [row["variant"]]
        # A training whose answers equal an earlier one's (the same settings again) is not another sample.
        repeat = any(all(row[k]["parsed"] == other[k]["parsed"] for k in golds) for other in seen)
        seen.append(row)
        recalls = []
        for key, gold in golds.items():
            guess = [effective_intent(i, c, THRESHOLD) for i, c in row[key]["parsed"]]
            right = sum(g == p for g, p in zip(gold, guess, strict=True))
            out_of_scope = [p == g for g, p in zip(gold, guess, strict=True) if g == "out_of_scope"]
            cells.append(f"{right / len(gold):.3f} ({right}/{len(gold)})")
            recalls.append(f"{sum(out_of_scope) / len(out_of_scope):.3f} ({sum(out_of_scope)}/{len(out_of_scope)})")
            if not repeat:
                spread.setdefault(f"{key} accuracy", []).append(right / len(gold))
                spread.setdefault(f"{key} out-of-scope recall", []).append(sum(out_of_scope) / len(out_of_scope))
        citizens = row["citizen_questions"]
        if not repeat:
            spread.setdefault("false commands", []).append(citizens["false_commands"])
            spread.setdefault("gated", []).append(citizens["gated"])
        keys = ("test_nlu", "independent_nlu", "citizen_questions")
        diff = max(
            abs(x[1] - y[1]) if x[0] == y[0] else 1.0
            for k in keys
            for x, y in zip(row[k]["parsed"], reference[k]["parsed"], strict=True)
        )
        probes = probe_misses(row["probes"]) if "probes" in row else ["not measured"]
        cells += [
            " / ".join(recalls),
            str(citizens["false_commands"]),
            str(citizens["gated"]),
            "; ".join(probes) or "0",
            "identical" if diff == 0 else ("other intents" if diff == 1.0 else f"confidences within {diff:.1e}"),
            f"{row['train_seconds']:.0f} s",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, values in spread.items():
        lines.append(
            f"{name}: min {min(values):.3f}, max {max(values):.3f}, mean {statistics.mean(values):.3f}, "
            f"sd {statistics.stdev(values) if len(values) > 1 else 0.0:.3f} over {len(values)} distinct trainings"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(SETS), action="append", default=[])
    parser.add_argument("--variant", action="append", default=[], help="NAME:key=value,... (seed=N or env vars)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "spread")
    parser.add_argument("--keep", action="store_true", help="keep each variant's model and log")
    parser.add_argument("--summary", nargs="*", type=Path, help="print the table of these result files (default --out)")
    parser.add_argument("--reference", help="the training the others' answers are compared with (default: the first)")
    args = parser.parse_args()
    variants: dict[str, dict[str, str]] = {}
    for name in args.set:
        variants.update(SETS[name])
    for item in args.variant:
        name, _, spec = item.partition(":")
        variants[name] = dict(pair.split("=", 1) for pair in spec.split(",") if pair)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name, spec in variants.items():
        row = run_variant(name, spec, args.work, args.keep)
        with args.out.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(
            f"{name}: test_nlu {row['test_nlu']['accuracy']:.3f}, independent {row['independent_nlu']['accuracy']:.3f}"
        )
    if args.summary is not None or not variants:
        files = args.summary or [args.out]
        rows = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(summary(rows, args.reference))


if __name__ == "__main__":
    main()
