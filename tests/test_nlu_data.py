"""The Rasa-format NLU data: loads for both engines, and a broken file names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from language.normalize import fold
from nlu.engine import INTENTS
from nlu.training_data import TrainingDataError, load_training_data, parse_annotated
from tests.support.nlu_files import HELD_OUT_FILES, TRAIN


def write(tmp_path: Path, text: str, name: str = "nlu.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_training_data_covers_every_intent_with_enough_examples() -> None:
    data = load_training_data(TRAIN)
    grouped = data.by_intent()
    assert set(grouped) == set(INTENTS)
    for intent, examples in grouped.items():
        assert len(examples) >= 35, f"{intent}: {len(examples)} examples"
    assert {"topic", "lesson", "option", "language"} <= {s.name for e in data.examples for s in e.entities}
    assert data.synonyms["tieng anh"] == "en"
    assert "vneid" in data.lookups["topic"]


@pytest.mark.parametrize("held_out_file", HELD_OUT_FILES, ids=lambda p: p.name)
def test_held_out_set_shares_no_sentence_with_training(held_out_file: Path) -> None:
    train = {fold(e.text).strip() for e in load_training_data(TRAIN).examples}
    held_out = load_training_data(held_out_file)
    copies = [e.text for e in held_out.examples if fold(e.text).strip() in train]
    assert copies == []
    assert set(held_out.by_intent()) == set(INTENTS)


def test_annotations_are_stripped_and_mapped() -> None:
    plain, spans = parse_annotated('làm quiz về [lừa đảo]{"entity": "topic", "value": "online_safety"} nhé')
    assert plain == "làm quiz về lừa đảo nhé"
    assert spans == [("topic", "online_safety", "lừa đảo", 12, 19)]
    plain, spans = parse_annotated("chọn [B](option)")
    assert (plain, spans) == ("chọn B", [("option", None, "B", 5, 6)])


def test_unknown_intent_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - xin chào\n- intent: say_hello\n  examples: |\n    - hi\n',
    )
    with pytest.raises(TrainingDataError) as caught:
        load_training_data(path)
    assert f"{path}:6: unknown intent 'say_hello'" in str(caught.value)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - xin chào\n  - bad: [\n')
    with pytest.raises(TrainingDataError) as caught:
        load_training_data(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:") and "invalid YAML" in message
    line = int(message.split(":")[1])
    assert 5 <= line <= 7


def test_example_problems_name_their_own_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - xin chào\n    chào bạn\n'
        "    - [hà nội](city)\n- intent: thanks\n  examples: |\n    - Xin chào\n",
    )
    with pytest.raises(TrainingDataError) as caught:
        load_training_data(path)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:6: example must start with '- '") for p in problems)
    assert any(p.startswith(f"{path}:7: unknown entity 'city'") for p in problems)
    assert any(p.startswith(f"{path}:10: 'Xin chào' is also an example of 'greet'") for p in problems)


def test_missing_file_and_missing_sections(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="training data file not found"):
        load_training_data(tmp_path / "absent.yml")
    with pytest.raises(TrainingDataError, match=r":1: missing 'version'"):
        load_training_data(write(tmp_path, "nlu:\n- intent: greet\n  examples: |\n    - hi\n"))
    with pytest.raises(TrainingDataError, match="has no 'examples'"):
        load_training_data(write(tmp_path, 'version: "3.1"\nnlu:\n- intent: greet\n'))
