"""Rasa Open Source as an NLU engine, over HTTP (`POST /model/parse`), with the standard library only.

Rasa cannot share the app's environment (it pins SQLAlchemy < 1.5, numpy < 1.24, Python < 3.11), so it
runs as its own process (`hocvu nlu serve`, see nlu/rasa_server.py). Any failure here (refused
connection, timeout, HTTP error, a body that is not a parse result) raises `NLUUnavailable`; the
`FallbackEngine` in nlu/fallback.py turns that into an answer from the embedded engine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from language.query import Query
from nlu.engine import INTENTS, Entity, IntentResult, NLUUnavailable

# Rasa's FallbackClassifier predicts this when no intent is confident: the message goes to retrieval.
RASA_FALLBACK_INTENT = "nlu_fallback"


def parse_rasa_response(body: bytes) -> IntentResult:
    """Validate a `/model/parse` body; anything unexpected is NLUUnavailable, never a guess."""
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NLUUnavailable(f"Rasa returned a body that is not JSON: {body[:80]!r}") from exc
    intent = data.get("intent") if isinstance(data, dict) else None
    if not isinstance(intent, dict):
        raise NLUUnavailable(f"Rasa returned no intent: {body[:80]!r}")
    name, confidence = intent.get("name"), intent.get("confidence")
    if not isinstance(name, str) or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise NLUUnavailable(f"Rasa returned a malformed intent: {intent!r:.80}")
    if not 0.0 <= float(confidence) <= 1.0:
        raise NLUUnavailable(f"Rasa returned confidence {confidence!r} outside 0..1")
    if name == RASA_FALLBACK_INTENT:
        name = "ask_question"
    elif name not in INTENTS:
        raise NLUUnavailable(f"Rasa returned unknown intent {name!r}: is the model trained on another data set?")
    entities: list[Entity] = []
    raw_entities = data.get("entities") or []
    if isinstance(raw_entities, list):
        for item in raw_entities:
            if isinstance(item, dict) and isinstance(item.get("entity"), str) and item.get("value") is not None:
                entities.append(Entity(item["entity"], str(item["value"]).casefold()))
    return IntentResult(name, float(confidence), tuple(dict.fromkeys(entities)), "rasa")


class RasaEngine:
    """A client of a running Rasa server; raises NLUUnavailable instead of waiting or guessing."""

    name = "rasa"

    def __init__(self, url: str, *, timeout: float, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _endpoint(self, path: str) -> str:
        query = f"?{urllib.parse.urlencode({'token': self.token})}" if self.token else ""
        return f"{self.url}{path}{query}"

    def warm_up(self) -> None:
        """Nothing to load in-process; whether the server is up is checked per message."""
        return None

    def status(self) -> dict[str, Any]:
        """GET /status: the loaded model, or NLUUnavailable."""
        try:
            with urllib.request.urlopen(self._endpoint("/status"), timeout=self.timeout) as response:
                data = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise NLUUnavailable(f"Rasa at {self.url} is not reachable: {exc}") from exc
        if not isinstance(data, dict):
            raise NLUUnavailable(f"Rasa at {self.url} returned an unexpected status: {data!r:.80}")
        return data

    def parse(self, query: Query) -> IntentResult:
        # The cleaned text: abbreviations expanded, diacritics kept as typed, like the training examples.
        payload = json.dumps({"text": query.text.clean}).encode()
        request = urllib.request.Request(
            self._endpoint("/model/parse"), data=payload, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise NLUUnavailable(f"Rasa answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:  # refused, reset, timeout (TimeoutError is an OSError)
            raise NLUUnavailable(f"Rasa at {self.url} did not answer: {exc}") from exc
        return parse_rasa_response(body)
