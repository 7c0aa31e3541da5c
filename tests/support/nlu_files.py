"""Where the NLU tests find the training data, the held-out files and real citizen questions."""

from __future__ import annotations

from pathlib import Path

import yaml

NLU = Path(__file__).resolve().parents[2] / "nlu"
TRAIN = NLU / "data" / "nlu.yml"
# The held-out file, and a second one written later by someone who had not seen the training data.
HELD_OUT_FILES = [NLU / "eval" / "test_nlu.yml", NLU / "eval" / "independent_nlu.yml"]

# A confident out_of_scope still gets a confident retrieval answer (bot/assistant.py); any other intent
# above the threshold replaces the answer by an action.
ANSWERED = {"ask_question", "out_of_scope"}


def citizen_questions() -> list[str]:
    """The knowledge base's evaluation questions that have an answer: real questions, never commands."""
    folder = NLU.parent / "knowledge_base" / "eval"
    return [
        item["q"]
        for name in ("dev.yml", "test.yml")
        for item in yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        if item.get("expect") not in ("fallback", [], None)
    ]
