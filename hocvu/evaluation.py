"""`hocvu eval`: answer quality on a file of citizen questions, overall and per kind of question."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.assistant import Assistant
from bot.messages import UserMessage
from knowledge_base.evalset import KINDS, EvalItem

# The quality bar the product promises (issue: core targets; raised to issue 17's: off-topic recall 0.95 once
# another country's papers were declined instead of answered with Vietnam's article).
TARGETS = {"hit@1": 0.95, "hit@3": 0.97, "kind_hit@1": 0.92, "fallback_recall": 0.95, "in_scope_fallback_rate": 0.03}
KINDS_WITH_HIT_TARGET = ("diacritics", "no_diacritics", "abbrev_typo", "english", "long", "voice")


@dataclass
class Tally:
    n: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    fallbacks: int = 0  # in-scope questions that got the fallback

    def as_dict(self) -> dict[str, float | int]:
        d = max(self.n, 1)
        return {
            "n": self.n,
            "hit@1": self.hit1 / d,
            "hit@3": self.hit3 / d,
            "mrr": self.rr / d,
            "fallback_rate": self.fallbacks / d,
        }


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    kinds: dict[str, Tally] = field(default_factory=dict)
    off_topic: int = 0
    off_topic_fallback: int = 0
    fallbacks: int = 0
    correct_fallbacks: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        overall = self.overall.as_dict()
        return {
            **overall,
            "in_scope_fallback_rate": overall["fallback_rate"],
            "fallback_precision": self.correct_fallbacks / self.fallbacks if self.fallbacks else 1.0,
            "fallback_recall": self.off_topic_fallback / self.off_topic if self.off_topic else 1.0,
            "off_topic": self.off_topic,
            "kinds": {k: v.as_dict() for k, v in self.kinds.items()},
        }

    def failures(self) -> list[str]:
        """Targets missed, in words; empty when the quality bar is met."""
        d = self.as_dict()
        out = []
        for key in ("hit@1", "hit@3", "fallback_recall"):
            if d[key] < TARGETS[key]:
                out.append(f"{key} {d[key]:.3f} < {TARGETS[key]}")
        if d["in_scope_fallback_rate"] > TARGETS["in_scope_fallback_rate"]:
            out.append(
                f"in-scope fallback rate {d['in_scope_fallback_rate']:.3f} > {TARGETS['in_scope_fallback_rate']}"
            )
        for kind in KINDS_WITH_HIT_TARGET:
            if kind in d["kinds"] and d["kinds"][kind]["hit@1"] < TARGETS["kind_hit@1"]:
                out.append(f"{kind} hit@1 {d['kinds'][kind]['hit@1']:.3f} < {TARGETS['kind_hit@1']}")
        return out


def evaluate(assistant: Assistant, items: Iterable[EvalItem]) -> Report:
    report = Report()
    for number, item in enumerate(items):
        # A fresh user per question: earlier questions must not influence the next one.
        response = assistant.handle(UserMessage("eval", f"eval-{number}", text=item.question))
        # A question declined on purpose (politics, a diagnosis: routes.PHRASES) is refused like the fallback's
        # "I don't know"; the journal keeps the two apart (a decline is no content gap).
        refused = response.fallback or (response.intent or "").startswith("decline_")
        if refused:
            report.fallbacks += 1
            report.correct_fallbacks += item.expects_fallback
        if item.expects_fallback:
            report.off_topic += 1
            report.off_topic_fallback += refused
            if not refused:
                report.misses.append(
                    {
                        "q": item.question,
                        "kind": item.kind,
                        "expect": "fallback",
                        "got": response.article_id,
                        "score": round(response.score, 3),
                    }
                )
            continue
        ranking = list(response.ranking)
        rank = next((i + 1 for i, a in enumerate(ranking) if a in item.expect), None)
        for tally in (report.overall, report.kinds.setdefault(item.kind, Tally())):
            tally.n += 1
            tally.hit1 += rank == 1
            tally.hit3 += rank is not None and rank <= 3
            tally.rr += 1.0 / rank if rank else 0.0
            tally.fallbacks += refused
        if rank != 1 or refused:
            report.misses.append(
                {
                    "q": item.question,
                    "kind": item.kind,
                    "expect": list(item.expect),
                    "got": ranking[:3],
                    "rank": rank,  # of the right article among the top five; None when further down
                    "fallback": refused,
                    "score": round(response.score, 3),
                }
            )
    return report


def format_report(report: Report) -> str:
    d = report.as_dict()
    lines = [
        f"{'kind':<15}{'n':>5}{'Hit@1':>8}{'Hit@3':>8}{'MRR':>8}{'fallback':>10}",
    ]
    for kind in KINDS:
        if kind in d["kinds"]:
            k = d["kinds"][kind]
            lines.append(
                f"{kind:<15}{k['n']:>5}{k['hit@1']:>8.3f}{k['hit@3']:>8.3f}{k['mrr']:>8.3f}{k['fallback_rate']:>10.3f}"
            )
    lines.append(
        f"{'in scope':<15}{d['n']:>5}{d['hit@1']:>8.3f}{d['hit@3']:>8.3f}{d['mrr']:>8.3f}{d['in_scope_fallback_rate']:>10.3f}"
    )
    lines.append(
        f"off-topic questions: {d['off_topic']}  fallback recall: {d['fallback_recall']:.3f}  fallback precision: {d['fallback_precision']:.3f}"
    )
    return "\n".join(lines)
