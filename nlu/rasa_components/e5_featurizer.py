"""The app's multilingual-e5-small query vector as a dense sentence feature for Rasa's DIETClassifier.

Count-vector features only know the n-grams of the training examples: an off-topic sentence that shares
none of them ("thuoc tri ho cho tre em") gets whatever intent DIET's weights lean to, often with high
confidence. The e5 vector places it by meaning, near the out_of_scope examples, which is what gives the
embedded engine its out-of-scope recall.

The vectors are exactly the app's (`OnnxE5Embedder` on `normalize(text).clean`, the text `Query.vector`
embeds), computed here in Rasa's process for the training examples and for every parsed message. Only a
sentence feature: the ONNX graph pools inside, so there are no per-token vectors, and DIET combines a
sentence-only dense feature with the sparse sequence features on its own (entities still come from
those).

Rasa imports this module inside `.rasa-venv` (Python 3.10, numpy < 1.24) with the repository root on
PYTHONPATH (nlu/rasa_server.py), so it may import only the app's numpy/onnxruntime and pure-Python
modules. The model folder is the pipeline's `model` option, `${HOCVU_E5_MODEL}` in nlu/config.yml, which
the composition root sets for `rasa train` and `rasa run`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from embeddings.onnx_e5 import OnnxE5Embedder
from embeddings.onnx_export import INFO_FILE, is_built
from language.normalize import NORMALIZER_VERSION, normalize

MODEL = "model"
THREADS = "threads"


def check_model_folder(component: str, config: dict[str, Any]) -> Path:
    """The e5 folder in a component's `model` option, or InvalidConfigException saying what to do."""
    folder = config.get(MODEL)
    if not folder:
        raise InvalidConfigException(
            f"{component} needs '{MODEL}': the folder of the int8 ONNX e5 model "
            "(hocvu sets HOCVU_E5_MODEL for `rasa train` and `rasa run`)"
        )
    if not is_built(Path(folder)):
        raise InvalidConfigException(
            f"{component}: no ONNX e5 model of the current format in {folder}: run `hocvu model export-onnx`"
        )
    return Path(folder)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the e5 query vector of each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), MODEL: None, THREADS: 1}

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        check_model_folder(cls.__name__, config)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's training cache keys on this class's source and config; a rebuilt model of another format
        # or another normaliser changes the vectors without changing either.
        folder = Path(config[MODEL]) if config.get(MODEL) else None
        info = (folder / INFO_FILE).read_text(encoding="utf-8") if folder and (folder / INFO_FILE).is_file() else ""
        return json.dumps({"model": info, "normalizer": NORMALIZER_VERSION}, sort_keys=True)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.embedder = OnnxE5Embedder(Path(config[MODEL]), threads=int(config[THREADS]))
        self.embedder.warm_up()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context.node_name)

    def process(self, messages: list[Message]) -> list[Message]:
        featurized = [m for m in messages if isinstance(m.get(TEXT), str)]
        if not featurized:
            return messages
        vectors = self.embedder.embed_queries([normalize(m.get(TEXT)).clean for m in featurized])
        for message, vector in zip(featurized, vectors, strict=True):
            message.add_features(Features(vector[None, :], FEATURE_TYPE_SENTENCE, TEXT, self._identifier))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
