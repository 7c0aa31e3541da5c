"""An out-of-scope detector run after DIET: it can only turn DIET's answer into `out_of_scope`.

DIET is confidently wrong on off-topic messages that look like nothing it was trained on: it must pick
one of the intents it knows, and its n-gram features give it no sense of distance. The gate is a softmax
regression over every intent on the e5 sentence vector (meaning) plus hashed n-grams of the folded text
(nlu/lexical.py: "chuyen sang tieng anh" matches "chuyển sang tiếng anh" word for word), classes
balanced; only its probability of `out_of_scope` is used. When that is at least `threshold`, the
message's intent becomes `out_of_scope` with that probability as its confidence, and DIET's ranking is
scaled by the probability of the rest; the app then answers from the knowledge base only if retrieval
is confident (bot/assistant.py).

e5 relates a sentence typed without diacritics poorly to its accented form, so the gate also trains on
every example's folded copy (the e5 vector of the text without diacritics, same label). That takes the e5
model at training time (`model`); parsing reads the featurizer's vector.

The design (e5 alone or with n-grams, two classes or all intents, with or without folded copies) and the
threshold, 0.8, were chosen by 3-fold cross-validation on the training data only (docs/benchmarks.md,
NLU). It is above the app's intent threshold, so a gated message is always acted on as out-of-scope.

Imported by Rasa inside `.rasa-venv` (Python 3.10, numpy < 1.24), like the other components here.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from embeddings.onnx_e5 import OnnxE5Embedder
from language.normalize import normalize
from nlu.lexical import lexical_features
from nlu.rasa_components import APP_CODE
from nlu.rasa_components.e5_featurizer import MODEL, E5SentenceFeaturizer, check_model_folder
from nlu.softmax import Matrix, softmax, train_softmax_regression

log = logging.getLogger(__name__)

THRESHOLD = "threshold"
FEATURIZER = "featurizer"
OUT_OF_SCOPE = "out_of_scope"
WEIGHTS_FILE = "gate.npz"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OutOfScopeGate(IntentClassifier, GraphComponent):
    """Overrides the intent with out_of_scope when the message's meaning and words say it is off-topic."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # `featurizer`: the alias of the dense featurizer whose sentence vector the gate reads.
        # `model`: the e5 folder, for the folded copies at training time (the featurizer's `model`).
        return {THRESHOLD: 0.8, FEATURIZER: "e5", MODEL: None}

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's training cache keys on this class's source and config only: the folded copies' vectors
        # and the app code the gate trains with can change without either.
        code = hashlib.sha256(b"".join(path.read_bytes() for path in APP_CODE))
        return f"{E5SentenceFeaturizer.fingerprint_addon(config)}\0{code.hexdigest()}"

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        threshold = config.get(THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.5 <= threshold <= 1.0:
            raise InvalidConfigException(
                f"{cls.__name__}: '{THRESHOLD}' must be a number from 0.5 to 1, not {threshold!r}"
            )
        check_model_folder(cls.__name__, config)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Matrix | None = None,
        bias: Matrix | None = None,
        out_of_scope: int = 0,
    ) -> None:
        # Rasa merges the defaults in before it calls create/load; direct callers (tests) may not.
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self._model_storage = model_storage
        self._resource = resource
        self._weights = weights
        self._bias = bias
        self._out_of_scope = out_of_scope  # its column in the weights

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfScopeGate:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfScopeGate:
        try:
            with model_storage.read_from(resource) as folder, np.load(folder / WEIGHTS_FILE) as saved:
                return cls(config, model_storage, resource, saved["weights"], saved["bias"], int(saved["out_of_scope"]))
        except (ValueError, OSError):
            # Rasa loads every component, trained or not; an untrained gate leaves DIET's answers alone.
            log.warning("%s: no trained weights in the model; out-of-scope gating is off", cls.__name__)
            return cls(config, model_storage, resource)

    def _vector(self, message: Message) -> Matrix | None:
        _, sentence = message.get_dense_features(TEXT, [self.config[FEATURIZER]])
        return None if sentence is None else np.asarray(sentence.features, dtype=np.float32).reshape(-1)

    def train(self, training_data: TrainingData) -> Resource:
        vectors, lexical, intents, texts = [], [], [], []  # texts: folded
        for example in training_data.intent_examples:
            vector = self._vector(example)
            if vector is not None:
                text = normalize(example.get(TEXT)).folded
                vectors.append(vector)
                lexical.append(lexical_features(text))
                intents.append(example.get(INTENT))
                texts.append(text)
        if not vectors:
            raise InvalidConfigException(
                f"{type(self).__name__}: no training example has a dense sentence feature from featurizer "
                f"'{self.config[FEATURIZER]}': give the e5 featurizer that alias and put it before the gate"
            )
        if OUT_OF_SCOPE not in intents or len(set(intents)) < 2:
            raise InvalidConfigException(
                f"{type(self).__name__}: the training data needs examples of '{OUT_OF_SCOPE}' and of other intents"
            )
        embedder = OnnxE5Embedder(check_model_folder(type(self).__name__, self.config))
        embedder.warm_up()
        folded = np.vstack([embedder.embed_queries(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        features = np.hstack([np.vstack([*vectors, *folded]), np.vstack(lexical * 2)]).astype(np.float32)
        names = sorted(set(intents))
        labels = np.array([names.index(i) for i in intents] * 2, dtype=np.int64)
        self._weights, self._bias = train_softmax_regression(features, labels, len(names))
        self._out_of_scope = names.index(OUT_OF_SCOPE)
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / WEIGHTS_FILE, weights=self._weights, bias=self._bias, out_of_scope=self._out_of_scope)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._weights is None or self._bias is None:
            return messages
        for message in messages:
            vector = self._vector(message)
            if vector is None:
                continue
            features = np.concatenate([vector, lexical_features(normalize(message.get(TEXT) or "").folded)])
            off_topic = float(softmax(features @ self._weights + self._bias)[self._out_of_scope])
            current = message.get(INTENT) or {}
            if off_topic < self.config[THRESHOLD] or current.get(INTENT_NAME_KEY) == OUT_OF_SCOPE:
                continue
            gated = {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: off_topic}
            # DIET's intents keep their order with P(intent) = P(in scope) * P_DIET(intent). Left at DIET's
            # own confidences (often near 1), they would sit within FallbackClassifier's ambiguity margin of
            # the gated intent and turn every gated message into nlu_fallback.
            in_scope = 1.0 - off_topic
            ranking = [
                {**r, PREDICTED_CONFIDENCE_KEY: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * in_scope}
                for r in message.get(INTENT_RANKING_KEY) or []
                if r.get(INTENT_NAME_KEY) != OUT_OF_SCOPE
            ]
            message.set(INTENT, gated, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [gated, *ranking], add_to_output=True)
        return messages
