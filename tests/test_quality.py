"""The quality bar on the held-out evaluation set: CI fails when answers get worse.

The test set is only measured here, never tuned on (thresholds are calibrated on dev.yml).
"""

from __future__ import annotations

import pytest

from hocvu.app import App
from hocvu.evaluation import evaluate, format_report
from knowledge_base.evalset import EvalItem, load_eval

pytestmark = pytest.mark.slow


def held_out(app: App) -> list[EvalItem]:
    items, problems = load_eval(app.settings.eval_dir / "test.yml", app.kb)
    assert problems == []
    return items


def test_held_out_questions_meet_the_quality_targets(real_app: App) -> None:
    items = held_out(real_app)
    assert len(items) >= 300
    report = evaluate(real_app.assistant, items)
    assert report.failures() == [], format_report(report)


def test_every_kind_of_question_is_in_the_test_set(real_app: App) -> None:
    kinds = {item.kind for item in held_out(real_app)}
    assert kinds == {"diacritics", "no_diacritics", "abbrev_typo", "english", "off_topic", "sensitive"}
