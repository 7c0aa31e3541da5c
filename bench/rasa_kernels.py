"""Which settings change the weights Rasa's DIET trains: a small training, its weights' hash per setting.

DIET is trained for one epoch on the first 12 examples of each intent (char n-gram counts only: no e5
vectors, so nothing but TensorFlow is measured), from an empty cache, with the shipped environment
(nlu/rasa_server.py, REPRODUCIBLE) and one change per variant. Equal hashes mean bit-identical weights.
The `qemu-haswell` variant runs the training inside `qemu-x86_64 -cpu Haswell` (Debian's qemu-user): an
AVX2 CPU with other cache sizes; it takes about 25 minutes.

    .venv/bin/python -m bench.rasa_kernels [--qemu]

Needs `make rasa`. About 2 minutes per variant on 2 cores; results in docs/benchmarks.md, NLU.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

from hocvu.app import rasa_project
from hocvu.config import load_settings
from nlu.rasa_server import REPRODUCIBLE

REPO = Path(__file__).resolve().parent.parent
PIPELINE = {
    "recipe": "default.v1",
    "language": "vi",
    "assistant_id": "kernels",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 1, "random_seed": 17},
    ],
    "policies": [],
}
VARIANTS: dict[str, tuple[dict[str, str], list[str]]] = {
    "shipped": ({}, []),
    "shipped, again": ({}, []),
    "1 thread": ({"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}, []),
    "oneDNN: this CPU's best kernels (ALL)": ({"ONEDNN_MAX_CPU_ISA": "ALL"}, []),
    "oneDNN: AVX-512 kernels": ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, []),
    "TensorFlow's oneDNN optimisations on": ({"TF_ENABLE_ONEDNN_OPTS": "1"}, []),
}
QEMU: dict[str, tuple[dict[str, str], list[str]]] = {
    "qemu-haswell: another CPU (AVX2, other caches)": ({}, ["qemu-x86_64", "-cpu", "Haswell"])
}


def small_data(path: Path) -> None:
    data = yaml.safe_load((REPO / "nlu" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    blocks = []
    for block in data["nlu"]:
        if "intent" in block:
            examples = [line for line in block["examples"].splitlines() if line.strip()][:12]
            blocks.append({"intent": block["intent"], "examples": "\n".join(examples) + "\n"})
    path.write_text(yaml.safe_dump({"version": data["version"], "nlu": blocks}, allow_unicode=True), "utf-8")


def weights_hash(rasa: Path, folder: Path, env: dict[str, str], wrapper: list[str]) -> str:
    out = folder / "out"
    command = [*wrapper, str(rasa.parent / "python"), str(rasa), "train", "nlu", "--nlu", str(folder / "nlu.yml")]
    command += ["--config", str(folder / "config.yml"), "--out", str(out), "--fixed-model-name", "model"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"rasa train failed:\n{done.stderr[-2000:]}")
    with tarfile.open(out / "model.tar.gz") as model:
        member = next(m for m in model.getmembers() if "DIETClassifier" in m.name and ".data-" in m.name)
        data = model.extractfile(member)
        assert data is not None
        return hashlib.sha256(data.read()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qemu", action="store_true", help="also train inside qemu-x86_64 -cpu Haswell (slow)")
    args = parser.parse_args()
    project = rasa_project(load_settings(REPO / "config.yml", environ={}))
    project.require_rasa()
    variants = {**VARIANTS, **(QEMU if args.qemu else {})}
    print("| variant | DIET weights (sha256) | as shipped | train |\n| --- | --- | --- | --- |")
    shipped = None
    for name, (overrides, wrapper) in variants.items():
        with tempfile.TemporaryDirectory(prefix="rasa-kernels-") as scratch:
            folder = Path(scratch)
            small_data(folder / "nlu.yml")
            (folder / "config.yml").write_text(yaml.safe_dump(PIPELINE), encoding="utf-8")
            env = {key: value for key, value in os.environ.items() if key not in REPRODUCIBLE}
            env.update({**REPRODUCIBLE, **overrides, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"})
            env["RASA_CACHE_DIRECTORY"] = str(folder / "cache")
            started = time.perf_counter()
            digest = weights_hash(project.rasa, folder, env, wrapper)
            shipped = shipped or digest
            same = "yes" if digest == shipped else "no"
            print(f"| {name} | {digest} | {same} | {time.perf_counter() - started:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
