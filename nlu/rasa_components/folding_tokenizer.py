"""Rasa's WhitespaceTokenizer with each token's lemma in the app's matching form: abbreviations expanded,
lower-cased, diacritics stripped.

Vietnamese is typed with and without diacritics ("bạn tên là gì", "ban ten gi vay"). On the tokens as
typed, the two spellings share almost no word or character n-gram, so CountVectorsFeaturizer (which
counts lemmas by default) sees an unaccented message as new words; and e5 barely relates the two either
(docs/retrieval.md). The embedded engine's n-grams are taken from the folded text for this reason; this
gives DIET's count features the same view.

The app sends Rasa the normalised text (abbreviations expanded), while training examples keep "ko", "dc",
"bn" as written; expanding here makes both sides count the same words. Token text and offsets stay as
typed, so entity annotations and extracted values are unchanged.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from language.normalize import NORMALIZER_VERSION, expand_abbreviations, fold, normalize


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the folded, abbreviation-expanded word."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's training cache keys on this class's source and config; the folding lives in the normaliser.
        return f"normalizer {NORMALIZER_VERSION}"

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens  # intent and action names are labels, not words
        # As normalize() does: abbreviations are Vietnamese chat, so English text keeps "k" and "r" as typed.
        expand = normalize(message.get(TEXT) or "").lang == "vi"
        for token in tokens:
            token.lemma = fold(expand_abbreviations(token.text) if expand else token.text) or token.text
        return tokens
