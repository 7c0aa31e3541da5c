"""Time to handle one quiz answer (button press and typed letter) with SQLite and with PostgreSQL.

    .venv/bin/python -m bench.quiz_answer [--answers 300] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each answer is a full Assistant.handle: load state, score the answer in one transaction (compare-and-set
on the open question, answer row, review card), compose feedback and the next question, save state and
write the conversation log. The knowledge base index comes from the data dir (built on first use).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from bot.messages import Response, UserMessage
from hocvu.app import App, build_app
from hocvu.config import DatabaseSettings, load_settings
from knowledge_base.learning import LETTERS
from tests.support.learning_support import scratch_schema

REPO = Path(__file__).resolve().parent.parent


def answer_payloads(response: Response) -> dict[str, str]:
    return {b.label: b.action for r in response.replies for row in r.buttons for b in row if b.label in LETTERS}


def measure(app: App, count: int) -> dict[str, float]:
    def send(user: str, text: str | None = None, action: str | None = None) -> Response:
        kind = "action" if action else "text"
        return app.assistant.handle(UserMessage("bench", user, text=text or "", action=action, kind=kind))

    results: dict[str, float] = {}
    for mode in ("button", "typed"):
        samples: list[float] = []
        user = f"bench-{mode}"
        response = send(user, "/quiz vneid")
        while len(samples) < count:
            buttons = answer_payloads(response)
            if not buttons:  # the quiz is over: start another
                response = send(user, "/quiz vneid")
                continue
            started = time.perf_counter()
            response = send(user, action=buttons["A"]) if mode == "button" else send(user, "A")
            samples.append((time.perf_counter() - started) * 1000)
        ordered = sorted(samples[10:])  # the first few warm caches and connections
        results[f"{mode}_p50"] = statistics.median(ordered)
        results[f"{mode}_p95"] = ordered[int(0.95 * (len(ordered) - 1))]
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    settings = load_settings(REPO / "config.yml", environ={})
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = build_app(dataclasses.replace(settings, database=DatabaseSettings(url=url)))
        report("SQLite (WAL)", measure(app, args.answers))
    try:
        with scratch_schema(args.postgres, "bench") as url:
            from storage.database import Database

            Database(url).upgrade()
            app = build_app(dataclasses.replace(settings, database=DatabaseSettings(url=url)))
            report("PostgreSQL", measure(app, args.answers))
    except Exception as exc:  # no server here: the SQLite numbers still stand
        print(f"PostgreSQL skipped: {exc}")


def report(name: str, numbers: dict[str, float]) -> None:
    print(
        f"{name}: button p50 {numbers['button_p50']:.1f} ms, p95 {numbers['button_p95']:.1f} ms; "
        f"typed p50 {numbers['typed_p50']:.1f} ms, p95 {numbers['typed_p95']:.1f} ms"
    )


if __name__ == "__main__":
    main()
