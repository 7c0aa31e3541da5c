"""Run by `.rasa-venv/bin/python` from tests/test_nlu_rasa.py: exercises the custom Rasa components on
Rasa's own Message and model storage classes, and prints what they did as JSON.

Rasa cannot be imported by the test suite's interpreter, hence a script in Rasa's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.rasa_components.e5_featurizer import E5SentenceFeaturizer
from nlu.rasa_components.folding_tokenizer import FoldingTokenizer
from nlu.rasa_components.out_of_scope_gate import OutOfScopeGate


def tokens(text: str) -> list[dict[str, Any]]:
    tokenizer = FoldingTokenizer({**FoldingTokenizer.get_default_config()})
    message = Message({TEXT: text})
    return [{"text": t.text, "lemma": t.lemma, "start": t.start} for t in tokenizer.tokenize(message, TEXT)]


IN_SCOPE = {
    "next_step": ["tiếp đi", "bước tiếp theo là gì", "xong rồi, tiếp"],
    "ask_question": ["cách đăng ký tài khoản vneid", "quên mật khẩu dịch vụ công", "chuyển tiền qua mã qr thế nào"],
    "change_language": ["chuyển sang tiếng anh", "nói tiếng việt đi"],
    "thanks": ["cảm ơn bạn nhiều", "cám ơn nhé"],
}
OFF_TOPIC = [
    "thời tiết hôm nay thế nào",
    "kể chuyện cười đi",
    "giá vàng hôm nay",
    "công thức nấu phở bò",
    "tối nay đội nào đá bóng",
    "hát cho tôi nghe một bài",
    "bạn bao nhiêu tuổi",
    "xổ số hôm nay về số mấy",
]


def message(text: str, intent: str | None = None) -> Message:
    return Message({TEXT: text, **({INTENT: intent} if intent else {})})


def gate_results(e5_model: str) -> dict[str, Any]:
    context = ExecutionContext(GraphSchema({}), "gate")
    featurizer = E5SentenceFeaturizer(
        {**E5SentenceFeaturizer.get_default_config(), "alias": "e5", "model": e5_model}, "e5"
    )
    config = {"model": e5_model}
    with tempfile.TemporaryDirectory() as folder:
        storage = LocalModelStorage(Path(folder))
        resource = Resource("gate")
        examples = [message(t, intent) for intent, texts in IN_SCOPE.items() for t in texts]
        examples += [message(t, "out_of_scope") for t in OFF_TOPIC]
        featurizer.process(examples)
        OutOfScopeGate.create(config, storage, resource, context).train(TrainingData(examples))
        gate = OutOfScopeGate.load(config, storage, resource, context)
        diet_says = {"name": "feedback_negative", "confidence": 0.99}
        texts = [
            "dự báo thời tiết ngày mai ở hà nội",
            "công thức làm bánh flan",
            "cach dang ky tai khoan vneid",
            "tiep di",
        ]
        parsed = [message(t) for t in texts]
        featurizer.process(parsed)
        for m in parsed:
            m.set(INTENT, dict(diet_says), add_to_output=True)
            m.set("intent_ranking", [dict(diet_says)], add_to_output=True)
        gate.process(parsed)
        untrained = OutOfScopeGate.load(config, LocalModelStorage(Path(folder) / "empty"), Resource("none"), context)
        left_alone = message(texts[0])
        featurizer.process([left_alone])
        left_alone.set(INTENT, dict(diet_says), add_to_output=True)
        untrained.process([left_alone])
        refused = []
        for bad in ({"threshold": 0.3}, {"threshold": "high"}, {"threshold": 0.8}):
            try:
                OutOfScopeGate.create(bad, storage, resource, context)
            except InvalidConfigException as exc:
                refused.append(str(exc))
        try:
            OutOfScopeGate.create({**config, "featurizer": "other"}, storage, Resource("g2"), context).train(
                TrainingData(examples)
            )
        except InvalidConfigException as exc:
            refused.append(str(exc))
        return {
            "parsed": {
                m.get(TEXT): {
                    "intent": m.get(INTENT),
                    "ranking": [(r["name"], r["confidence"]) for r in m.get("intent_ranking")],
                }
                for m in parsed
            },
            "untrained": left_alone.get(INTENT),
            "refused": refused,
        }


if __name__ == "__main__":
    report = {
        "tokens": {text: tokens(text) for text in sys.argv[1:]},
        "gate": gate_results(os.environ["HOCVU_E5_MODEL"]),
    }
    print(json.dumps(report, ensure_ascii=False))
