"""Replays multi-turn dialogues through the real assistant and scores each turn against its expectations.

    .venv/bin/python -m bench.replay [FILE ...] [--memory] [--misses] [--json]

FILE is YAML (default tests/dialogues/conversations.yml): a list of
`{dialogue, persona, lang, turns: [{say, expect: {...}}]}`. Expectations are judged on what a user gets: the
rendered text, the buttons, the response's metadata (its article, language, fallback flag, handover), never
on how the core decided:
  article: ID      the reply answers with that article (Response.article_id)
  step: N          the reply shows step N ("Bước N/.." or "Step N/..")
  repeat_step: N   step N shown again right after it was shown, with something more (a tip, "slowly")
  contains: [..]   the reply (text or a button) contains one of these, case-insensitively
  fallback: true   the honest "I don't know"
  handover: true   a person is offered, or where to find one is said
  declined: true   politely declined (politics, religion, other people's data)
  closed: true     the open flow was closed
  quiz: true       a quiz question is shown (its lettered options)
  lang: vi|en      the reply's language; without it, every reply must be in the dialogue's language
  role_intent: X   a volunteer's or official's request (stats, broadcast, share, volunteer) answered as such

Each dialogue is a new user on the terminal channel's core path (text in, no numbered-button mapping). The
app stores state in a throw-away SQLite database (quizzes need one), or in memory with --memory. Reported:
turns correct overall and by kind of expectation, the median length of the first reply to a question about a
procedure (an `article:` turn whose article has steps), and answer latency p50/p95 on one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import actions
from bot.assistant import Assistant
from bot.messages import Response, UserMessage
from knowledge_base.articles import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO / "tests" / "dialogues" / "conversations.yml"
KINDS = (
    "article",
    "step",
    "repeat_step",
    "contains",
    "fallback",
    "handover",
    "declined",
    "closed",
    "quiz",
    "lang",
    "role_intent",
)
_STEP = re.compile(r"(?:Bước|Step) (\d+)/(\d+)")
_OPTIONS = re.compile(r"^A\. .+\n(?:.*\n)*?^B\. ", re.MULTILINE)
# Where a person can be found, as the replies say it: a volunteer, the local contacts, the commune's offices.
PERSON_MARKERS = (
    "/volunteer",
    "tình nguyện viên",
    "volunteer",
    "ủy ban nhân dân",
    "people's committee",
    "hành chính công",
    "administrative service",
    "công an xã",
    "commune police",
    "tổ công nghệ số",
    "digital technology team",
)


@dataclass(frozen=True)
class Turn:
    say: str
    expect: dict[str, Any]


@dataclass(frozen=True)
class Dialogue:
    name: str
    persona: str
    lang: str
    turns: tuple[Turn, ...]


def load_dialogues(path: Path) -> list[Dialogue]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    dialogues = []
    for entry in raw:
        turns = tuple(Turn(str(t["say"]), dict(t.get("expect") or {})) for t in entry["turns"])
        unknown = {k for t in turns for k in t.expect} - set(KINDS)
        if unknown:
            raise ValueError(f"{path}: dialogue {entry['dialogue']!r} has unknown expectations {sorted(unknown)}")
        dialogues.append(Dialogue(entry["dialogue"], str(entry.get("persona", "")), entry.get("lang", "vi"), turns))
    return dialogues


def shown_step(response: Response) -> int | None:
    """The step number the rendered reply shows, the last one if several."""
    found = _STEP.findall(response.plain_text())
    return int(found[-1][0]) if found else None


def _everything(response: Response) -> str:
    labels = " ".join(b.label for r in response.replies for row in r.buttons for b in row)
    return f"{response.plain_text()}\n{labels}".casefold()


def _is_quiz(response: Response) -> bool:
    payloads = [b.action for r in response.replies for row in r.buttons for b in row]
    verbs = {actions.decode(p).verb for p in payloads if p.startswith(actions.VERSION + ":")}
    return actions.Verb.QUIZ_ANSWER in verbs or bool(_OPTIONS.search(response.plain_text()))


def check(kind: str, wanted: Any, response: Response, previous_step: int | None) -> bool:
    """Whether the response meets one expectation."""
    checks: dict[str, Callable[[], bool]] = {
        "article": lambda: response.article_id == wanted,
        "step": lambda: shown_step(response) == int(wanted),
        "repeat_step": lambda: shown_step(response) == int(wanted) == previous_step and len(response.replies) > 1,
        "contains": lambda: any(
            str(w).casefold() in _everything(response) for w in (wanted if isinstance(wanted, list) else [wanted])
        ),
        "fallback": lambda: response.fallback == bool(wanted),
        "handover": lambda: (
            (response.handover is not None or any(p in _everything(response) for p in PERSON_MARKERS)) == bool(wanted)
        ),
        "declined": lambda: (response.intent or "").startswith("decline_") == bool(wanted),
        "closed": lambda: (response.intent == "stop") == bool(wanted),
        "quiz": lambda: _is_quiz(response) == bool(wanted),
        "lang": lambda: response.lang == wanted,
        "role_intent": lambda: response.intent in (wanted, f"role_{wanted}"),  # stats, broadcast: the features
    }
    return checks[kind]()


@dataclass
class TurnResult:
    dialogue: str
    say: str
    expect: dict[str, Any]
    failed: list[str]
    ms: float
    chars: int
    reply: str


@dataclass
class Report:
    results: list[TurnResult] = field(default_factory=list)
    procedure_first_replies: list[int] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.results)

    @property
    def correct(self) -> int:
        return sum(1 for r in self.results if not r.failed)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind → (turns meeting it, turns expecting it); `lang` counts every turn (the dialogue's language)."""
        counts: dict[str, list[int]] = {}
        for r in self.results:
            for kind in {*r.expect, "lang"}:
                entry = counts.setdefault(kind, [0, 0])
                entry[1] += 1
                entry[0] += kind not in r.failed
        return {k: (v[0], v[1]) for k, v in sorted(counts.items())}

    def latency(self) -> tuple[float, float]:
        ordered = sorted(r.ms for r in self.results)
        return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]

    def summary(self) -> dict[str, Any]:
        p50, p95 = self.latency()
        firsts = self.procedure_first_replies
        return {
            "turns": self.turns,
            "correct": self.correct,
            "correct_percent": round(100 * self.correct / max(1, self.turns), 1),
            "by_kind": {
                k: {"correct": c, "turns": n, "percent": round(100 * c / n, 1)} for k, (c, n) in self.by_kind().items()
            },
            "procedure_first_reply_chars_median": statistics.median(firsts) if firsts else None,
            "procedure_first_reply_chars_max": max(firsts) if firsts else None,
            "procedure_first_replies": len(firsts),
            "latency_ms_p50": round(p50, 2),
            "latency_ms_p95": round(p95, 2),
        }


def replay(assistant: Assistant, kb: KnowledgeBase, dialogues: Iterable[Dialogue], channel: str = "terminal") -> Report:
    report = Report()
    for number, dialogue in enumerate(dialogues):
        user = f"replay-{number}-{dialogue.name}"
        previous_step: int | None = None
        answered: set[str] = set()
        for turn in dialogue.turns:
            started = time.perf_counter()
            response = assistant.handle(UserMessage(channel, user, text=turn.say))
            ms = (time.perf_counter() - started) * 1000
            expect = dict(turn.expect)
            expect.setdefault("lang", dialogue.lang)
            failed = [kind for kind, wanted in expect.items() if not check(kind, wanted, response, previous_step)]
            text = response.plain_text()
            report.results.append(TurnResult(dialogue.name, turn.say, turn.expect, failed, ms, len(text), text))
            # The first reply to a question about a procedure: the article answered for the first time in the
            # dialogue, not as a step, a follow-up's part or its full text asked for later.
            article = response.article_id
            if article is not None and article not in answered and shown_step(response) is None:
                answered.add(article)
                if turn.expect.get("article") == article and kb.get(article, dialogue.lang).steps:
                    report.procedure_first_replies.append(len(text))
            previous_step = shown_step(response)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=[DEFAULT_FILE])
    parser.add_argument("--memory", action="store_true", help="keep state in memory: no database, so no quizzes")
    parser.add_argument("--misses", action="store_true", help="list the turns that missed an expectation")
    parser.add_argument("--json", action="store_true", help="the summary as one JSON object")
    args = parser.parse_args(argv)

    from hocvu.app import build_app
    from hocvu.config import load_settings

    dialogues = [d for path in args.files for d in load_dialogues(path)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings()
        secrets = {**settings.secrets, "DATABASE_URL": f"sqlite:///{tmp}/replay.db"}
        secrets.setdefault("HOCVU_SECRET_KEY", "replay-only-signing-key-0123456789-abcdefgh")
        settings = dataclasses.replace(settings, secrets=secrets)
        app = build_app(settings, database=not args.memory)
        for text in ("xin chào", "cach dang ky vneid muc 2", "tiếp"):  # load what loads lazily
            app.assistant.handle(UserMessage("terminal", "warm-up", text=text))
        report = replay(app.assistant, app.kb, dialogues)
        if app.database is not None:
            app.database.dispose()
    summary = {"files": [str(p) for p in args.files], "dialogues": len(dialogues), **report.summary()}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{summary['dialogues']} dialogues, {report.turns} turns: {summary['correct_percent']} % correct")
        for kind, (correct, turns) in report.by_kind().items():
            print(f"  {kind:12} {correct:4}/{turns:<4} {100 * correct / turns:5.1f} %")
        print(
            f"first reply to a procedure question: median {summary['procedure_first_reply_chars_median']} characters "
            f"(max {summary['procedure_first_reply_chars_max']}, {summary['procedure_first_replies']} replies)"
        )
        print(f"latency: p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms")
    if args.misses:
        for r in report.results:
            if r.failed:
                reply = " ".join(r.reply.split())[:160]
                print(
                    f"- [{r.dialogue}] {r.say!r} expected {r.expect} failed {r.failed}\n    got: {reply}",
                    file=sys.stderr,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
