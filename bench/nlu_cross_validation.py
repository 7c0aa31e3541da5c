"""Choosing the Rasa pipeline on the training data alone: 3-fold cross-validation, scored like the held-out
files (an intent below 0.7 counts as `ask_question`), so the held-out files stay a test.

1. `rasa test nlu --cross-validation` of the shipped pipeline (nlu/config.yml).
2. The same for the pipeline without its out-of-scope gate; then every gate variant is simulated on those
   out-of-fold DIET predictions: each example's gate probability comes from a gate trained on the other
   two folds of a split of its own, so no prediction has seen its example.

    .venv/bin/python -m bench.nlu_cross_validation [--folds 3]

Needs `make rasa`. About 10 minutes per Rasa pipeline on 2 cores; results in docs/benchmarks.md, NLU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml

from hocvu.app import make_embedder, rasa_project
from hocvu.config import Settings, load_settings
from language.normalize import normalize
from nlu.evaluation import NLUReport, effective_intent
from nlu.lexical import lexical_features
from nlu.rasa_engine import RASA_FALLBACK_INTENT
from nlu.softmax import Matrix, softmax, train_softmax_regression
from nlu.training_data import load_training_data

REPO = Path(__file__).resolve().parent.parent
GATE = "nlu.rasa_components.out_of_scope_gate.OutOfScopeGate"
THRESHOLD = 0.7  # the app's intent threshold
OOS = "out_of_scope"


def rasa_cross_validation(settings: Settings, pipeline: Path, folds: int, out: Path) -> list[dict[str, object]]:
    """Out-of-fold predictions of a Rasa pipeline: one row per training example."""
    project = rasa_project(settings)
    project.require_rasa()
    project.require_e5_model()
    command = [str(project.rasa), "test", "nlu", "--nlu", str(project.training_data), "--config", str(pipeline)]
    command += ["--cross-validation", "--folds", str(folds), "--successes", "--no-plot", "--out", str(out)]
    subprocess.run(command, env=project.environment, check=True, capture_output=True)
    rows: list[dict[str, object]] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        if (out / name).exists():
            rows.extend(json.loads((out / name).read_text(encoding="utf-8")))
    return rows


def predicted(row: dict[str, object]) -> str:
    prediction = row["intent_prediction"]
    assert isinstance(prediction, dict)
    name = prediction.get("name") or "ask_question"
    name = "ask_question" if name == RASA_FALLBACK_INTENT else name  # as the app's Rasa client reads it
    return effective_intent(str(name), float(prediction.get("confidence") or 0.0), THRESHOLD)


def scores(gold: Sequence[str], guess: Sequence[str]) -> str:
    """A table row's figures, scored by the same code as `hocvu nlu eval`."""
    report = NLUReport.from_labels("cross-validation", THRESHOLD, gold, guess)
    out_of_scope = report.per_intent[OOS]
    in_scope = [p == OOS for g, p in zip(gold, guess, strict=True) if g != OOS]
    return (
        f"{report.accuracy:.3f} | {report.macro_f1:.3f} | {report.out_of_scope_recall:.3f} "
        f"({round(out_of_scope['recall'] * out_of_scope['support'])}/{int(out_of_scope['support'])}) | "
        f"{sum(in_scope) / len(in_scope):.3f}"
    )


def gate_probabilities(settings: Settings, folds: int) -> dict[str, dict[str, float]]:
    """P(out_of_scope) per training text for each gate variant, out of fold."""
    embedder = make_embedder(settings)
    embedder.warm_up()
    examples = load_training_data(settings.nlu.training_data).examples
    texts = [normalize(e.text) for e in examples]

    def embed(strings: list[str]) -> Matrix:
        return np.vstack([embedder.embed_queries(strings[i : i + 64]) for i in range(0, len(strings), 64)])

    dense, dense_folded = embed([t.clean for t in texts]), embed([t.folded for t in texts])
    lexical = np.vstack([lexical_features(t.folded) for t in texts])
    intents = sorted({e.intent for e in examples})
    labels = np.array([intents.index(e.intent) for e in examples], dtype=np.int64)
    binary = np.array([int(e.intent == OOS) for e in examples], dtype=np.int64)
    rng = np.random.default_rng(0)
    fold_of = np.zeros(len(examples), dtype=int)
    for value in (0, 1):  # stratified by in/out of scope
        members = np.flatnonzero(binary == value)
        rng.shuffle(members)
        fold_of[members] = np.arange(len(members)) % folds

    def out_of_fold(features: Matrix, folded: Matrix | None, y: np.ndarray, column: int) -> np.ndarray:
        probability = np.zeros(len(examples))
        for fold in range(folds):
            train, test = fold_of != fold, fold_of == fold
            x, target = features[train], y[train]
            if folded is not None:  # each example's folded copy, same label
                x, target = np.vstack([x, folded[train]]), np.concatenate([target, target])
            weights, bias = train_softmax_regression(x.astype(np.float32), target, int(y.max()) + 1)
            probability[test] = softmax(features[test] @ weights + bias)[:, column]
        return probability

    both, both_folded = np.hstack([dense, lexical]), np.hstack([dense_folded, lexical])
    variants: dict[str, Callable[[], np.ndarray]] = {
        "e5, 2 classes": lambda: out_of_fold(dense, None, binary, 1),
        "e5, 2 classes, + folded copies": lambda: out_of_fold(dense, dense_folded, binary, 1),
        "e5 + n-grams, all intents": lambda: out_of_fold(both, None, labels, intents.index(OOS)),
        "e5 + n-grams, all intents, + folded copies": lambda: out_of_fold(
            both, both_folded, labels, intents.index(OOS)
        ),
    }
    by_text = [e.text for e in examples]
    return {name: dict(zip(by_text, run().tolist(), strict=True)) for name, run in variants.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.yml", environ={})
    shipped = REPO / "nlu" / "config.yml"
    config = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != GATE]
    with tempfile.TemporaryDirectory() as folder:
        without_gate = Path(folder) / "config.yml"
        without_gate.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        print("| pipeline | accuracy | macro F1 | out-of-scope recall | in-scope taken for out-of-scope |")
        print("| --- | --- | --- | --- | --- |")
        rows = rasa_cross_validation(settings, shipped, args.folds, Path(folder) / "shipped")
        print(
            f"| shipped (nlu/config.yml) | {scores([str(r['intent']) for r in rows], [predicted(r) for r in rows])} |"
        )
        rows = rasa_cross_validation(settings, without_gate, args.folds, Path(folder) / "without-gate")
    gold = [str(r["intent"]) for r in rows]
    diet = [predicted(r) for r in rows]
    print(f"| without the gate | {scores(gold, diet)} |")
    for name, probability in gate_probabilities(settings, args.folds).items():
        for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
            gated = [OOS if probability[str(r["text"])] >= threshold else d for r, d in zip(rows, diet, strict=True)]
            print(f"| without the gate + simulated gate: {name}, >= {threshold} | {scores(gold, gated)} |")


if __name__ == "__main__":
    main()
