"""Where the NLU tests find the training data and the held-out files."""

from __future__ import annotations

from pathlib import Path

NLU = Path(__file__).resolve().parent.parent / "nlu"
TRAIN = NLU / "data" / "nlu.yml"
# The held-out file, and a second one written later by someone who had not seen the training data.
HELD_OUT_FILES = [NLU / "eval" / "test_nlu.yml", NLU / "eval" / "independent_nlu.yml"]
