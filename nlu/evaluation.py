"""Intent quality on a held-out file, counted the way users experience it: an intent below the confidence
threshold is not acted on, so it counts as `ask_question` (the message goes to retrieval)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from embeddings.embedder import Embedder
from language.normalize import normalize
from language.query import Query
from nlu.engine import NLUEngine
from nlu.training_data import Example

TARGET_ACCURACY = 0.95
TARGET_OUT_OF_SCOPE_RECALL = 0.90


@dataclass
class NLUReport:
    engine: str
    threshold: float
    total: int
    accuracy: float
    macro_f1: float
    out_of_scope_recall: float
    per_intent: dict[str, dict[str, float]]
    misses: list[dict[str, Any]] = field(default_factory=list)
    parse_ms_p50: float = 0.0

    @classmethod
    def from_labels(
        cls,
        engine: str,
        threshold: float,
        gold: Sequence[str],
        predicted: Sequence[str],
        *,
        misses: list[dict[str, Any]] | None = None,
        parse_ms_p50: float = 0.0,
    ) -> NLUReport:
        """Scores from the expected and the effective intents, one pair per message."""
        labels = sorted(set(gold) | set(predicted))
        true_positive = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
        gold_count = Counter(gold)
        predicted_count = Counter(predicted)
        per_intent: dict[str, dict[str, float]] = {}
        for label in labels:
            tp = true_positive[label]
            precision = tp / predicted_count[label] if predicted_count[label] else 0.0
            recall = tp / gold_count[label] if gold_count[label] else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            per_intent[label] = {
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "support": gold_count[label],
            }
        scored = [per_intent[label]["f1"] for label in labels if gold_count[label]]
        total = len(gold)
        return cls(
            engine=engine,
            threshold=threshold,
            total=total,
            accuracy=sum(true_positive.values()) / total if total else 0.0,
            macro_f1=sum(scored) / len(scored) if scored else 0.0,
            out_of_scope_recall=per_intent.get("out_of_scope", {}).get("recall", 0.0),
            per_intent=per_intent,
            misses=misses or [],
            parse_ms_p50=parse_ms_p50,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "threshold": self.threshold,
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "out_of_scope_recall": round(self.out_of_scope_recall, 4),
            "parse_ms_p50": round(self.parse_ms_p50, 2),
            "per_intent": self.per_intent,
            "misses": self.misses,
        }

    def failures(self) -> list[str]:
        out = []
        if self.accuracy < TARGET_ACCURACY:
            out.append(f"accuracy {self.accuracy:.3f} < {TARGET_ACCURACY}")
        if self.out_of_scope_recall < TARGET_OUT_OF_SCOPE_RECALL:
            out.append(f"out_of_scope_recall {self.out_of_scope_recall:.3f} < {TARGET_OUT_OF_SCOPE_RECALL}")
        return out


def effective_intent(intent: str, confidence: float, threshold: float) -> str:
    return intent if confidence >= threshold else "ask_question"


def evaluate(engine: NLUEngine, examples: Sequence[Example], embedder: Embedder, threshold: float) -> NLUReport:
    gold: list[str] = []
    predicted: list[str] = []
    misses: list[dict[str, Any]] = []
    timings: list[float] = []
    for example in examples:
        query = Query(normalize(example.text), embedder)
        _ = query.vector  # the embedding is shared with retrieval; time the engine's own work only
        started = time.perf_counter()
        result = engine.parse(query)
        timings.append((time.perf_counter() - started) * 1000)
        label = effective_intent(result.intent, result.confidence, threshold)
        gold.append(example.intent)
        predicted.append(label)
        if label != example.intent:
            misses.append(
                {
                    "text": example.text,
                    "expected": example.intent,
                    "got": result.intent,
                    "confidence": round(result.confidence, 3),
                    "line": example.line,
                }
            )
    timings.sort()
    return NLUReport.from_labels(
        getattr(engine, "name", type(engine).__name__),
        threshold,
        gold,
        predicted,
        misses=misses,
        parse_ms_p50=timings[len(timings) // 2] if timings else 0.0,
    )


def format_report(report: NLUReport) -> str:
    lines = [
        f"engine {report.engine}, {report.total} held-out messages, intent threshold {report.threshold}",
        f"accuracy {report.accuracy:.3f}  macro F1 {report.macro_f1:.3f}  "
        f"out-of-scope recall {report.out_of_scope_recall:.3f}  parse p50 {report.parse_ms_p50:.2f} ms",
        f"{'intent':<20}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>5}",
    ]
    for intent, row in report.per_intent.items():
        lines.append(
            f"{intent:<20}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{int(row['support']):>5}"
        )
    return "\n".join(lines)
